"""Approve a pending registration (production: dynamic registrations wait for the operator)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lti_plugin.lti.models import Registration, Status
from lti_plugin.lti.registration import approve


class Command(BaseCommand):
    help = "Approve a pending platform registration and its deployments. Without an id, list the pending ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("registration", nargs="?", help="registration id or UUID")

    def handle(self, *args: object, **options: object) -> None:
        ref = options["registration"]
        if not ref:
            pending = Registration.objects.filter(status=Status.PENDING).order_by("created_at")
            for row in pending:
                self.stdout.write(f"{row.pk}\t{row.uuid}\t{row.issuer}\t{row.client_id}\t{row.created_at:%Y-%m-%d %H:%M}")
            if not pending:
                self.stdout.write("No registration is pending.")
            return
        ref = str(ref)
        try:
            registration = (Registration.objects.filter(pk=int(ref)).first() if ref.isdigit()
                            else Registration.objects.filter(uuid=ref).first())
        except ValidationError:  # neither an id nor a UUID
            registration = None
        if registration is None:
            raise CommandError(f"No registration {ref!r}")
        if registration.status != Status.PENDING:
            # A disabled registration was switched off on purpose: re-enable it in the admin site.
            raise CommandError(f"{registration} is not pending (status: {registration.status}).")
        approve(registration, by="operator (manage.py approve_registration)")
        self.stdout.write(f"Approved {registration}.")
