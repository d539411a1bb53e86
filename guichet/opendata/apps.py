from django.apps import AppConfig


class OpendataConfig(AppConfig):
    name = "guichet.opendata"
    label = "opendata"
    verbose_name = "Données ouvertes"
