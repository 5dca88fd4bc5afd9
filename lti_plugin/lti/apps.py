from django.apps import AppConfig


class LtiConfig(AppConfig):
    name = "lti_plugin.lti"
    label = "lti"

    def ready(self) -> None:
        from . import signals  # noqa: F401
