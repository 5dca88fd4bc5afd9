"""Inside an LMS iframe over HTTPS: the cookie check, the new-window fallback, who may frame the tool."""

from __future__ import annotations

import re

import pytest

from lti_plugin.lti.models import Status

from .platform import Lms, read_page

TOOL = "https://elevstod.example.com"


@pytest.fixture
def lms_https(db, settings) -> Lms:
    settings.ALLOWED_HOSTS = ["elevstod.example.com"]
    return Lms.register("https://moodle.kommun.example", "tool-9", ["3"], tool_url=TOOL)


def test_a_cross_site_login_first_checks_the_browser_keeps_a_partitioned_cookie(client, lms_https):
    fields = lms_https.login_fields()
    response = lms_https.initiate_login(client, headers={"Sec-Fetch-Site": "cross-site"}, **fields)

    assert response.status_code == 200
    page = response.content.decode()
    # The check sets the same kind of cookie the login will: SameSite=None; Secure; Partitioned.
    assert "SameSite=None; Secure; Partitioned" in page
    forms = {form_id: dict(re.findall(r'name="([^"]+)" value="([^"]*)"', body))
             for form_id, body in re.findall(r'<form id="([^"]+)"[^>]*>(.*?)</form>', page, re.S)}
    assert forms["continue"]["cookie_checked"] == "1"
    assert forms["new-window"]["new_window"] == "1"
    assert 'target="_blank"' in page  # the fallback opens the tool in a new window
    for form in forms.values():
        assert form["iss"] == fields["iss"] and form["login_hint"] == fields["login_hint"]
    assert not any(name.startswith("lti_state_") for name in response.cookies)  # no login begun yet


@pytest.mark.parametrize("flag", ["cookie_checked", "new_window"])
def test_after_the_check_or_in_a_new_window_the_login_goes_on(client, lms_https, flag):
    auth = lms_https.login(client, headers={"Sec-Fetch-Site": "cross-site"}, **{flag: "1"})
    cookie = client.cookies[f"lti_state_{auth.state}"]
    assert cookie["secure"] and cookie["samesite"] == "None; Partitioned"


def test_the_tool_may_be_framed_by_registered_platforms_only(client, lms_https):
    response = lms_https.launch(client, sub="3")
    landing = client.get(response["Location"], secure=True, headers={"host": "elevstod.example.com"})

    assert landing.status_code == 200
    assert landing["Content-Security-Policy"] == "frame-ancestors 'self' https://moodle.kommun.example"
    assert read_page(landing).text  # a real page, framed by Moodle
    admin = client.get("/admin/login/", secure=True, headers={"host": "elevstod.example.com"})
    assert admin["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_a_launchs_pages_may_be_framed_by_the_platform_that_launched_them_only(client, lms_https):
    Lms.register("https://itslearning.kommun.example", "tool-10", ["4"], tool_url=TOOL)  # another platform
    landing = client.get(lms_https.launch(client, sub="3")["Location"], secure=True,
                         headers={"host": "elevstod.example.com"})
    assert landing["Content-Security-Policy"] == "frame-ancestors 'self' https://moodle.kommun.example"
    front = client.get("/", secure=True, headers={"host": "elevstod.example.com"})  # no launch: every platform
    assert front["Content-Security-Policy"] == ("frame-ancestors 'self' https://itslearning.kommun.example "
                                                "https://moodle.kommun.example")


def test_a_launchs_pages_are_framed_by_no_platform_once_its_registration_is_disabled(client, lms_https):
    url = lms_https.launch(client, sub="3")["Location"]
    lms_https.registration.status = Status.DISABLED
    lms_https.registration.save()
    page = client.get(url, secure=True, headers={"host": "elevstod.example.com"})
    assert page["Content-Security-Policy"] == "frame-ancestors 'self'"
