from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "guichet.web"
    label = "web"
