from django.conf import settings

from guichet.notifications.management.commands.worker import Command as WorkerCommand


class Command(WorkerCommand):
    help = ("Run the scheduler of the periodic jobs (`celery -A guichet.celery beat`): outbox "
            "sweep, draft and report reminders, audit anchor. Run exactly one.")
    celery_command = "beat"

    def extra_arguments(self) -> list[str]:
        return ["--loglevel", "INFO", "--schedule", str(settings.DATA_DIR / "celerybeat-schedule")]
