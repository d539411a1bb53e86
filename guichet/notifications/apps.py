from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "guichet.notifications"
    label = "notifications"

    def ready(self):
        # Imported once the app registry is ready: the module registers django-rules predicates.
        from guichet.notifications import permissions  # noqa: F401, PLC0415
