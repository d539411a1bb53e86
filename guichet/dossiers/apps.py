from django.apps import AppConfig


class DossiersConfig(AppConfig):
    name = "guichet.dossiers"
    label = "dossiers"

    def ready(self):
        from guichet.dossiers import permissions  # noqa: F401, PLC0415  (registers the rules)
