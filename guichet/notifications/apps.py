from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "guichet.notifications"
    label = "notifications"

    def ready(self):
        # Imported once the app registry is ready: the module registers its /metrics readers.
        from guichet.notifications import metrics  # noqa: F401, PLC0415
