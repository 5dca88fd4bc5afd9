"""A one-time registration link: a platform registered through it is active at once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lti_plugin.lti.registration import ToolUrls, create_invite
from lti_plugin.support.models import Organisation


class Command(BaseCommand):
    help = "Make a one-time dynamic registration URL for an LMS admin (pre-approved)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tool-url", required=True, help="this tool's public base URL")
        parser.add_argument("--days", type=int, default=7)
        parser.add_argument("--organisation", default="", help="id of the organisation the platform joins")
        parser.add_argument("--note", default="")

    def handle(self, *args: object, **options: object) -> None:
        organisation = None
        if options["organisation"]:
            organisation = Organisation.objects.filter(pk=options["organisation"]).first()
            if organisation is None:
                raise CommandError("No such organisation")
        token = create_invite(organisation=organisation, days=int(options["days"]),  # type: ignore[arg-type]
                              note=str(options["note"]))
        self.stdout.write(f"{ToolUrls.for_base(str(options['tool_url'])).register}?invite={token}")
