"""Server time of the applicant's dossier pages, the live verdict and a submission.

A dossier of 10 members and 300 budget lines on a SQLite file database (the embedded default);
requests go through Django's full stack in-process (middleware, view, templates), so the
figures are server time without network. Run: `.venv/bin/python benchmarks/portal.py`.
"""

import argparse
import datetime as dt
import gc
import json
import statistics
import tempfile
import time

from django_bench import ROOT, setup_django, timed_requests


def big_dossier():
    # Imported here: a benchmark chooses its settings and sets Django up in main(), before any
    # Django or guichet module loads.
    from guichet.calls.services import load_call
    from tests.factories import fresh_siret, lead_and_member, make_dossier

    load_call(ROOT / "calls" / "deffinum.toml", demo_today=dt.date.today())
    sirets = [fresh_siret() for _ in range(10)]
    document = json.loads((ROOT / "tests" / "data" / "contract-example.json").read_text())
    document.pop("submitted_at")
    document["members"] = [{"siret": s, "name": f"Membre {i}", "kind": "edtech", "lead": i == 0}
                           for i, s in enumerate(sirets)]
    document["expenses"] = [{"member": sirets[i % 10], "category": "staff", "label": f"L{i}",
                             "amount": "2000.00", "eligible": True} for i in range(300)]
    document["financing"] = [{"source": "aid", "amount": "420000.00"},
                             {"source": "own_cash", "member": sirets[0], "amount": "180000.00"}]
    dossier = make_dossier(document)
    lead, _member = lead_and_member(dossier)
    return dossier, lead


def timed_submissions(runs: int) -> dict:
    """submit() alone (receipt issued, snapshot hashed and stored, audit appended), on fresh
    complete dossiers; the receipt PDF and mail (outbox rows run in-process after commit, as
    without a broker) are timed apart."""
    # Imported here: a benchmark chooses its settings and sets Django up first.
    from django.core import mail
    from django.db import transaction

    from guichet.dossiers.services import submit
    from tests.factories import lead_and_member, make_dossier

    document = json.loads((ROOT / "tests" / "data" / "contract-example.json").read_text())
    document.pop("submitted_at")
    dossiers = [make_dossier(document) for _ in range(runs)]
    for dossier in dossiers:
        lead_and_member(dossier)  # two participants to mail
    submit_ms, mail_ms = [], []
    for dossier in dossiers:
        deferred = []
        start = time.perf_counter()
        with transaction.atomic():
            submit(dossier)
            deferred = list(transaction.get_connection().run_on_commit)
            transaction.get_connection().run_on_commit.clear()
        submit_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        for _savepoints, relay, _robust in deferred:
            relay()
        mail_ms.append((time.perf_counter() - start) * 1000)
        assert deferred, "the receipt PDF and mail are relayed after commit"
    assert len(mail.outbox) == runs, "one receipt mail (with its PDF) per submission"
    submit_ms.sort()
    return {"submit_median_ms": round(statistics.median(submit_ms), 1),
            "submit_p95_ms": round(submit_ms[int(0.95 * (len(submit_ms) - 1))], 1),
            "receipt_mail_with_pdf_median_ms": round(statistics.median(mail_ms), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=60)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        # Imported here: a benchmark chooses its settings and sets Django up in main(), before any
        # Django or guichet module loads.
        from django.conf import settings
        from django.test import Client
        from django.test.utils import override_settings

        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
                               ALLOWED_HOSTS=["testserver"], DEBUG=False):
            # Imported here: a benchmark chooses its settings and sets Django up in main(), before
            # any Django or guichet module loads.
            from django.test.utils import setup_test_environment

            setup_test_environment()
            dossier, lead = big_dossier()
            client = Client()
            client.force_login(lead)
            gc.collect()
            gc.freeze()
            results = {"database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]}
            for step in ("projet", "budget", "financement", "depot"):
                results[f"page_{step}"] = timed_requests(
                    client, f"/dossiers/{dossier.pk}/etape/{step}/", options.runs)
            results["live_verdict"] = timed_requests(
                client, f"/dossiers/{dossier.pk}/verdict/", options.runs)
            results["submission"] = timed_submissions(min(options.runs, 30))
    print(json.dumps(results, indent=2))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "portal.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
