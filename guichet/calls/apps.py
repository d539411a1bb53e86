from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "guichet.calls"
    label = "calls"
