from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "lti_plugin.support"
    label = "support"
