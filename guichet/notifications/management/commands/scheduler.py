from django.conf import settings

from guichet.notifications.management.commands.worker import Command as WorkerCommand


class Command(WorkerCommand):
    help = ("Run the scheduler of the periodic jobs (`celery -A guichet.celery beat`): outbox "
            "sweep every minute; draft reminders, report reminders and the audit anchor daily. "
            "Run exactly one. Every argument goes to Celery.")
    celery_command = "beat"

    def default_arguments(self) -> list[str]:
        return ["--loglevel", "INFO", "--schedule",
                str(settings.DATA_DIR / "celerybeat-schedule")]
