"""Time and peak memory of the dossier list export (CSV, XLSX, ODS) with 100 000 dossiers.

Meant for PostgreSQL: set DATABASE_URL (the database is filled once and reused by later runs).
The dossiers are made in a first process; each format is then measured in a process of its
own, so that its `ru_maxrss` (the peak resident
memory of the process, which only grows) is its own: one export with tracing off gives the time
and the peak resident memory, a second one under tracemalloc gives the peak of Python's
allocations. The target is a process under 200 MB.
Run: `DATABASE_URL=postgres://... .venv/bin/python benchmarks/export.py`.
"""

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc

from django_bench import ROOT, setup_django

FORMATS = ("csv", "xlsx", "ods")
BATCH = 5000
TARGET_MB = 200


def fill(count: int):
    """The Deffinum call with `count` submitted dossiers, each with its submission (the
    export reads the receipt instant from it); what an earlier run left is reused."""
    # Imported here: a benchmark chooses its settings and sets Django up in main(), before any
    # Django or guichet module loads.
    from django.db import connection

    from guichet.calls.models import Call
    from guichet.calls.services import load_call
    from guichet.dossiers.models import Dossier, Submission
    from tests.factories import bulk_submitted_dossiers

    call = Call.objects.filter(code="deffinum").first() or load_call(
        ROOT / "calls" / "deffinum.toml", demo_today=dt.date.today()).call
    have = Dossier.objects.filter(call=call).count()
    wave = call.waves.order_by("position").first()
    for start in range(have, count, BATCH):
        bulk_submitted_dossiers(call, min(BATCH, count - start), start=start)
        Submission.objects.bulk_create(
            Submission(dossier_id=pk, version=1, wave=wave, snapshot="{}", sha256="0" * 64,
                       rules_version="bench", eligible=True, verdict={"results": []},
                       received_at=wave.closes_at - dt.timedelta(seconds=pk))
            for pk in Dossier.objects.filter(call=call, submissions__isnull=True)
            .values_list("pk", flat=True))
    if connection.vendor == "postgresql" and have < count:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum does after a bulk load
    return call


def export_once(client, url: str) -> tuple[float, int]:
    start = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    size = sum(len(chunk) for chunk in response.streaming_content)
    response.close()
    return time.perf_counter() - start, size


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def fill_database(count: int) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        fill(count)


def measure(kind: str, count: int, *, trace: bool = True) -> dict:
    """One format, in this process (run by `main` in a child process); `trace`: a second
    export under tracemalloc (five times slower) for the peak of Python's allocations."""
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        # Imported here: a benchmark chooses its settings and sets Django up in main(), before
        # any Django or guichet module loads.
        from django.test import Client
        from django.test.utils import setup_test_environment

        from guichet.calls.models import Call
        from guichet.review.models import CallRole, Role
        from tests.factories import make_user

        setup_test_environment()
        call = Call.objects.get(code="deffinum")
        user = make_user(f"bench-export-{kind}-{time.time_ns()}@example.fr")
        CallRole.objects.create(user=user, call=call, role=Role.INSTRUCTOR)
        client = Client()
        client.force_login(user)
        url = f"/instruction/appels/{call.code}/dossiers/export/?format={kind}&separator=semicolon"
        client.get(url + "&ids=1")  # warm up: templates, call definition, imports
        rss_before = max_rss_mb()
        seconds, size = export_once(client, url)
        rss_after = max_rss_mb()
        traced = _traced_export(client, url) if trace else {}
    return {"format": kind, "dossiers": count, "seconds": round(seconds, 2),
            "bytes": size, "max_rss_mb_before": round(rss_before, 1),
            "max_rss_mb": round(rss_after, 1), "load_average": os.getloadavg()[0], **traced}


def _traced_export(client, url: str) -> dict:
    tracemalloc.start()
    traced_seconds, _ = export_once(client, url)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"tracemalloc_peak_mb": round(peak / 2**20, 1),
            "seconds_under_tracemalloc": round(traced_seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--format", choices=FORMATS, help="measure one format, in this process")
    parser.add_argument("--fill", action="store_true", help="only make the dossiers")
    parser.add_argument("--no-trace", action="store_true",
                        help="skip the second export under tracemalloc")
    options = parser.parse_args()
    if options.fill:
        fill_database(options.dossiers)
        return
    if options.format:
        print(json.dumps(measure(options.format, options.dossiers,
                                 trace=not options.no_trace)))
        return
    subprocess.run([sys.executable, __file__, "--fill", "--dossiers", str(options.dossiers)],
                   check=True, env=os.environ)
    results = []
    for kind in FORMATS:
        child = subprocess.run(
            [sys.executable, __file__, "--format", kind, "--dossiers", str(options.dossiers)],
            check=True, capture_output=True, text=True, env=os.environ)
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
        write_results(results)  # as each format is measured


def write_results(results: list[dict]) -> None:
    # Imported here: the parent process never sets Django up.
    import platform

    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    database = os.environ.get("DATABASE_URL", "sqlite").split(":", 1)[0]
    report = {"database": database, "python": platform.python_version(),
              "target_mb": TARGET_MB, "results": results}
    (out / "export.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = ["# Dossier list export: time and memory", "",
             f"`benchmarks/export.py`, {results[0]['dossiers']:,} dossiers on {database}, one "
             "process per format; target: the process under "
             f"{TARGET_MB} MB.", "",
             "| format | seconds | size (MB) | max RSS before (MB) | max RSS after (MB) "
             "| tracemalloc peak (MB) |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r['format']} | {r['seconds']} | {r['bytes'] / 2**20:.1f} "
              f"| {r['max_rss_mb_before']} | {r['max_rss_mb']} "
              f"| {r.get('tracemalloc_peak_mb', '—')} |"
              for r in results]
    (out / "export.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
