"""Email each person a digest of what is due for them; running it twice a day sends nothing twice."""

from __future__ import annotations

from datetime import date

from django.core.mail import send_mail
from django.core.management.base import BaseCommand, CommandParser
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from lti_plugin.support.actor import actor_from_grants
from lti_plugin.support.models import DigestSent, Person
from lti_plugin.support.services.due import due_for


class Command(BaseCommand):
    help = "Send each staff member with an email address a digest of what is due for them (once a day)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=date.fromisoformat, default=None, help="the day (YYYY-MM-DD); today")

    def handle(self, *args: object, **options: object) -> None:
        today = options["date"] or date.today()
        sent = skipped = failed = 0
        # Staff with a grant in force (`grants__revoked_at__isnull` alone also matched everyone with no
        # grant at all: the outer join's empty row).
        people = Person.objects.filter(grants__isnull=False, grants__revoked_at__isnull=True).exclude(email="").distinct()
        for person in people.select_related("organisation"):
            if DigestSent.objects.filter(person=person, day=today).exists():
                skipped += 1
                continue
            items = due_for(actor_from_grants(person), today=today)
            if not items:
                continue
            with translation.override("sv"):
                lines = [f"{item.due_on:%Y-%m-%d}  {item.label}" + ("  (" + _("overdue") + ")" if item.due_on < today
                                                                      else "") for item in items]
                subject = _("Elevstöd: %(count)s things due") % {"count": len(items)}
            try:
                with transaction.atomic():
                    DigestSent.objects.create(person=person, day=today, items=len(items))
                    # Only what is due and when: no pupil names or case text leave the tool by email.
                    send_mail(subject, "\n".join(lines), None, [person.email])
            except IntegrityError:  # a parallel run took this person
                skipped += 1
                continue
            except OSError as error:  # smtplib's errors too: one refused address does not stop the others
                failed += 1  # no DigestSent row was kept, so the next run tries this person again
                self.stderr.write(f"Digest not sent to person {person.pk}: {error.__class__.__name__}")
                continue
            sent += 1
        self.stdout.write(f"Digests sent: {sent}; already sent today: {skipped}; failed: {failed}.")
