from django.apps import AppConfig


class GrantsConfig(AppConfig):
    name = "guichet.grants"
    label = "grants"
