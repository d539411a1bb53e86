from django.apps import AppConfig


class ProConnectConfig(AppConfig):
    name = "guichet.accounts.proconnect"
    label = "proconnect"
