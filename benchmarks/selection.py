"""Benchmark of portfolio selection (guichet/rules/selection/, HiGHS through highspy).

Run from the project root:  .venv/bin/python benchmarks/selection.py [--quick]

(a) a 1 000-dossier wave with 20 caps (13 regions, 7 sectors) and 3 floors, for both objectives,
    certified optimal by HiGHS at the default gap (1e-6) and at gap 0: target under 1 s;
(b) 100 000 candidates with the same caps and floors, default gap (1e-6) and a 10 s time limit:
    target 10 s at most, with the gap reached;
(c) `guichet select` on the wave of (a) as a whole command (process start included);
(d) how often, and by how much, the optimal portfolio differs from the rank-order funding line
    over many 1 000-dossier waves, with and without floors.

Aid from 350 000 € to 5 000 000 € (log-uniform, whole cents), scores 0–5 with one decimal. The
figures are printed and written to benchmarks/results/selection.json.
"""

import argparse
import importlib.metadata
import itertools
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from guichet.rules.selection import (
    explain,
    parse_selection_instance,
    solve_selection,
)

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_FILE = BENCH_DIR / "results" / "selection.json"
GUICHET = Path(sys.executable).with_name("guichet")
SEED = 20240611
# Regions (weights roughly like their populations) and sectors.
REGIONS = {"ARA": 8.1, "BFC": 2.8, "BRE": 3.4, "CVL": 2.6, "COR": 0.35, "GES": 5.6, "HDF": 6.0,
           "IDF": 12.3, "NOR": 3.3, "NAQ": 6.1, "OCC": 6.0, "PDL": 3.9, "PAC": 5.1}
SECTORS = {"btp": 3, "sante": 1.5, "numerique": 4, "industrie": 3, "agri": 1.5, "tourisme": 1,
           "services": 2}
MIN_AID_CENTS, MAX_AID_CENTS = 35_000_000, 500_000_000


def wave(count: int, seed: int, objective: str = "score_sum", budget_share: float = 0.3,
         floors: bool = True) -> dict:
    """A call wave as the JSON instance of the contract (deterministic for a given seed).

    The budget pays for `budget_share` of the aid asked; a region may take at most 1.25 times its
    share of the demand (2 % of the budget at least), a sector 30 % of the budget; floors ask for
    a few health, Corsican and farming projects.
    """
    rng = random.Random(seed)
    regions, region_weights = list(REGIONS), list(REGIONS.values())
    sectors, sector_weights = list(SECTORS), list(SECTORS.values())
    ratio = MAX_AID_CENTS / MIN_AID_CENTS
    dossiers, demand = [], {}
    for index in range(count):
        cents = int(MIN_AID_CENTS * ratio ** rng.random())
        region = rng.choices(regions, region_weights)[0]
        demand[region] = demand.get(region, 0) + cents
        score = min(50, max(0, round(rng.gauss(30, 9)))) / 10
        dossiers.append({"id": f"d{index:06d}", "aid": str(Decimal(cents).scaleb(-2)),
                         "score": score, "groups": {
                             "region": region, "sector": rng.choices(sectors, sector_weights)[0]}})
    total = sum(demand.values())
    budget = int(total * budget_share)
    caps = [{"group": "region", "value": region, "max_aid": str(Decimal(
        int(budget * max(1.25 * cents / total, 0.02))).scaleb(-2))}
            for region, cents in sorted(demand.items())]
    caps += [{"group": "sector", "value": sector,
              "max_aid": str(Decimal(int(budget * 0.3)).scaleb(-2))} for sector in sectors]
    floors = [] if not floors else [
              {"group": "sector", "value": "sante", "min_count": max(1, count // 25)},
              {"group": "region", "value": "COR", "min_count": max(1, count // 1000)},
              {"group": "sector", "value": "agri", "min_count": max(1, count // 25)}]
    return {"budget": str(Decimal(budget).scaleb(-2)), "min_score": 2.5, "objective": objective,
            "dossiers": dossiers, "caps": caps, "floors": floors, "pinned_in": [],
            "pinned_out": []}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def solve_figures(data: dict, *, gap: float, time_limit: float, rounds: int = 1) -> dict:
    """Solve `rounds` times (HiGHS runs are deterministic; the clock is not): median seconds."""
    start = time.perf_counter()
    instance = parse_selection_instance(data)
    parse_seconds = time.perf_counter() - start
    runs = [solve_selection(instance, gap=gap, time_limit=time_limit) for _ in range(rounds)]
    result = runs[0]
    start = time.perf_counter()
    difference = explain(instance, result.selected or (), result.rank_order.selected)
    explain_seconds = time.perf_counter() - start
    line = result.rank_order
    return {
        "dossiers": len(data["dossiers"]), "caps": len(data["caps"]),
        "floors": len(data["floors"]), "objective_kind": data["objective"],
        "gap_limit": gap, "time_limit": time_limit, "rounds": rounds,
        "status": result.status, "optimal": result.optimal,
        "seconds": round(statistics.median(run.seconds for run in runs), 3),
        "seconds_max": round(max(run.seconds for run in runs), 3),
        "parse_seconds": round(parse_seconds, 3), "explain_seconds": round(explain_seconds, 3),
        "objective": result.objective, "upper_bound": result.upper_bound, "gap": result.gap,
        "selected": len(result.selected or ()), "total_aid": str(result.total_aid),
        "budget": data["budget"],
        "rank_order_objective": line.objective, "rank_order_meets_floors": line.meets_floors,
        "change_over_rank_order_percent": round(
            100 * (result.objective - line.objective) / line.objective, 3),
        "enters": len(difference["enters"]), "leaves": len(difference["leaves"]),
    }


def cli_figures(data: dict, runs: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "wave.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        seconds = []
        for _ in range(runs):
            start = time.perf_counter()
            done = subprocess.run([str(GUICHET), "select", str(path), "--gap", "0"],
                                  capture_output=True, check=False, cwd=folder)
            seconds.append(time.perf_counter() - start)
            if done.returncode != 0:
                raise RuntimeError(done.stderr.decode())
    return {"dossiers": len(data["dossiers"]), "runs": runs,
            "median_seconds": round(statistics.median(seconds), 3),
            "input_bytes": len(json.dumps(data))}


def difference_survey(waves: int, count: int, objective: str, floors: bool) -> dict:
    """How often the optimal portfolio is not the rank-order line, and by how much. Without
    floors the rank-order line is itself a feasible selection; with them it seldom is."""
    differ, meets, infeasible, improvements, moved, seconds = 0, 0, 0, [], [], []
    for k in range(waves):
        instance = parse_selection_instance(wave(count, SEED + 1000 + k, objective,
                                                 floors=floors))
        result = solve_selection(instance)
        line = result.rank_order
        if result.selected is None:
            infeasible += 1
            continue
        seconds.append(result.seconds)
        meets += line.meets_floors
        if set(result.selected) != set(line.selected):
            differ += 1
        improvements.append(100 * (result.objective - line.objective) / line.objective)
        moved.append(len(set(result.selected) ^ set(line.selected)))
    return {"objective_kind": objective, "floors": floors, "waves": waves, "dossiers": count,
            "infeasible": infeasible, "median_seconds": round(statistics.median(seconds), 3),
            "max_seconds": round(max(seconds), 3),
            "optimal_differs_from_rank_order": differ,
            "rank_order_meets_floors": meets,
            # (optimal − rank order) / rank order, in %: negative when the floors cost
            "objective_change_percent": {
                "min": round(min(improvements), 3),
                "median": round(statistics.median(improvements), 3),
                "max": round(max(improvements), 3)},
            "median_dossiers_entering_or_leaving": statistics.median(moved)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="10 000 candidates instead of 100 000, fewer waves; no file written")
    options = parser.parse_args()
    large = 10_000 if options.quick else 100_000
    figures = {
        "benchmark": "selection", "cpu_model": cpu_model(), "cpus": os.cpu_count(),
        "python": platform.python_version(), "highspy": importlib.metadata.version("highspy"),
        "seed": SEED, "wave": [], "large": [], "cli": None, "difference_survey": [],
    }
    for objective, gap, time_limit in (("score_sum", 1e-6, 60.0), ("score_sum", 0.0, 60.0),
                                       ("score_weighted_aid", 1e-6, 60.0),
                                       ("score_weighted_aid", 0.0, 10.0)):
        figures["wave"].append(solve_figures(wave(1000, SEED, objective), gap=gap,
                                             time_limit=time_limit, rounds=5))
        print(json.dumps(figures["wave"][-1]))
    for objective in ("score_sum", "score_weighted_aid"):
        figures["large"].append(solve_figures(wave(large, SEED + 1, objective), gap=1e-6,
                                              time_limit=10.0))
        print(json.dumps(figures["large"][-1]))
    figures["cli"] = cli_figures(wave(1000, SEED), runs=3 if options.quick else 5)
    print(json.dumps(figures["cli"]))
    for objective, floors in itertools.product(("score_sum", "score_weighted_aid"),
                                               (False, True)):
        figures["difference_survey"].append(
            difference_survey(5 if options.quick else 50, 1000, objective, floors))
        print(json.dumps(figures["difference_survey"][-1]))
    if not options.quick:
        RESULTS_FILE.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"written to {RESULTS_FILE}")


if __name__ == "__main__":
    main()
