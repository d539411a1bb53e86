"""Shared set-up for the benchmarks that run Django in-process (server time, no network)."""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(data_dir: str, *, migrate: bool = True) -> None:
    os.environ["GUICHET_DATA_DIR"] = data_dir
    os.environ["GUICHET_ENV"] = "test"  # fast password hasher, DEBUG off
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guichet.settings")
    sys.path.insert(0, str(ROOT))
    # Imported here: a benchmark chooses its settings and sets Django up in main(), before any
    # Django or guichet module loads.
    import django

    django.setup()
    if migrate:
        # Imported here: a benchmark chooses its settings and sets Django up in main(), before any
        # Django or guichet module loads.
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def timed_requests(client, url: str, runs: int) -> dict:
    # Imported here: a benchmark chooses its settings and sets Django up in main(), before any
    # Django or guichet module loads.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm caches (templates, call definition)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 1),
            "max_ms": round(samples[-1], 1), "queries": len(queries.captured_queries),
            "bytes": len(response.content)}


