"""Make an API token on a person's behalf (the operator's way in; the API's POST /api/tokens/ is the
person's own). The same rules hold: a principal for their units, the education chief for the
organisation, never beyond their own scope."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lti_plugin.support.actor import actor_from_grants
from lti_plugin.support.errors import RuleBroken
from lti_plugin.support.models import Person

from ...tokens import create_token


class Command(BaseCommand):
    help = "Make an API token for a principal (their units) or the education chief (the organisation)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--person", type=int, required=True, help="The id of the person who owns the token.")
        parser.add_argument("--name", required=True, help="What the token is for; the audit trail shows it.")
        parser.add_argument("--unit", type=int, action="append", default=[], help="A unit (repeat for several).")
        parser.add_argument("--role", default="", choices=["", "principal", "education_chief"])
        parser.add_argument("--read-write", action="store_true", help="Also write (default: read only).")
        parser.add_argument("--days", type=int, default=90, help="Days until it expires (at most 365).")

    def handle(self, *args: Any, **options: Any) -> None:
        person = Person.objects.filter(pk=options["person"]).first()
        if person is None:
            raise CommandError("No such person.")
        try:
            token, secret = create_token(actor=actor_from_grants(person), name=options["name"],
                                         unit_ids=options["unit"], role=options["role"],
                                         read_only=not options["read_write"], expires_in_days=options["days"])
        except RuleBroken as refusal:
            raise CommandError(str(refusal.message)) from None
        self.stdout.write(f"Token {token.name!r} ({token.role}, {'read only' if token.read_only else 'read-write'}, "
                          f"expires {token.expires_at:%Y-%m-%d}). Shown once:\n{secret}")
