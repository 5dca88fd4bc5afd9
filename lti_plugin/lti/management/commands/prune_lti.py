"""Remove LTI bookkeeping that can no longer matter: expired logins, old nonces, ended launches."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand
from django.utils import timezone

from lti_plugin.lti.models import Launch, OidcState, UsedNonce


class Command(BaseCommand):
    help = "Delete expired OIDC states, nonces older than any token could live, and launches past their lifetime."

    def handle(self, *args: object, **options: object) -> None:
        now = timezone.now()
        states = OidcState.objects.filter(
            created_at__lt=now - timedelta(seconds=settings.LTI_STATE_LIFETIME_SECONDS)).delete()[0]
        # A nonce must outlive every token that could carry it: max token age plus clock skew.
        nonce_age = settings.LTI_MAX_ID_TOKEN_AGE_SECONDS + 2 * settings.LTI_CLOCK_SKEW_SECONDS
        nonces = UsedNonce.objects.filter(used_at__lt=now - timedelta(seconds=nonce_age)).delete()[0]
        launches = Launch.objects.filter(
            created_at__lt=now - timedelta(seconds=settings.LTI_LAUNCH_LIFETIME_SECONDS)).delete()[0]
        sessions = Session.objects.filter(expire_date__lt=now).delete()[0] if "db" in settings.SESSION_ENGINE else 0
        self.stdout.write(f"Removed {states} login states, {nonces} nonces, {launches} launches, {sessions} sessions.")
