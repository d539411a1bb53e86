from django.apps import AppConfig


class DossiersConfig(AppConfig):
    name = "guichet.dossiers"
    label = "dossiers"

    def ready(self):
        # Imported once the app registry is ready: they register the rules and /metrics readers.
        from guichet.dossiers import metrics, permissions  # noqa: F401, PLC0415
