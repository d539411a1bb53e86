from django.apps import AppConfig


class DemoConfig(AppConfig):
    """No models: an app only so that Django finds the `seeddemo` command."""

    name = "guichet.demo"
    label = "demo"
