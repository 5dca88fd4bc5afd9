"""First start of the embedded default: the tool's key and the demo platform."""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from lti_plugin.lti import keys


class Command(BaseCommand):
    help = ("Create the cache table, the tool's signing key and (embedded default) the demo platform's "
            "registration and its demo school data.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args: object, **options: object) -> None:
        call_command("createcachetable", verbosity=0)
        key = keys.signing_key()
        self.stdout.write(f"Tool signing key: {key.kid}")
        if settings.DEMO_PLATFORM:
            from lti_plugin.lti.demo.platform import ensure_registered

            registration = ensure_registered(str(options["base_url"]))
            self.stdout.write(f"Demo platform registered: {registration.issuer}")
            from lti_plugin.lti.demo.seed import seed_demo

            told = seed_demo(registration)
            self.stdout.write(f"Demo school data: {told} pupils' support added" if told else
                              "Demo school data: already in place")
