from django.apps import AppConfig


class DossiersConfig(AppConfig):
    name = "guichet.dossiers"
    label = "dossiers"
