from django.apps import AppConfig


class DossiersConfig(AppConfig):
    name = "guichet.dossiers"
    label = "dossiers"

    def ready(self):
        # Imported once the app registry is ready: they register the rules, the /metrics
        # readers and the ProConnect sign-in receiver.
        from guichet.dossiers import metrics, permissions, proconnect  # noqa: F401, PLC0415
