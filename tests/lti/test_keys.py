"""The tool's signing keys: made on first use, stored encrypted, published at /lti/jwks/, rotated
without breaking what a platform verifies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from io import StringIO

import jwt
import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.service_connector import ServiceConnector

from lti_plugin.lti import keys
from lti_plugin.lti.deep_linking import ToolDeepLink
from lti_plugin.lti.launch import DL_SETTINGS, pylti_registration
from lti_plugin.lti.models import Registration, ToolKey
from lti_plugin.lti.registration import register_manually
from tests.conftest import moodle_fixture
from tests.lti.fake_platform_server import NRPS_SCOPE, FakeMoodle

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


@pytest.fixture
def moodle() -> Iterator[FakeMoodle]:
    with FakeMoodle() as platform:
        yield platform


@pytest.fixture
def registration(moodle: FakeMoodle) -> Registration:
    """The tool registered with the Moodle-like platform, whose token endpoint catches our assertions."""
    return register_manually(issuer=moodle.issuer, client_id="Kq7Zt2WmX9bLp4R",
                             auth_login_url=moodle.authorization_url, auth_token_url=moodle.token_url,
                             key_set_url=moodle.jwks_url, deployment_ids=["3"])


def served_keys(client: Client) -> dict[str, dict]:
    response = client.get("/lti/jwks/")
    assert response.status_code == 200
    return {key["kid"]: key for key in response.json()["keys"]}


def verify_as_the_platform(client: Client, token: str) -> dict:
    """What Moodle does with a tool's JWT: pick the key by the header's kid from the tool's JWKS, verify."""
    kid = jwt.get_unverified_header(token).get("kid")
    published = served_keys(client)
    assert kid in published, f"kid {kid} is not in the tool's JWKS {sorted(published)}"
    public_key = jwt.PyJWK(published[kid]).key
    return jwt.decode(token, public_key, algorithms=["RS256"], options={"verify_aud": False})


def deep_linking_jwt(registration: Registration) -> str:
    """The LtiDeepLinkingResponse the tool posts back to Moodle's deep_link_return_url."""
    settings_claim = moodle_fixture("id-token-deep-linking.json")[DL_SETTINGS]
    item = DeepLinkResource().set_url("http://testserver/lti/launch/").set_title("Elevstöd")
    return ToolDeepLink(pylti_registration(registration), "3", settings_claim).get_response_jwt([item])


def service_assertion(registration: Registration, moodle: FakeMoodle) -> str:
    """The client assertion the tool signs to get an NRPS token, as the platform received it."""
    ServiceConnector(pylti_registration(registration)).get_access_token([NRPS_SCOPE])
    return moodle.received("/mod/lti/token.php", "POST")[-1].form()["client_assertion"]


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_keys", *args, stdout=out)
    return out.getvalue()


def test_key_is_made_on_first_use_and_then_kept(client):
    assert ToolKey.objects.count() == 0

    first = served_keys(client)
    second = served_keys(client)

    assert len(first) == 1
    assert first == second
    assert ToolKey.objects.count() == 1


def test_private_key_is_stored_encrypted(client):
    [kid] = served_keys(client)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT private_key_encrypted FROM {ToolKey._meta.db_table} WHERE kid = %s", [kid])
        [(stored,)] = cursor.fetchall()
    assert "PRIVATE KEY" not in stored
    pem = keys.private_pem(ToolKey.objects.get(kid=kid))
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert keys.public_jwk_of(pem, kid) == served_keys(client)[kid]  # the stored key is the served one


def test_jwks_serves_the_public_key_with_kid_alg_and_use(client):
    response = client.get("/lti/jwks/")

    assert response["Content-Type"] == "application/json"
    [key] = response.json()["keys"]
    assert key["kty"] == "RSA"
    assert key["alg"] == "RS256"
    assert key["use"] == "sig"
    assert key["kid"] and key["n"] and key["e"] == "AQAB"
    assert not PRIVATE_MEMBERS & set(key)


def test_rotation_publishes_the_new_key_beside_the_old(client):
    [old_kid] = served_keys(client)

    output = rotate()

    published = served_keys(client)
    new_kid = keys.signing_key().kid
    assert new_kid != old_kid
    assert set(published) == {old_kid, new_kid}
    assert not any(PRIVATE_MEMBERS & set(key) for key in published.values())
    assert new_kid in output and old_kid in output


def test_after_rotation_the_new_key_signs_deep_linking_responses(client, registration):
    [old_kid] = served_keys(client)
    rotate()
    new_kid = keys.signing_key().kid

    token = deep_linking_jwt(registration)

    assert jwt.get_unverified_header(token)["kid"] == new_kid != old_kid
    claims = verify_as_the_platform(client, token)
    assert claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == "LtiDeepLinkingResponse"


def test_after_rotation_the_new_key_signs_service_token_requests(client, registration, moodle):
    [old_kid] = served_keys(client)
    rotate()

    assertion = service_assertion(registration, moodle)

    assert jwt.get_unverified_header(assertion)["kid"] == keys.signing_key().kid != old_kid
    claims = verify_as_the_platform(client, assertion)
    assert claims["sub"] == claims["iss"] == "Kq7Zt2WmX9bLp4R"  # Moodle finds the tool by sub


def test_a_jwt_signed_just_before_rotation_still_verifies(client, registration):
    token = deep_linking_jwt(registration)
    signed_with = jwt.get_unverified_header(token)["kid"]

    rotate()

    assert keys.signing_key().kid != signed_with
    assert verify_as_the_platform(client, token)["iss"] == "Kq7Zt2WmX9bLp4R"


def test_old_key_leaves_the_jwks_after_its_retire_date(client, settings):
    settings.LTI_KEY_RETIRE_AFTER_DAYS = 7
    [old_kid] = served_keys(client)
    rotate()
    new_kid = keys.signing_key().kid
    rotated_at = timezone.now()

    with time_machine.travel(rotated_at + timedelta(days=6, hours=23), tick=False):
        assert set(served_keys(client)) == {old_kid, new_kid}
    with time_machine.travel(rotated_at + timedelta(days=7, minutes=1), tick=False):
        assert set(served_keys(client)) == {new_kid}
        assert keys.signing_key().kid == new_kid  # the new key keeps signing; no third key appears
        assert ToolKey.objects.count() == 2


def test_retire_period_can_be_given_to_the_command(client):
    [old_kid] = served_keys(client)

    output = rotate("--retire-after-days", "1")
    rotated_at = timezone.now()

    assert old_kid in output
    with time_machine.travel(rotated_at + timedelta(hours=23), tick=False):
        assert old_kid in served_keys(client)
    with time_machine.travel(rotated_at + timedelta(days=1, minutes=1), tick=False):
        assert old_kid not in served_keys(client)
