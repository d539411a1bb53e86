from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "guichet.review"
    label = "review"

    def ready(self):
        from guichet.review import permissions  # noqa: F401, PLC0415  (registers the rules)
