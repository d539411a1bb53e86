"""Server time of the instruction list with 10 000 submitted dossiers.

Runs on the embedded SQLite by default; set DATABASE_URL to a PostgreSQL database to measure
there (the database is filled and left as is).
Run: `.venv/bin/python benchmarks/instruction_list.py`.
"""

import argparse
import datetime as dt
import gc
import json
import tempfile

from django_bench import ROOT, setup_django, timed_requests

URLS = {
    "list": "",
    "filter_status": "?etat=submitted",
    "filter_region_eligible": "?region=11&eligible=yes",
    "filter_amount_sorted": "?aide_min=1000000&aide_max=2500000&tri=-aide",
    "filter_sector_page_20": "?filiere=btp&page=20",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dossiers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=40)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        # Imported here: a benchmark chooses its settings and sets Django up in main(), before any
        # Django or guichet module loads.
        from django.conf import settings
        from django.test import Client
        from django.test.utils import setup_test_environment

        from guichet.calls.services import load_call
        from guichet.review.models import CallRole, Role
        from tests.factories import bulk_submitted_dossiers, make_user

        setup_test_environment()
        call = load_call(ROOT / "calls" / "deffinum.toml", demo_today=dt.date.today()).call
        for start in range(0, options.dossiers, 2000):
            bulk_submitted_dossiers(call, min(2000, options.dossiers - start), start=start)
        # Imported here: a benchmark chooses its settings and sets Django up in main(), before any
        # Django or guichet module loads.
        from django.db import connection

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # what autovacuum does after a bulk load
        user = make_user("bench-instruction@example.fr")
        CallRole.objects.create(user=user, call=call, role=Role.INSTRUCTOR)
        client = Client()
        client.force_login(user)
        gc.collect()
        gc.freeze()
        results = {"database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                   "dossiers": options.dossiers}
        for name, query in URLS.items():
            results[name] = timed_requests(
                client, f"/instruction/appels/{call.code}/dossiers/{query}", options.runs)
    print(json.dumps(results, indent=2))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    suffix = "" if results["database"] == "sqlite3" else f"-{results['database']}"
    (out / f"instruction_list{suffix}.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
