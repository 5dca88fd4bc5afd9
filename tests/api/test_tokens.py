"""API tokens: made by a principal (their units) or the education chief (the organisation), shown
once, stored hashed, read-only unless asked, revocable, expiring, and every use audited by name."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from api.models import ApiToken
from lti_plugin.support.models import AuditEntry, StaffGrant
from lti_plugin.support.services import grants

from .conftest import School, as_member, make_token, url, with_token


def test_a_principal_makes_a_token_that_is_shown_once_and_kept_hashed(se: School, client: Client) -> None:
    made = make_token(se, "principal", units=[se.unit.pk])
    secret = made["secret"]
    stored = ApiToken.objects.get(pk=made["id"])
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in stored.secret_hash
    assert (made["role"], made["scope"], made["units"], made["read_only"]) == ("principal", "units", [se.unit.pk], True)
    listed = as_member(se, "principal", "get", url("tokens")).json()["results"]
    assert [token["id"] for token in listed] == [made["id"]] and "secret" not in listed[0]
    assert se.case.pk in [row["id"] for row in with_token(client, secret, "get", url("cases")).json()["results"]]


def test_a_token_never_reaches_beyond_its_makers_own_units(se: School) -> None:
    response = as_member(se, "principal", "post", url("tokens"), {"name": "SIS", "units": [se.other_unit.pk]})
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed:token_scope"
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("key", ["organisation_admin", "it_admin", "class_teacher", "special_teacher",
                                 "subject_teacher", "pupil", "guardian"])
def test_nobody_else_makes_tokens(se: School, key: str) -> None:
    response = as_member(se, key, "post", url("tokens"), {"name": "Export", "units": [se.unit.pk]})
    assert response.status_code == 403
    assert not ApiToken.objects.exists()


def test_a_token_neither_makes_nor_revokes_tokens(se: School, client: Client) -> None:
    made = make_token(se, "principal", units=[se.unit.pk], read_only=False)
    assert with_token(client, made["secret"], "post", url("tokens"), {"name": "More"}).status_code == 403
    assert with_token(client, made["secret"], "post", url("token-revoke", made["id"])).status_code == 403
    assert ApiToken.objects.get().revoked_at is None


def test_a_read_only_token_reads_and_never_writes(se: School, client: Client) -> None:
    secret = make_token(se, "principal", units=[se.unit.pk])["secret"]
    response = with_token(client, secret, "post", url("case-action", se.case.pk, "raise_concern"), {"text": "Oro"})
    assert response.status_code == 403
    assert not se.case.concerns.exists()


def test_every_use_is_in_the_audit_trail_under_the_tokens_name(se: School, client: Client) -> None:
    secret = make_token(se, "principal", units=[se.unit.pk], read_only=False, name="Skolsystemet")["secret"]
    with_token(client, secret, "get", url("case", se.case.pk))
    read = AuditEntry.objects.latest("pk")
    assert (read.action, read.api_token, read.role, read.person) == ("read", "Skolsystemet", "principal",
                                                                     se["principal"].person)
    response = with_token(client, secret, "post", url("case-action", se.case.pk, "raise_concern"), {"text": "Oro"})
    assert response.status_code == 201
    change = AuditEntry.objects.latest("pk")
    assert (change.action, change.api_token) == ("concern.raised", "Skolsystemet")
    assert se.case.concerns.get().raised_as == "principal"
    assert ApiToken.objects.get().last_used_at is not None


def test_a_revoked_token_is_refused_at_once(se: School, client: Client) -> None:
    made = make_token(se, "principal", units=[se.unit.pk])
    revoked = as_member(se, "principal", "post", url("token-revoke", made["id"]))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    response = with_token(client, made["secret"], "get", url("cases"))
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"
    assert as_member(se, "outsider_principal", "post", url("token-revoke", made["id"])).status_code == 404


def test_a_token_expires(se: School, client: Client) -> None:
    secret = make_token(se, "principal", units=[se.unit.pk], expires_in_days=1)["secret"]
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        assert with_token(client, secret, "get", url("cases")).status_code == 401


def test_a_token_ends_when_its_maker_loses_the_role(se: School, client: Client) -> None:
    secret = make_token(se, "principal", units=[se.unit.pk])["secret"]
    grant = StaffGrant.objects.get(person=se["principal"].person, role="principal")
    grants.revoke_grant(actor=se.actor("organisation_admin"), grant=grant)
    assert with_token(client, secret, "get", url("cases")).status_code == 401


def test_an_unknown_token_or_launch_is_refused(se: School, client: Client) -> None:
    assert with_token(client, "elv_nothing", "get", url("cases")).status_code == 401
    # The principal's launch named from another person's browser is not theirs.
    other = se["class_teacher"].client.get(url("cases"), headers={"X-Elevstod-Launch": se["principal"].launch_id})
    assert other.status_code == 401
    assert client.get(url("cases"), headers={"X-Elevstod-Launch": "not-a-uuid"}).status_code == 401


def test_the_operator_makes_a_token_on_a_principals_behalf_with_the_same_rules(se: School) -> None:
    out = StringIO()
    call_command("create_api_token", person=se["principal"].person.pk, name="Nightly export",
                 unit=[se.unit.pk], stdout=out)
    assert "elv_" in out.getvalue() and ApiToken.objects.get().name == "Nightly export"
    with pytest.raises(CommandError):
        call_command("create_api_token", person=se["it_admin"].person.pk, name="IT", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("create_api_token", person=se["principal"].person.pk, name="Beyond",
                     unit=[se.other_unit.pk], stdout=StringIO())


def test_errors_come_in_the_requesters_language(se: School, client: Client) -> None:
    secret = make_token(se, "principal", units=[se.unit.pk], read_only=False)["secret"]
    path = url("case-action", se.case.pk, "raise_concern")
    swedish = with_token(client, secret, "post", path, {"text": ""})
    english = with_token(client, secret, "post", path, {"text": ""}, **{"Accept-Language": "en"})
    assert (swedish.status_code, english.status_code) == (422, 422)
    assert swedish.json()["message"] == "Oron måste fyllas i."
    assert english.json()["message"] == "The concern cannot be empty."
