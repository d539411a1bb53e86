"""The dossiers' figures on /metrics (guichet.core.metrics), read at scrape time."""

from django.db.models import Count

from guichet.core.metrics import scraped
from guichet.dossiers.models import Dossier, Submission


@scraped("guichet_dossiers", "Dossiers, by status", label="status")
def dossiers_per_status() -> dict:
    return dict(Dossier.objects.values_list("status").annotate(n=Count("id")).order_by())


@scraped("guichet_submissions", "Submissions received (receipts, corrections included)",
         kind="counter")
def submissions() -> int:
    return Submission.objects.count()
