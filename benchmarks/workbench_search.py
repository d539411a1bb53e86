"""The instruction workbench over HTTP through `guichet serve` (gunicorn, 2 workers) on
PostgreSQL, 10 000 submitted dossiers: the staff list searched (French full-text search through
its GIN index), filtered by label, sorted by received date; p95 and SQL query count per page.

Same server set-up as benchmarks/http_serving.py (its database helpers, query-count
middleware and timed browser); the database (dropped and created again) is filled in-process.
A third of the dossiers carry a label, so that the rows' labels are shown.
Run: `.venv/bin/python benchmarks/workbench_search.py` (PostgreSQL at 127.0.0.1:5432).
"""

import argparse
import datetime as dt
import os
import tempfile
import urllib.parse

from django_bench import ROOT, setup_django
from http_serving import (
    Browser,
    flush_redis,
    fresh_database,
    run_header,
    save_results,
    served,
    server_environment,
    time_page,
)

STAFF = "bench-workbench@example.fr"


def seed(dossiers: int) -> dict:
    """The call, `dossiers` submitted dossiers (a third labelled), a staff account."""
    from django.db import connection

    from guichet.calls.services import load_call
    from guichet.dossiers.models import Dossier, Organisation
    from guichet.review.models import Label, Role
    from tests.factories import bulk_submitted_dossiers, staff

    call = load_call(ROOT / "calls" / "deffinum.toml", demo_today=dt.date.today()).call
    for start in range(0, dossiers, 2000):
        bulk_submitted_dossiers(call, min(2000, dossiers - start), start=start)
    staff(call, STAFF, Role.INSTRUCTOR, Role.COMMITTEE, Role.ADMINISTRATOR)
    label = Label.objects.create(call=call, name="À revoir", colour="pink-macaron")
    other = Label.objects.create(call=call, name="Dossier phare", colour="green-menthe")
    pks = list(Dossier.objects.filter(call=call).order_by("pk").values_list("pk", flat=True))
    label.dossiers.add(*pks[::3])
    other.dossiers.add(*pks[::7])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum does after a bulk load
    # An organisation from the middle of the load (the 4 322nd with 10 000 dossiers).
    organisations = Organisation.objects.order_by("pk").values_list("siret", flat=True)
    siret = organisations[min(4321, organisations.count() // 2)]
    return {"call": call.code, "label": label.pk, "siret": siret}


def pages(fixtures: dict, dossiers: int) -> dict[str, str]:
    def url(**query) -> str:
        return (f"/instruction/appels/{fixtures['call']}/dossiers/?"
                + urllib.parse.urlencode(query))
    return {
        f"list, first page of {dossiers} (labels on rows)": url(),
        "search: a member's name (1 match)": url(q="Organisme 4321"),
        "search: a SIRET (1 match)": url(q=fixtures["siret"]),
        f"search: a word of every dossier ({dossiers} matches)": url(q="projets"),
        "search + label + sorted by received date": url(q="organisme", etiquette=fixtures["label"],
                                                        tri="-recu"),
        "sorted by received date": url(tri="recu"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dossiers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="guichet_bench_workbench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14",
                        help="the server's cache and broker (a Redis database of its own: it "
                             "is flushed)")
    options = parser.parse_args()
    load_at_start = os.getloadavg()
    database_url = fresh_database(options.admin_url, options.database)
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        from django.db import connections

        fixtures = seed(options.dossiers)
        connections.close_all()
        flush_redis(options.redis)
        with served(server_environment(database_url, data_dir, options.redis), data_dir) as base:
            browser = Browser(base)
            browser.login(STAFF)
            timed = {name: time_page(browser, path, options.runs)
                     for name, path in pages(fixtures, options.dossiers).items()}
    results = {**run_header(load_at_start, options.dossiers), "pages": timed}
    save_results("workbench_search", results, markdown(results))


def markdown(results: dict) -> str:
    lines = ["# Instruction workbench: search over HTTP", "",
             f"`benchmarks/workbench_search.py`, {results['date']}: `guichet serve` with "
             f"{results['workers']} sync workers on PostgreSQL, {results['dossiers']} submitted "
             "dossiers, a client on the same machine (client-side times, the server's SQL query "
             f"count). Load average when it started: {results['load_average']} (other work "
             "shares the machine).", "",
             "| page | median ms | p95 ms | max ms | server CPU median ms | queries | bytes |",
             "|---|---:|---:|---:|---:|---|---:|"]
    for name, row in results["pages"].items():
        lines.append(f"| {name} | {row['median_ms']} | {row['p95_ms']} | {row['max_ms']} | "
                     f"{row['server_cpu_median_ms']} | {', '.join(map(str, row['queries']))} | "
                     f"{row['bytes']} |")
    return "\n".join(lines) + "\n"



if __name__ == "__main__":
    main()
