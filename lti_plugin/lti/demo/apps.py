from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "lti_plugin.lti.demo"
    label = "demo"
