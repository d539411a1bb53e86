"""Mutation score of the rules core (guichet/rules/), with mutmut and the unit tests of tests/rules.

Run from the project root:  make mutation            (every module, from a clean mutants/ folder)
                            .venv/bin/python benchmarks/mutation.py --modules money siret
                            .venv/bin/python benchmarks/mutation.py --report-only

mutmut (configured in pyproject.toml, [tool.mutmut]) copies the package to mutants/, makes one
mutant per small change of the code (an operator, a constant, a comparison, a removed call…), and
runs for each mutant the tests of tests/rules that reach the mutated function (`-x`, no Django,
no coverage). A mutant is *killed* when a test fails or times out, *survives* when they all pass.

The machine is shared: mutmut runs under `nice -n 19`, with one worker, one module after another.
`--modules` re-runs only the named modules and keeps the others' last results.

A surviving mutant that no test can kill, because it does not change what the code does, is
listed in benchmarks/mutation_equivalents.toml (module, function, the mutated line, the reason);
it is matched by the line the mutant writes, so the list survives renumbering. Every other
survivor is shown with its diff. The report goes to benchmarks/results/mutation.json and
benchmarks/results/mutation.md.
"""

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
EQUIVALENTS_FILE = ROOT / "benchmarks" / "mutation_equivalents.toml"
MUTANTS_DIR = ROOT / "mutants"
MUTMUT = Path(sys.executable).with_name("mutmut")
# In the order they run: the core of money, eligibility, SIRET, dossier parsing and tranche
# arithmetic first, then the call definition, messages, and the two optimisers.
MODULES = ["money", "siret", "dossier", "eligibility", "grants", "definition", "messages",
           "errors", "regions", "assignment", "selection.instance", "selection.prepared",
           "selection.baseline", "selection.infeasibility", "selection.solver",
           "selection.explain"]
# The modules held to the target score (non-equivalent mutants killed).
TARGET_MODULES = {"money", "eligibility", "siret", "dossier", "grants"}
TARGET_SCORE = 95.0
# mutmut exit codes, grouped (mutmut.stats.status_by_exit_code).
KILLED_CODES = {1, 3}
TIMEOUT_CODES = {-24, 24, 152, 255, 36}
SURVIVED_CODES = {0}
NO_TESTS_CODES = {5, 33}


def module_path(module: str) -> str:
    """`selection.solver` → `guichet/rules/selection/solver.py`."""
    return f"guichet/rules/{module.replace('.', '/')}.py"


def run_module(module: str) -> float:
    """Run mutmut on one module's mutants; return the wall time in seconds."""
    log = MUTANTS_DIR / f"mutmut-{module}.log"
    MUTANTS_DIR.mkdir(exist_ok=True)
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as output:
        completed = subprocess.run(
            ["nice", "-n", "19", str(MUTMUT), "run", "--max-children", "1",
             f"guichet.rules.{module}.*"],
            cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, check=False)
    elapsed = time.monotonic() - started
    if completed.returncode != 0 and "nothing matches" not in log.read_text(encoding="utf-8"):
        sys.exit(f"mutmut failed on {module} (exit {completed.returncode}); see {log}")
    print(f"{module}: {elapsed:.0f} s", flush=True)
    return elapsed


def load_equivalents() -> list[dict]:
    with EQUIVALENTS_FILE.open("rb") as handle:
        return tomllib.load(handle).get("equivalent", [])


def function_of(mutant_name: str) -> str:
    """`guichet.rules.money.x_ratio__mutmut_4` → `ratio` (methods: `Class.method`)."""
    mangled = mutant_name.rpartition(".")[2].rpartition("__mutmut_")[0]
    if mangled.startswith("x_"):
        return mangled[2:]
    class_name, _, method = mangled.partition("ǁ")[2].partition("ǁ")
    return f"{class_name}.{method}" if method else mangled


def mutant_diff(mutant_name: str) -> str:
    # Imported here: mutmut is needed only for the report of a survivor.
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    return get_diff_for_mutant(mutant_name)


def mutated_lines(diff: str) -> str:
    """The lines the mutant writes, stripped and joined: how equivalents are recognised."""
    return "\n".join(line[1:].strip() for line in diff.splitlines()
                     if line.startswith("+") and not line.startswith("+++"))


def module_results(module: str, equivalents: list[dict]) -> dict | None:
    meta = MUTANTS_DIR / f"{module_path(module)}.meta"
    if not meta.exists():
        return None
    codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    counts = Counter()
    equivalent_found, surviving = [], []
    for name, code in sorted(codes.items(), key=lambda item: _natural_key(item[0])):
        if code in KILLED_CODES:
            counts["killed"] += 1
        elif code in TIMEOUT_CODES:
            counts["timeout"] += 1
        elif code is None:
            counts["not_run"] += 1
        else:
            diff = mutant_diff(name)
            reason = _equivalence_reason(module, name, diff, equivalents)
            entry = {"mutant": name, "function": function_of(name), "diff": diff}
            if reason is not None:
                equivalent_found.append({**entry, "reason": reason})
            else:
                entry["status"] = ("no tests" if code in NO_TESTS_CODES
                                   else "survived" if code in SURVIVED_CODES else f"exit {code}")
                surviving.append(entry)
    detected = counts["killed"] + counts["timeout"]
    non_equivalent = len(codes) - len(equivalent_found) - counts["not_run"]
    return {
        "module": module_path(module),
        "generated": len(codes),
        "killed": counts["killed"],
        "timeout": counts["timeout"],
        "equivalent": len(equivalent_found),
        "surviving": len(surviving),
        "not_run": counts["not_run"],
        "score": round(100 * detected / non_equivalent, 1) if non_equivalent else None,
        "target": TARGET_SCORE if module in TARGET_MODULES else None,
        "equivalents": equivalent_found,
        "survivors": surviving,
    }


def _natural_key(name: str) -> tuple[str, int]:
    stem, _, number = name.rpartition("__mutmut_")
    return stem, int(number) if number.isdigit() else 0


def _equivalence_reason(module: str, name: str, diff: str, equivalents: list[dict]) -> str | None:
    written = mutated_lines(diff)
    for entry in equivalents:
        if (entry["module"] == module and entry["function"] == function_of(name)
                and mutated_lines("\n".join("+" + line for line in
                                            entry["mutation"].strip().splitlines())) == written):
            return entry["reason"]
    return None


def write_report(modules: list[dict], seconds: dict[str, float]) -> None:
    for result in modules:
        result["seconds"] = round(seconds[result["module"]]) if result["module"] in seconds \
            else None
    report = {
        "benchmark": "mutation",
        "tool": f"mutmut {importlib.metadata.version('mutmut')}",
        "tests": "tests/rules (pytest -x -p no:cacheprovider -p no:django)",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "workers": 1,
        "modules": modules,
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "mutation.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (RESULTS_DIR / "mutation.md").write_text(markdown(report), encoding="utf-8")


def markdown(report: dict) -> str:
    lines = [
        "# Mutation score of the rules core",
        "",
        f"{report['tool']} over `guichet/rules/`, tests: {report['tests']}; one worker, "
        f"`nice -n 19`. Made by `make mutation` (benchmarks/mutation.py). Score = (killed + "
        f"timed out) / (generated − equivalent − not run); target {TARGET_SCORE:g} % on money, "
        "eligibility, SIRET, dossier parsing and tranche arithmetic.",
        "",
        "| module | generated | killed | timed out | equivalent | surviving | not run | score "
        "| target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in report["modules"]:
        score = "—" if m["score"] is None else f"{m['score']:.1f} %"
        target = f"{m['target']:g} %" if m["target"] else ""
        lines.append(f"| `{m['module']}` | {m['generated']} | {m['killed']} | {m['timeout']} | "
                     f"{m['equivalent']} | {m['surviving']} | {m['not_run']} | {score} | "
                     f"{target} |")
    if any(m["not_run"] for m in report["modules"]):
        lines += ["", "A mutant *not run* was not tested (the run was stopped before it): the "
                  "score of its module counts only the mutants that were."]
    for m in report["modules"]:
        if m["equivalents"]:
            lines += ["", f"## Equivalent mutants of `{m['module']}`", ""]
            for e in m["equivalents"]:
                lines += [f"- `{e['mutant']}` ({e['function']}): {e['reason']}", "",
                          "  ```diff", *[f"  {line}" for line in _body(e["diff"])], "  ```"]
        if m["survivors"]:
            lines += ["", f"## Surviving mutants of `{m['module']}`", ""]
            for s in m["survivors"]:
                lines += [f"- `{s['mutant']}` ({s['function']}, {s['status']})", "",
                          "  ```diff", *[f"  {line}" for line in _body(s["diff"])], "  ```"]
    return "\n".join(lines) + "\n"


def _body(diff: str) -> list[str]:
    """The changed lines of a diff and one line of context each side."""
    lines = [line for line in diff.splitlines() if not line.startswith(("---", "+++", "@@"))]
    changed = [i for i, line in enumerate(lines) if line.startswith(("+", "-"))]
    if not changed:
        return lines
    return lines[max(changed[0] - 1, 0):changed[-1] + 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", nargs="+", choices=MODULES,
                        help="re-run these modules only, keeping the others' last results")
    parser.add_argument("--report-only", action="store_true",
                        help="write the report from the last results, run nothing")
    args = parser.parse_args()
    os.chdir(ROOT)
    seconds: dict[str, float] = {}
    previous = RESULTS_DIR / "mutation.json"
    if previous.exists():
        seconds = {m["module"]: m["seconds"] for m in json.loads(previous.read_text())["modules"]
                   if m.get("seconds") is not None}
    if not args.report_only:
        if not args.modules:
            shutil.rmtree(MUTANTS_DIR, ignore_errors=True)
        for module in args.modules or MODULES:
            seconds[module_path(module)] = run_module(module)
    results = [r for r in (module_results(m, load_equivalents()) for m in MODULES)
               if r is not None and r["generated"]]
    write_report(results, seconds)
    for r in results:
        print(f"{r['module']}: {r['generated']} generated, {r['killed'] + r['timeout']} killed, "
              f"{r['equivalent']} equivalent, {r['surviving']} surviving, score {r['score']} %")


if __name__ == "__main__":
    main()
