"""Pruning LTI bookkeeping keeps what can still matter and removes the rest."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import time_machine
from django.core.management import call_command
from django.utils import timezone

from lti_plugin.lti.models import OidcState, UsedNonce
from lti_plugin.lti.registration import register_manually


def make_registration():
    return register_manually(issuer="https://lms.example.test", client_id="c1", auth_login_url="https://lms.example.test/auth",
                             auth_token_url="https://lms.example.test/token", key_set={"keys": []}, deployment_ids=["1"])


def test_prune_removes_expired_states_and_old_nonces_only(db):
    registration = make_registration()
    with time_machine.travel(timezone.now() - timedelta(hours=3)):
        OidcState.objects.create(state="old", nonce="n-old", registration=registration,
                                 target_link_uri="http://testserver/lti/launch/")
        UsedNonce.objects.create(registration=registration, nonce="n-old")
    OidcState.objects.create(state="fresh", nonce="n-fresh", registration=registration,
                             target_link_uri="http://testserver/lti/launch/")
    UsedNonce.objects.create(registration=registration, nonce="n-fresh")
    out = StringIO()
    call_command("prune_lti", stdout=out)
    assert list(OidcState.objects.values_list("state", flat=True)) == ["fresh"]
    assert list(UsedNonce.objects.values_list("nonce", flat=True)) == ["n-fresh"]
    assert "1 login states, 1 nonces" in out.getvalue()
