"""Moodle 4.5's real shapes (shared/fixtures/moodle): login forms and id_tokens, re-signed by our platform.

Moodle signs with its site key under {"typ": "JWT", "alg": "RS256", "kid": ...}; the test platform
signs the same payloads with its own key under that header, with iat = now and exp = iat + 60, and the
nonce the tool handed out. Everything runs over HTTPS at the fixtures' tool address.
"""

from __future__ import annotations

import json
import time
from http.cookies import Morsel
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.http import HttpResponse
from django.test import Client
from jwcrypto import jwk, jwt

from lti_plugin.lti.models import Launch
from tests.conftest import moodle_fixture

from .platform import CLAIM, DL_CLAIM, Lms, read_page

TOOL = "https://elevstod.example.com"
ISSUER = "https://moodle.example.edu"
CLIENT_ID = "Kq7Zt2WmX9bLp4R"


@pytest.fixture
def moodle(db, settings) -> Lms:
    """Kommunskolans Moodle, registered as the fixtures describe it; the tool at elevstod.example.com."""
    settings.ALLOWED_HOSTS = ["elevstod.example.com"]
    settings.LTI_TOOL_ORIGINS = [TOOL]
    return Lms.register(ISSUER, CLIENT_ID, ["3"], tool_url=TOOL)


@pytest.fixture
def browser() -> Client:
    """A browser inside Moodle's iframe; Django checks CSRF as it would for a real one."""
    return Client(enforce_csrf_checks=True)


def login_form(name: str) -> dict[str, str]:
    form = moodle_fixture(name)
    assert (form["method"], form["action"]) == ("POST", TOOL + "/lti/login/")
    return form["fields"]


def moodle_launch(moodle: Lms, browser: Client, *, form: str,
                  id_token: str) -> tuple[HttpResponse, list[Morsel]]:
    """Moodle's login form, then its id_token payload re-signed with the tool's nonce; the cookies set."""
    auth = moodle.login(browser, fields=login_form(form))
    payload: dict[str, Any] = moodle_fixture(id_token)
    now = int(time.time())
    payload.update(nonce=auth.nonce, iat=now, exp=now + 60)
    token = moodle.id_token(payload)
    header = jwt.JWT(jwt=token).token.jose_header
    assert header == {"typ": "JWT", "alg": "RS256", "kid": moodle.key.get("kid")}
    response = moodle.post_launch(browser, auth, token)
    return response, [*auth.response.cookies.values(), *response.cookies.values()]


def secure_get(browser: Client, path: str, **extra: Any) -> HttpResponse:
    return browser.get(path, secure=True, headers={"host": "elevstod.example.com", **extra})


def test_moodles_login_form_is_answered_with_its_hints_echoed_unchanged(browser, moodle):
    fields = login_form("login-initiation-resource-link.json")

    auth = moodle.login(browser, fields=fields)  # the platform checks every parameter of the answer

    assert auth.params["lti_message_hint"] == '{"cmid":42,"launchid":"ltilaunch7_1804289383"}'
    assert auth.params["login_hint"] == "3"
    assert auth.redirect_uri == TOOL + "/lti/launch/"
    assert auth.url.startswith(ISSUER + "/mod/lti/auth.php?")


def test_moodles_deep_linking_login_form_is_answered_with_its_hint_unchanged(browser, moodle):
    auth = moodle.login(browser, fields=login_form("login-initiation-deep-linking.json"))

    assert auth.params["lti_message_hint"] == '{"launchid":"ltilaunch_ContentItemSelectionRequest846930886"}'


def test_inside_moodles_iframe_the_login_checks_cookies_first_and_keeps_the_fields(browser, moodle):
    fields = login_form("login-initiation-resource-link.json")

    check = moodle.initiate_login(browser, headers={"Sec-Fetch-Site": "cross-site"}, **fields)

    assert check.status_code == 200
    continue_form = next(form for form in read_page(check).forms if form["id"] == "continue")
    assert continue_form["action"] == "/lti/login/" and continue_form["method"] == "post"
    assert continue_form["fields"] == {**fields, "cookie_checked": "1"}
    auth = moodle.login(browser, fields=continue_form["fields"], headers={"Sec-Fetch-Site": "cross-site"})
    assert auth.params["lti_message_hint"] == fields["lti_message_hint"]


def test_moodle_teacher_is_a_subject_teacher(browser, moodle):
    response, _ = moodle_launch(moodle, browser, form="login-initiation-resource-link.json",
                                id_token="id-token-resource-link-teacher.json")

    assert response.status_code == 302, response.content[:500]
    launch = Launch.objects.get()
    assert launch.tool_role == "subject_teacher"
    page = read_page(secure_get(browser, response["Location"]))
    assert page.testids["who"] == "Tove Lärare"
    assert page.testids["course"] == "Matematik 7A (MA7A)"
    assert page.testids["tool-role"] == "Ämneslärare"
    assert (launch.deployment.deployment_id, launch.resource_link_id, launch.locale) == ("3", "7", "sv")


def test_moodle_student_is_a_pupil(browser, moodle):
    response, _ = moodle_launch(moodle, browser, form="login-initiation-resource-link.json",
                                id_token="id-token-resource-link-student.json")

    assert response.status_code == 302, response.content[:500]
    assert Launch.objects.get().tool_role == "pupil"
    page = read_page(secure_get(browser, response["Location"]))
    assert page.testids["who"] == "Elsa Elev"
    assert page.testids["tool-role"] == "Elev"


def test_moodle_site_admin_is_an_it_admin_even_with_instructor(browser, moodle):
    response, _ = moodle_launch(moodle, browser, form="login-initiation-resource-link.json",
                                id_token="id-token-site-admin.json")

    assert response.status_code == 302, response.content[:500]
    launch = Launch.objects.get()
    assert launch.tool_role == "it_admin"
    course_page = secure_get(browser, response["Location"])
    assert course_page["Location"] == f"/app/{launch.id}/registrations/"
    registrations = read_page(secure_get(browser, course_page["Location"]))
    assert CLIENT_ID in registrations and "Admin User" in registrations


def test_moodle_deep_linking_returns_a_signed_course_panel_to_moodle(browser, moodle):
    response, _ = moodle_launch(moodle, browser, form="login-initiation-deep-linking.json",
                                id_token="id-token-deep-linking.json")
    assert response.status_code == 302, response.content[:500]
    launch = Launch.objects.get()
    assert response["Location"] == f"/lti/deep-link/{launch.id}/"

    picker = secure_get(browser, response["Location"])
    assert picker.status_code == 200
    assert "Matematik 7A" in read_page(picker)
    form = read_page(picker).forms[0]
    answer = browser.post(response["Location"], form["fields"], secure=True,
                          headers={"host": "elevstod.example.com", "origin": TOOL})

    assert answer.status_code == 200
    back = next(form for form in read_page(answer).forms if form["id"] == "deep-link-return")
    return_url = "https://moodle.example.edu/mod/lti/contentitem_return.php?course=2&id=3&sesskey=Xy7Pq2Rs9T"
    assert back["action"] == return_url and back["method"] == "post"
    assert parse_qs(urlsplit(back["action"]).query)["sesskey"] == ["Xy7Pq2Rs9T"]
    assert set(back["fields"]) == {"JWT"}

    tool_keys = jwk.JWKSet.from_json(secure_get(browser, "/lti/jwks/").content)
    signed = jwt.JWT(jwt=back["fields"]["JWT"], key=tool_keys, algs=["RS256"])  # verifies the signature
    header = signed.token.jose_header
    claims = json.loads(signed.claims)
    assert header["alg"] == "RS256" and header["kid"] in {key.get("kid") for key in tool_keys}
    assert claims["iss"] == CLIENT_ID
    assert claims["aud"] == [ISSUER]
    assert claims[CLAIM + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[CLAIM + "version"] == "1.3.0"
    assert claims[CLAIM + "deployment_id"] == "3"
    assert claims["iat"] <= time.time() < claims["exp"]  # Moodle checks with no leeway
    assert DL_CLAIM + "data" not in claims  # Moodle sent no `data`: nothing to echo
    items = claims[DL_CLAIM + "content_items"]
    assert [item["type"] for item in items] == ["ltiResourceLink"]
    assert items[0]["url"] == TOOL + "/lti/launch/"
    assert items[0]["title"]



def test_cookies_the_tool_sets_over_https_survive_moodles_cross_site_iframe(browser, moodle):
    response, cookies = moodle_launch(moodle, browser, form="login-initiation-resource-link.json",
                                      id_token="id-token-resource-link-teacher.json")
    landing = secure_get(browser, response["Location"])
    assert landing.status_code == 200
    cookies += list(landing.cookies.values())

    names = {morsel.key for morsel in cookies}
    assert {"sessionid", "csrftoken"} <= names
    assert any(name.startswith("lti_state_") for name in names)
    for morsel in cookies:  # set, and the spent state cookie's deletion too: same attributes or no match
        header = morsel.OutputString()
        assert morsel["secure"], header
        assert "; Secure" in header and "SameSite=None; Partitioned" in header, header
