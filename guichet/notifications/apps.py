from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "guichet.notifications"
    label = "notifications"

    def ready(self):
        from guichet.notifications import permissions  # noqa: F401 (registers the rules)
