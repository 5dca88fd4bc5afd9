"""The server operator names an organisation's first admin (who then names principals and maps courses)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lti_plugin.support.errors import RuleBroken
from lti_plugin.support.models import Organisation, Person
from lti_plugin.support.services.grants import name_first_organisation_admin


class Command(BaseCommand):
    help = "Name a person (by platform issuer and LTI user id) organisation admin of an organisation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organisation", required=True, help="organisation id")
        parser.add_argument("--issuer", required=True, help="the platform's issuer, e.g. https://moodle.example.edu")
        parser.add_argument("--sub", required=True, help="the person's LTI user id (Moodle: the user id)")
        parser.add_argument("--name", default="")

    def handle(self, *args: object, **options: object) -> None:
        organisation = Organisation.objects.filter(pk=str(options["organisation"])).first() \
            if str(options["organisation"]).isdigit() else None
        if organisation is None:
            raise CommandError(f"No organisation {options['organisation']!r}")
        person, _created = Person.objects.get_or_create(
            organisation=organisation, issuer=str(options["issuer"]), sub=str(options["sub"]),
            defaults={"name": str(options["name"])})
        try:
            name_first_organisation_admin(organisation=organisation, person=person)
        except RuleBroken as refusal:
            raise CommandError(str(refusal.message)) from None
        self.stdout.write(f"{person} is organisation admin of {organisation}.")
