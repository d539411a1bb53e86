"""Benchmark of the pure-Python rules core (parse → evaluate → contract JSON), on one core.

Run from the project root:  .venv/bin/python benchmarks/rules_core.py [--dossiers N]

Generates N deffinum dossiers (7 members, 40 expense lines) as JSON bytes in memory, then times
three passes over them in a single thread pinned to one CPU: (a) parse only, (b) JSON → verdict,
(c) JSON → verdict → contract JSON with FR/EN messages. Then measures `guichet check` as a whole
command (process start included). Figures are printed and written to
benchmarks/results/rules_core.json.
"""

import argparse
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from guichet.rules.definition import shipped_definition
from guichet.rules.dossier import parse_dossier
from guichet.rules.eligibility import evaluate

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_FILE = BENCH_DIR / "results" / "rules_core.json"
SEED = 20240531
MEMBERS, LINES = 7, 40
CHECK_RUNS = 20


def generate(count: int, seed: int = SEED) -> list[bytes]:
    """`count` dossiers as JSON bytes (deterministic for a given seed)."""
    # The factory is a sibling module, not part of the package: make it importable when this
    # file is run as a script from any directory.
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    # Imported here: benchmarks/ is put on sys.path just above.
    from dossier_factory import dossier_json

    rng = random.Random(seed)
    return [dossier_json(rng, members=MEMBERS, lines=LINES) for _ in range(count)]


def pin_to_one_cpu() -> int | None:
    """Pin this process (and the children it starts) to its first allowed CPU, if possible."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed_pass(name: str, documents: list[bytes], work: Callable[[bytes], bool | None]) -> dict:
    """Run `work` on every document; it returns the eligibility (or None when not evaluated)."""
    eligible = 0
    start = time.perf_counter()
    for document in documents:
        if work(document):
            eligible += 1
    seconds = time.perf_counter() - start
    count = len(documents)
    figures = {
        "pass": name, "dossiers": count, "seconds": round(seconds, 4),
        "us_per_dossier": round(seconds / count * 1e6, 2),
        "dossiers_per_second": round(count / seconds, 1),
    }
    line = (f"  {name:<28} {figures['seconds']:9.3f} s  "
            f"{figures['us_per_dossier']:9.2f} µs/dossier  "
            f"{figures['dossiers_per_second']:11,.0f} dossiers/s")
    if name != "parse":
        figures["eligible"] = eligible
        line += f"  eligible {eligible}/{count}"
        if eligible in (0, count):
            line += "  (SUSPICIOUS: all or nothing)"
    print(line, flush=True)
    return figures


def run_passes(documents: list[bytes]) -> list[dict]:
    definition = shipped_definition("deffinum")
    # Warm-up outside the timing: the per-definition preparation (message book…) happens once.
    evaluate(parse_dossier(documents[0]), definition).to_dict()

    def parse_only(document: bytes) -> None:
        parse_dossier(document)

    def to_verdict(document: bytes) -> bool:
        return evaluate(parse_dossier(document), definition).eligible

    def to_contract_json(document: bytes) -> bool:
        verdict = evaluate(parse_dossier(document), definition)
        json.dumps(verdict.to_dict())
        return verdict.eligible

    return [
        timed_pass("parse", documents, parse_only),
        timed_pass("json -> verdict", documents, to_verdict),
        timed_pass("json -> verdict -> json", documents, to_contract_json),
    ]


def measure_check(document: bytes, runs: int = CHECK_RUNS) -> dict:
    """Wall time of `guichet check FILE` as a whole command, from a temporary directory."""
    executable = Path(sys.executable).parent / "guichet"
    if not executable.exists():
        sys.exit(f"guichet executable not found next to the interpreter: {executable}")
    expected = evaluate(parse_dossier(document), shipped_definition("deffinum")).eligible
    times_ms = []
    with tempfile.TemporaryDirectory(prefix="guichet-bench-") as workdir:
        path = Path(workdir) / "dossier.json"
        path.write_bytes(document)
        for _ in range(runs):
            start = time.perf_counter()
            done = subprocess.run([str(executable), "check", str(path)], cwd=workdir,
                                  capture_output=True, check=False)
            times_ms.append((time.perf_counter() - start) * 1000)
            if done.returncode not in (0, 1):
                sys.exit(f"guichet check exited with {done.returncode}: "
                         f"{done.stderr.decode(errors='replace')}")
            verdict = json.loads(done.stdout)  # raises if stdout is not JSON
            if verdict["eligible"] != (done.returncode == 0) or verdict["eligible"] != expected:
                sys.exit(f"guichet check: exit code {done.returncode} and verdict "
                         f"{verdict['eligible']} disagree (in-process verdict: {expected})")
    ordered = sorted(times_ms)
    p95 = ordered[max(0, -(-95 * runs // 100) - 1)]  # nearest rank
    return {
        "runs": runs, "exit_code": done.returncode,
        "median_ms": round(statistics.median(ordered), 1), "p95_ms": round(p95, 1),
        "min_ms": round(ordered[0], 1), "max_ms": round(ordered[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=100_000,
                        help="number of dossiers to generate and time (default: 100000)")
    options = parser.parse_args()
    if options.dossiers < 1:
        parser.error("--dossiers must be at least 1")
    cpu = pin_to_one_cpu()
    model = cpu_model()
    print(f"CPU: {model}; pinned to cpu {cpu}; Python {platform.python_version()}")

    start = time.perf_counter()
    documents = generate(options.dossiers)
    generation = time.perf_counter() - start
    size = sum(len(document) for document in documents) / len(documents)
    print(f"Generated {len(documents)} dossiers ({MEMBERS} members, {LINES} expense lines, "
          f"{size / 1024:.1f} KiB each on average) in {generation:.2f} s (not timed)")

    # Move everything alive now (the generated inputs included) to the permanent generation, so
    # the cyclic collector does not re-scan them again and again during the timed passes.
    gc.collect()
    gc.freeze()

    print(f"Timed passes over {len(documents)} dossiers (single process, single thread):")
    passes = run_passes(documents)
    print(f"guichet check, {CHECK_RUNS} runs as a whole command (cwd: a temporary directory):")
    check = measure_check(documents[0])
    print(f"  median {check['median_ms']:.1f} ms, p95 {check['p95_ms']:.1f} ms "
          f"(min {check['min_ms']:.1f}, max {check['max_ms']:.1f}), exit code "
          f"{check['exit_code']}")

    print()
    print(f"{'pass':<26} {'total s':>9} {'µs/dossier':>11} {'dossiers/s':>12} {'eligible':>9}")
    for figures in passes:
        print(f"{figures['pass']:<26} {figures['seconds']:9.3f} {figures['us_per_dossier']:11.2f} "
              f"{figures['dossiers_per_second']:12,.0f} {figures.get('eligible', '-'):>9}")
    print(f"{'guichet check (median/p95)':<26} {check['median_ms']:>8.1f} ms / "
          f"{check['p95_ms']:.1f} ms")

    RESULTS_FILE.parent.mkdir(exist_ok=True)
    results = {
        "benchmark": "rules_core", "cpu_model": model, "pinned_cpu": cpu,
        "python": platform.python_version(), "seed": SEED, "dossiers": len(documents),
        "members": MEMBERS, "expense_lines": LINES, "average_document_bytes": round(size),
        "generation_seconds": round(generation, 3), "passes": passes, "guichet_check": check,
    }
    RESULTS_FILE.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nWritten: {RESULTS_FILE.relative_to(BENCH_DIR.parent)}")


if __name__ == "__main__":
    main()
