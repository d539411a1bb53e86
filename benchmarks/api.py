"""The REST API over HTTP through `guichet serve` (gunicorn, 2 workers) on PostgreSQL, 10 000
dossiers: the instruction list through the API (first page, and a deep page reached by its
cursor), a dossier read by staff, and submissions through the API (POST /submit with an
applicant's token); p50/p95, server CPU and SQL queries per request.

Same server set-up and data as benchmarks/http_serving.py (its seed, query-count middleware
and timed client); tokens are made in-process for the staff account and the applicant.
Run: `.venv/bin/python benchmarks/api.py` (PostgreSQL at 127.0.0.1:5432).
"""

import argparse
import json
import os
import tempfile

from django_bench import setup_django
from http_serving import (
    Browser,
    flush_redis,
    fresh_database,
    run_header,
    save_results,
    seed,
    served,
    server_environment,
    summary,
    time_page,
)

STAFF = "bench-staff@example.fr"


def tokens(applicant: str) -> dict[str, dict]:
    from guichet.accounts.models import TokenScope, User
    from guichet.accounts.tokens import create_token

    return {who: {"Authorization": "Bearer " + create_token(
        User.objects.get(email=email), "benchmark", TokenScope.WRITE).secret}
        for who, email in (("staff", STAFF), ("applicant", applicant))}


def deep_cursor(client: Browser, path: str, headers: dict, pages: int) -> str:
    """The cursor of page `pages + 1`, by following the cursors as a client does."""
    cursor = ""
    for _ in range(pages):
        status, _ms, _server, body = client.request(f"{path}?cursor={cursor}", headers=headers)
        assert status == 200, body[:500]
        cursor = json.loads(body)["next_cursor"]
    return cursor


def time_submissions(client: Browser, drafts: list[int], headers: dict) -> dict:
    samples, server = [], []
    for pk in drafts:
        status, elapsed, measured, body = client.request(
            f"/api/v1/dossiers/{pk}/submit", method="POST", headers=headers)
        assert status == 201, (pk, status, body[:2000])
        assert json.loads(body)["sha256"]
        samples.append(elapsed)
        server.append(measured)
    return summary(samples, server, 0)


def markdown(results: dict) -> str:
    lines = [
        "# REST API through gunicorn",
        "",
        f"`benchmarks/api.py`, {results['date']}: `guichet serve` with 2 sync workers on "
        f"PostgreSQL, Redis as cache and broker (no Celery worker running), "
        f"{results['dossiers']} submitted dossiers, a client on the same 2-core machine, a "
        f"connection per request; bearer tokens. Load average at the start: "
        f"{results['load_average']}.",
        "",
        "| request | median ms | p95 ms | max ms | server CPU median ms | runs | SQL queries "
        "| bytes |",
        "|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for name, row in results["requests"].items():
        lines.append(f"| {name} | {row['median_ms']} | {row['p95_ms']} | {row['max_ms']} | "
                     f"{row['server_cpu_median_ms']} | {row['runs']} | {row['queries']} | "
                     f"{row['bytes']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dossiers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--deep-pages", type=int, default=100)
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="guichet_bench_api")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13",
                        help="a Redis database for this run alone (flushed)")
    options = parser.parse_args()
    load_at_start = os.getloadavg()
    database_url = fresh_database(options.admin_url, options.database)
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        from django.db import connections

        fixtures = seed(options.dossiers, options.submissions, instructed=0)
        headers = tokens(fixtures["applicant"])
        connections.close_all()
        flush_redis(options.redis)
        environment = {**server_environment(database_url, data_dir, options.redis),
                       "API_THROTTLE_RATE": "100000/m"}
        with served(environment, data_dir) as base:
            client = Browser(base)
            listing = f"/api/v1/calls/{fixtures['call']}/dossiers"
            cursor = deep_cursor(client, listing, headers["staff"], options.deep_pages)
            requests = {
                f"instruction list, first page of {options.dossiers} (50 rows)": time_page(
                    client, listing, options.runs, headers["staff"]),
                f"instruction list, page {options.deep_pages + 1} by its cursor": time_page(
                    client, f"{listing}?cursor={cursor}", options.runs, headers["staff"]),
                "instruction list, sorted by aid, 200 rows": time_page(
                    client, f"{listing}?sort=-requested_aid&limit=200", options.runs,
                    headers["staff"]),
                "a dossier read by staff (guichet.dossier/1)": time_page(
                    client, f"/api/v1/dossiers/{fixtures['submitted']}", options.runs,
                    headers["staff"]),
                "submission: POST /submit (receipt PDF and mails handed to the worker)":
                    time_submissions(client, fixtures["drafts"], headers["applicant"]),
            }
    results = {**run_header(load_at_start, options.dossiers), "requests": requests}
    save_results("api", results, markdown(results))


if __name__ == "__main__":
    main()
