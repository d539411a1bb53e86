"""The outbox on /metrics (guichet.core.metrics): work waiting to be done, and work that failed
for good (listed for staff at /instruction/envois-en-echec/)."""

from django.db.models import Count

from guichet.core.metrics import scraped
from guichet.notifications.models import OutboxMessage


@scraped("guichet_outbox", "Outbox rows (mails, receipt PDFs), by delivery status",
         label="status")
def outbox_per_status() -> dict:
    return dict(OutboxMessage.objects.values_list("status").annotate(n=Count("id")).order_by())
