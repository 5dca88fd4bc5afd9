"""Dynamic registration, end to end: the LMS opens /lti/register/, the tool registers itself with a
real (local) Moodle-like platform server and stores what it answered, or refuses and stores nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from urllib.parse import urlencode, urlsplit

import pytest
import requests
import time_machine
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from lti_plugin.lti.models import Deployment, Registration, Status
from lti_plugin.lti.registration import lies_under_issuer, register_manually
from lti_plugin.support.models import Organisation
from tests.lti.fake_platform_server import NRPS_SCOPE, TOOL_CONFIGURATION, FakeMoodle

TOOL_HOST = "localhost:8123"  # the tool as the LMS admin's browser reaches it: host and port
TOOL = f"http://{TOOL_HOST}"
CLOSE_MESSAGE = re.compile(r"postMessage\(\s*\{\s*subject:\s*[\"']org\.imsglobal\.lti\.close[\"']\s*\}")


@pytest.fixture
def moodle() -> Iterator[FakeMoodle]:
    with FakeMoodle() as platform:
        yield platform


@pytest.fixture
def production(settings: Settings) -> Settings:
    """As in production: a new dynamic registration waits for the operator."""
    settings.LTI_AUTO_ACTIVATE_REGISTRATIONS = False
    return settings


def open_registration(client: Client, config_url: str, token: str = "", **extra: str) -> HttpResponse:
    """What the LMS does: open the tool's registration URL with its two query parameters."""
    params = {"openid_configuration": config_url, "registration_token": token, **extra}
    return client.get("/lti/register/?" + urlencode(params), HTTP_HOST=TOOL_HOST)


def row_counts() -> tuple[int, int, int]:
    return Registration.objects.count(), Deployment.objects.count(), Organisation.objects.count()


def assert_refused(response: HttpResponse, status: int, message: str) -> None:
    page = response.content.decode()
    assert response.status_code == status, page
    assert "Elevstöd kunde inte öppnas" in page
    assert message in page
    assert not CLOSE_MESSAGE.search(page), "a refused registration must not close the LMS dialog"


def login(client: Client, registration: Registration) -> HttpResponse:
    """Moodle's login initiation for an activity launch, sent to the registered tool."""
    return client.post("/lti/login/", {
        "iss": registration.issuer, "client_id": registration.client_id, "login_hint": "3",
        "target_link_uri": f"{TOOL}/lti/launch/",
        "lti_deployment_id": registration.deployments.get().deployment_id,
        "lti_message_hint": '{"cmid":42,"launchid":"ltilaunch7_1804289383"}',
    }, HTTP_HOST=TOOL_HOST)


def frame_ancestors(response: HttpResponse) -> list[str]:
    policy = response["Content-Security-Policy"]
    assert policy.startswith("frame-ancestors "), policy
    return policy.removeprefix("frame-ancestors ").split()


# -- success -------------------------------------------------------------------------------------

def test_registration_stores_the_platform_and_the_deployment_it_answered(client, moodle):
    token = moodle.issue_token(client_id="Kq7Zt2WmX9bLp4R")

    response = open_registration(client, moodle.configuration_url, token)

    assert response.status_code == 200, response.content.decode()
    registration = Registration.objects.get()
    assert (registration.issuer, registration.client_id) == (moodle.issuer, "Kq7Zt2WmX9bLp4R")
    assert registration.auth_login_url == moodle.authorization_url
    assert registration.auth_token_url == moodle.token_url
    assert registration.key_set_url == moodle.jwks_url
    assert registration.origin == Registration.Origin.DYNAMIC
    answered = moodle.tools["Kq7Zt2WmX9bLp4R"][TOOL_CONFIGURATION]["deployment_id"]
    assert [d.deployment_id for d in registration.deployments.all()] == [answered] == ["3"]
    page = response.content.decode()
    assert "Elevstöd är registrerat" in page
    assert moodle.issuer in page and "Kq7Zt2WmX9bLp4R" in page
    assert registration.organisation.name == "127.0.0.1"  # a new school owner, named after the host


def test_registration_token_goes_as_bearer_to_the_configuration_and_the_registration(client, moodle):
    token = moodle.issue_token()

    open_registration(client, moodle.configuration_url, token)

    [config_request] = moodle.configuration_requests
    [registration_post] = moodle.registration_posts
    assert config_request.method == "GET"
    assert config_request.headers["authorization"] == f"Bearer {token}"
    assert registration_post.headers["authorization"] == f"Bearer {token}"
    assert registration_post.headers["content-type"] == "application/json"


def test_registration_asks_for_what_launches_deep_linking_and_the_roster_need(client, moodle):
    open_registration(client, moodle.configuration_url, moodle.issue_token())

    body = moodle.registration_posts[0].json()
    tool_config = body[TOOL_CONFIGURATION]
    assert body["client_name"] == "Elevstöd"
    assert body["initiate_login_uri"] == f"{TOOL}/lti/login/"
    assert body["redirect_uris"] == [f"{TOOL}/lti/launch/"]
    assert body["jwks_uri"] == f"{TOOL}/lti/jwks/"
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    assert "id_token" in body["response_types"]
    assert NRPS_SCOPE in body["scope"].split()
    assert tool_config["domain"] == TOOL_HOST  # Moodle compares it with target_link_uri's host:port
    assert tool_config["target_link_uri"] == f"{TOOL}/lti/launch/"
    assert {"name", "given_name", "family_name"} <= set(tool_config["claims"])
    assert "LtiDeepLinkingRequest" in [message["type"] for message in tool_config["messages"]]
    # Moodle accepted it and will send names and the roster, and offers "Select content".
    answer = moodle.tools[Registration.objects.get().client_id]
    assert NRPS_SCOPE in answer["scope"].split()
    assert "name" in answer[TOOL_CONFIGURATION]["claims"]
    assert answer[TOOL_CONFIGURATION]["messages"][0]["type"] == "LtiDeepLinkingRequest"


def test_registered_page_closes_the_lms_dialog(client, moodle):
    response = open_registration(client, moodle.configuration_url, moodle.issue_token())

    assert CLOSE_MESSAGE.search(response.content.decode())


def test_registration_page_may_be_framed_by_the_registering_platform_only(client, moodle):
    response = open_registration(client, moodle.configuration_url, moodle.issue_token())

    assert frame_ancestors(response) == ["'self'", moodle.origin]


def test_issuer_with_a_sub_path_registers(client):
    with FakeMoodle(path_prefix="/moodle") as moodle:
        response = open_registration(client, moodle.configuration_url, moodle.issue_token())

    assert response.status_code == 200, response.content.decode()
    assert moodle.configuration_url == f"http://127.0.0.1:{moodle.port}/moodle/mod/lti/openid-configuration.php"
    registration = Registration.objects.get()
    assert registration.issuer == f"http://127.0.0.1:{moodle.port}/moodle"
    assert registration.auth_login_url == f"http://127.0.0.1:{moodle.port}/moodle/mod/lti/auth.php"
    assert frame_ancestors(response) == ["'self'", f"http://127.0.0.1:{moodle.port}"]


def test_same_platform_registering_again_joins_the_same_organisation(client, moodle):
    open_registration(client, moodle.configuration_url, moodle.issue_token(client_id="FirstClient0001"))
    second_token = moodle.issue_token(client_id="OtherClient0002")
    response = open_registration(client, moodle.configuration_url, second_token)

    assert response.status_code == 200, response.content.decode()
    first, second = Registration.objects.order_by("pk")
    assert (first.client_id, second.client_id) == ("FirstClient0001", "OtherClient0002")
    assert first.organisation == second.organisation
    assert Organisation.objects.count() == 1
    assert [second.deployments.get().deployment_id, first.deployments.get().deployment_id] == ["4", "3"]


# -- active at once, or pending until the operator approves ----------------------------------------

def test_embedded_default_registration_can_be_launched_at_once(client, moodle):
    open_registration(client, moodle.configuration_url, moodle.issue_token())
    registration = Registration.objects.get()
    assert registration.status == Status.ACTIVE
    assert registration.deployments.get().status == Status.ACTIVE

    response = login(client, registration)

    assert response.status_code == 302
    assert response["Location"].startswith(moodle.authorization_url + "?")


def test_in_production_a_new_registration_waits_and_cannot_be_launched(client, moodle, production):
    response = open_registration(client, moodle.configuration_url, moodle.issue_token())

    assert response.status_code == 200
    assert "Verktygets driftansvarige måste godkänna registreringen" in response.content.decode()
    assert CLOSE_MESSAGE.search(response.content.decode())  # the LMS still closes its dialog
    registration = Registration.objects.get()
    assert registration.status == Status.PENDING
    assert registration.deployments.get().status == Status.PENDING
    refused = login(client, registration)
    assert refused.status_code == 403
    assert "väntar på godkännande" in refused.content.decode()
    # Nothing the platform's pages may frame yet either.
    assert moodle.origin not in frame_ancestors(refused)


def test_operator_approves_a_pending_registration_with_the_command(client, moodle, production):
    open_registration(client, moodle.configuration_url, moodle.issue_token())
    registration = Registration.objects.get()

    call_command("approve_registration", str(registration.pk), stdout=StringIO())

    registration.refresh_from_db()
    assert registration.status == Status.ACTIVE
    assert registration.deployments.get().status == Status.ACTIVE
    response = login(client, registration)
    assert response.status_code == 302
    assert response["Location"].startswith(moodle.authorization_url + "?")
    # The tool's pages may now be framed by the platform (redirects carry no policy; documents do).
    assert moodle.origin in frame_ancestors(client.get("/", HTTP_HOST=TOOL_HOST))


def test_operator_approves_a_pending_registration_in_the_admin(client, admin_client, moodle, production):
    open_registration(client, moodle.configuration_url, moodle.issue_token())
    registration = Registration.objects.get()

    admin_client.post("/admin/lti/registration/",
                      {"action": "approve_selected", "_selected_action": [registration.pk]})

    response = login(client, registration)
    assert response.status_code == 302
    assert response["Location"].startswith(moodle.authorization_url + "?")


def registration_link(**options: str) -> str:
    out = StringIO()
    call_command("create_registration_link", "--tool-url", TOOL, *[f"--{k}={v}" for k, v in options.items()],
                 stdout=out)
    return out.getvalue().strip()


def open_link(client: Client, link: str, config_url: str, token: str) -> HttpResponse:
    """The LMS appends its two parameters to the registration URL it was given."""
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{TOOL}/lti/register/"
    params = urlencode({"openid_configuration": config_url, "registration_token": token})
    return client.get(f"{parts.path}?{parts.query}&{params}", HTTP_HOST=TOOL_HOST)


def test_one_time_registration_link_registers_active_at_once_even_in_production(client, moodle, production):
    link = registration_link()

    response = open_link(client, link, moodle.configuration_url, moodle.issue_token())

    assert response.status_code == 200, response.content.decode()
    registration = Registration.objects.get()
    assert registration.status == Status.ACTIVE
    assert registration.deployments.get().status == Status.ACTIVE
    assert login(client, registration).status_code == 302


def test_one_time_registration_link_made_for_an_organisation_joins_it(client, moodle):
    school_owner = Organisation.objects.create(name="Kommunskolan")
    link = registration_link(organisation=str(school_owner.pk))

    open_link(client, link, moodle.configuration_url, moodle.issue_token())

    assert Registration.objects.get().organisation == school_owner
    assert Organisation.objects.count() == 1


def test_one_time_registration_link_cannot_be_used_twice(client, moodle, production):
    link = registration_link()
    open_link(client, link, moodle.configuration_url, moodle.issue_token())
    before, requests_before = row_counts(), len(moodle.requests)

    response = open_link(client, link, moodle.configuration_url, moodle.issue_token())

    assert_refused(response, 403, "Registreringslänken är okänd, har gått ut eller har redan använts.")
    assert row_counts() == before
    assert len(moodle.requests) == requests_before  # refused before the platform was even asked


def test_expired_registration_link_is_refused(client, moodle, production):
    link = registration_link(days="1")
    before = row_counts()

    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        response = open_link(client, link, moodle.configuration_url, moodle.issue_token())

    assert_refused(response, 403, "Registreringslänken är okänd, har gått ut eller har redan använts.")
    assert row_counts() == before
    assert moodle.requests == []


# -- refusals: a page that says why, and nothing stored -----------------------------------------------

@pytest.fixture
def nothing_stored(db: None) -> Iterator[None]:
    before = row_counts()
    yield
    assert row_counts() == before


def test_refused_without_openid_configuration(client, nothing_stored):
    response = client.get("/lti/register/?registration_token=abc", HTTP_HOST=TOOL_HOST)

    assert_refused(response, 400, "Registreringsbegäran saknar openid_configuration.")


@pytest.mark.parametrize("config_url", [
    "not a url",
    "ftp://127.0.0.1/mod/lti/openid-configuration.php",
    "javascript:alert(1)",
    "http://[::1/mod/lti/openid-configuration.php",
    "http:///mod/lti/openid-configuration.php",
])
def test_refused_with_a_malformed_configuration_url(client, nothing_stored, config_url):
    response = open_registration(client, config_url, "token")

    assert_refused(response, 400, "inte en giltig HTTPS-adress")


def test_refused_when_the_configuration_url_carries_credentials(client, moodle, nothing_stored):
    config_url = moodle.configuration_url.replace("http://", "http://admin:secret@")

    response = open_registration(client, config_url, moodle.issue_token())

    assert_refused(response, 400, "inte en giltig HTTPS-adress")
    assert moodle.requests == []


@pytest.mark.parametrize(("what", "claimed_issuer"), [
    # The server at 127.0.0.1 claims to be a platform whose host name 127.0.0.1 merely starts with.
    ("look-alike host", lambda m: "http://127.0.0"),
    ("another host", lambda m: f"http://localhost:{m.port}"),
    ("another port", lambda m: f"http://127.0.0.1:{m.port + 1 if m.port < 65535 else m.port - 1}"),
    ("default port", lambda m: "http://127.0.0.1"),
    ("another scheme", lambda m: f"https://127.0.0.1:{m.port}"),
    ("path below the config", lambda m: f"http://127.0.0.1:{m.port}/mod/lti/openid-configuration.php/x"),
])
def test_refused_when_the_configuration_does_not_lie_under_its_issuer(client, moodle, nothing_stored, what,
                                                                      claimed_issuer):
    moodle.issuer_override = claimed_issuer(moodle)

    response = open_registration(client, moodle.configuration_url, moodle.issue_token())

    assert_refused(response, 400, "Konfigurationsadressen ligger inte under plattformens utfärdare")
    assert moodle.registration_posts == []  # no registration goes to an impostor


def test_refused_when_the_issuer_path_is_not_a_whole_segment_of_the_config_path(client, nothing_stored):
    with FakeMoodle(path_prefix="/moodle2") as moodle:
        moodle.issuer_override = f"http://127.0.0.1:{moodle.port}/moodle"
        response = open_registration(client, moodle.configuration_url, moodle.issue_token())

    assert_refused(response, 400, "Konfigurationsadressen ligger inte under plattformens utfärdare")
    assert moodle.registration_posts == []


@pytest.mark.parametrize(("config_url", "issuer", "under"), [
    ("https://school.example/mod/lti/openid-configuration.php", "https://school.example", True),
    ("https://School.Example:443/mod/lti/openid-configuration.php", "https://school.example", True),
    ("https://school.example/moodle/mod/lti/openid-configuration.php", "https://school.example/moodle", True),
    ("https://school.example/moodle/mod/lti/openid-configuration.php", "https://school.example/moodle/",
     True),
    ("https://school.example.evil.test/mod/lti/openid-configuration.php", "https://school.example", False),
    ("https://evil-school.example/mod/lti/openid-configuration.php", "https://school.example", False),
    ("https://school.example@evil.test/mod/lti/openid-configuration.php", "https://school.example", False),
    ("https://school.example:8443/mod/lti/openid-configuration.php", "https://school.example", False),
    ("https://school.example/mod/lti/openid-configuration.php", "https://school.example:8443", False),
    ("http://school.example/mod/lti/openid-configuration.php", "https://school.example", False),
    ("https://school.example/moodle2/mod/lti/openid-configuration.php", "https://school.example/moodle",
     False),
    ("https://school.example/mod/lti/openid-configuration.php", "https://school.example/moodle", False),
    ("https://school.example/mod/lti/openid-configuration.php", "school.example", False),
    ("https://school.example/mod/lti/openid-configuration.php", "https://school.example?x=1", False),
    ("https://school.example:99999/mod/lti/openid-configuration.php", "https://school.example", False),
])
def test_lies_under_issuer(config_url, issuer, under):
    assert lies_under_issuer(config_url, issuer) is under


def test_refused_when_the_platform_answers_the_configuration_with_an_error(client, moodle, nothing_stored):
    moodle.configuration_status = 500

    response = open_registration(client, moodle.configuration_url, moodle.issue_token())

    assert_refused(response, 502, "Plattformen svarade med ett fel (500)")
    assert moodle.registration_posts == []


def test_refused_when_the_platform_is_unreachable(client, nothing_stored):
    with FakeMoodle() as moodle:
        config_url = moodle.configuration_url
    # The server is gone: nobody listens on that port any more.

    response = open_registration(client, config_url, "token")

    assert_refused(response, 502, "Plattformens konfiguration kunde inte hämtas.")


@pytest.mark.parametrize("stall_body", [False, True], ids=["no answer", "headers then nothing"])
def test_refused_when_the_platform_is_too_slow_with_its_configuration(client, moodle, settings,
                                                                      nothing_stored, stall_body):
    settings.LTI_HTTP_TIMEOUT_SECONDS = 0.3
    moodle.delays["configuration"] = 30  # released when the server stops
    moodle.stall_body = stall_body

    response = open_registration(client, moodle.configuration_url, moodle.issue_token())

    assert_refused(response, 504, "Plattformen svarade inte i tid. Försök igen om en stund.")
    assert moodle.registration_posts == []


@pytest.mark.parametrize("stall_body", [False, True], ids=["no answer", "headers then nothing"])
def test_refused_when_the_platform_is_too_slow_to_register(client, moodle, settings, nothing_stored,
                                                           stall_body):
    settings.LTI_HTTP_TIMEOUT_SECONDS = 0.3
    moodle.delays["registration"] = 30
    moodle.stall_body = stall_body

    response = open_registration(client, moodle.configuration_url, moodle.issue_token())

    assert_refused(response, 504, "Plattformen svarade inte i tid. Försök igen om en stund.")


def test_refusal_from_the_platform_is_shown_with_moodles_reason(client, moodle, nothing_stored):
    # A "reg-update" token for a tool type Moodle does not have: Moodle answers 400 "Unknown client".
    token = moodle.issue_token(client_id="99", scope="reg-update")

    response = open_registration(client, moodle.configuration_url, token)

    assert_refused(response, 502, "Plattformen avvisade registreringen (400): Unknown client")


def test_reusing_a_registration_token_shows_moodles_reason(client, moodle):
    token = moodle.issue_token()
    open_registration(client, moodle.configuration_url, token)
    before = row_counts()

    response = open_registration(client, moodle.configuration_url, token)  # the admin reloads the dialog

    assert_refused(response, 502, "Plattformen avvisade registreringen (401): token_already_used")
    assert row_counts() == before


def test_registration_without_a_token_shows_moodles_reason(client, moodle, nothing_stored):
    moodle.require_token_for_configuration = False  # as Moodle: the configuration itself is public

    response = open_registration(client, moodle.configuration_url, "")

    assert_refused(response, 502, "Plattformen avvisade registreringen (401): missing_registration_token")
    assert "authorization" not in moodle.registration_posts[0].headers


def test_registration_refused_with_a_html_error_page_shows_no_markup(client, moodle, nothing_stored):
    moodle.registration_error = (500, "<html><body><script>alert(1)</script>Fel</body></html>")

    response = open_registration(client, moodle.configuration_url, moodle.issue_token())

    assert_refused(response, 502, "Plattformen avvisade registreringen (500)")
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_refused_when_the_registration_answer_has_no_client_id(client, moodle, nothing_stored):
    moodle.omit_client_id = True

    response = open_registration(client, moodle.configuration_url, moodle.issue_token())

    assert_refused(response, 502, "Plattformens svar på registreringen saknar klient-id.")


def test_refused_when_the_platform_client_is_already_registered(client, moodle):
    register_manually(issuer=moodle.issuer, client_id="Kq7Zt2WmX9bLp4R",
                      auth_login_url=moodle.authorization_url, auth_token_url=moodle.token_url,
                      key_set_url=moodle.jwks_url, deployment_ids=["1"])
    before = row_counts()

    token = moodle.issue_token(client_id="Kq7Zt2WmX9bLp4R")
    response = open_registration(client, moodle.configuration_url, token)

    assert_refused(response, 409, "Den här plattformsklienten är redan registrerad.")
    assert row_counts() == before
    assert list(Deployment.objects.values_list("deployment_id", flat=True)) == ["1"]


# -- the fake platform applies Moodle's checks (else the tests above could pass against a lax one) ----

def _valid_request() -> dict:
    return {
        "response_types": ["id_token"], "initiate_login_uri": f"{TOOL}/lti/login/",
        "redirect_uris": [f"{TOOL}/lti/launch/"], "client_name": "Elevstöd", "jwks_uri": f"{TOOL}/lti/jwks/",
        "token_endpoint_auth_method": "private_key_jwt",
        TOOL_CONFIGURATION: {"domain": TOOL_HOST, "target_link_uri": f"{TOOL}/lti/launch/"},
    }


@pytest.mark.parametrize(("change", "status", "reason"), [
    (lambda r: r.pop("client_name"), 400, "missing required attribute client_name"),
    (lambda r: r.update(response_types=[]), 400, "missing required attribute response_types"),
    (lambda r: r[TOOL_CONFIGURATION].pop("domain"), 400, "missing_domain"),
    (lambda r: r[TOOL_CONFIGURATION].update(domain="localhost"), 400, "domain_targetlinkuri_mismatch"),
    (lambda r: r[TOOL_CONFIGURATION].update(domain="www.localhost:8123"), 200, ""),
    (lambda r: r.update(response_types=["code"]), 400, "invalid_response_types"),
    (lambda r: r.update(redirect_uris=f"{TOOL}/lti/launch/"), 400, "invalid_redirect_uris"),
    (lambda r: r.update(token_endpoint_auth_method="client_secret_basic"), 400,
     "invalid_token_endpoint_auth_method"),
    (lambda r: r.update(application_type="native"), 400, "invalid_application_type"),
    (lambda r: None, 200, ""),
], ids=["no client_name", "empty response_types", "no domain", "domain without port", "www. is dropped",
        "no id_token", "redirect_uris a string", "client secret", "native app", "valid"])
def test_fake_moodle_applies_moodles_registration_checks(moodle, change, status, reason):
    body = _valid_request()
    change(body)

    answer = requests.post(moodle.registration_url, json=body, timeout=5,
                           headers={"Authorization": f"Bearer {moodle.issue_token()}"})

    assert answer.status_code == status
    if reason:
        assert answer.text == reason
        assert answer.headers["Content-Type"].startswith("text/plain")
    else:
        assert answer.json()[TOOL_CONFIGURATION]["deployment_id"] == "3"
