"""Rotate the tool's signing key; the old one stays published until it retires."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser

from lti_plugin.lti import keys


class Command(BaseCommand):
    help = "Make a new signing key; keep the previous ones in /lti/jwks/ for --retire-after-days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--retire-after-days", type=int, default=None)

    def handle(self, *args: object, **options: object) -> None:
        days = options["retire_after_days"]
        new, old = keys.rotate(retire_after=timedelta(days=days) if days is not None else None)
        self.stdout.write(f"Signing with {new.kid}.")
        for key in old:
            self.stdout.write(f"Still published until {key.retire_at:%Y-%m-%d %H:%M}: {key.kid}")
