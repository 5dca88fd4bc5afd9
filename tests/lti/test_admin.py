"""Django's admin site for the server operator: register a platform by hand, see the values to paste
into the LMS, approve pending registrations. Never framed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lti_plugin.lti.models import Deployment, Registration, Status
from lti_plugin.lti.registration import register_dynamically
from lti_plugin.support.models import Organisation
from tests.lti.fake_platform_server import FakeMoodle

MOODLE = "https://moodle.example.edu"
CHANGELIST = "/admin/lti/registration/"


@pytest.fixture
def school_owner(db: None) -> Organisation:
    return Organisation.objects.create(name="Kommunskolan")


def add_form(organisation: Organisation, **changes: str) -> dict[str, str]:
    """The admin's add form as the operator fills it in for Moodle (empty deployment inline)."""
    data = {
        "organisation": str(organisation.pk), "name": "Kommunskolans Moodle", "issuer": MOODLE,
        "client_id": "Kq7Zt2WmX9bLp4R", "auth_login_url": f"{MOODLE}/mod/lti/auth.php",
        "auth_token_url": f"{MOODLE}/mod/lti/token.php", "auth_audience": "",
        "key_set_url": f"{MOODLE}/mod/lti/certs.php", "key_set": "", "status": Status.ACTIVE,
        "deployment_ids": "3, 4",
        "deployments-TOTAL_FORMS": "0", "deployments-INITIAL_FORMS": "0",
        "deployments-MIN_NUM_FORMS": "0", "deployments-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_operator_adds_a_registration_with_its_deployment_ids(admin_client, school_owner):
    assert admin_client.get(CHANGELIST + "add/").status_code == 200

    response = admin_client.post(CHANGELIST + "add/", add_form(school_owner))

    assert response.status_code == 302, response.content.decode()
    registration = Registration.objects.get()
    assert (registration.issuer, registration.client_id) == (MOODLE, "Kq7Zt2WmX9bLp4R")
    assert registration.organisation == school_owner
    assert registration.status == Status.ACTIVE
    assert sorted(registration.deployments.values_list("deployment_id", "status")) == [
        ("3", Status.ACTIVE), ("4", Status.ACTIVE)]
    assert all(d.organisation == school_owner for d in registration.deployments.all())


def test_operator_adding_a_registration_without_keys_is_told_why(admin_client, school_owner):
    response = admin_client.post(CHANGELIST + "add/", add_form(school_owner, key_set_url=""))

    assert response.status_code == 200
    assert "Ange plattformens nyckeladress (JWKS) eller dess nycklar." in response.content.decode()
    assert Registration.objects.count() == 0
    assert Deployment.objects.count() == 0


def test_change_page_shows_the_values_to_paste_into_the_lms(admin_client, school_owner):
    admin_client.post(CHANGELIST + "add/", add_form(school_owner))
    registration = Registration.objects.get()

    response = admin_client.get(f"{CHANGELIST}{registration.pk}/change/", HTTP_HOST="localhost:8123")

    page = response.content.decode()

    assert "Värden att klistra in i lärplattformen" in page
    for value in ("http://localhost:8123/lti/login/", "http://localhost:8123/lti/launch/",
                  "http://localhost:8123/lti/jwks/", "http://localhost:8123/lti/register/"):
        assert f"<code>{value}</code>" in page
    assert "<code>localhost:8123</code>" in page


@pytest.fixture
def moodle() -> Iterator[FakeMoodle]:
    with FakeMoodle() as platform:
        yield platform


def register_pending(moodle: FakeMoodle, client_id: str) -> Registration:
    return register_dynamically(tool_base_url="http://testserver", config_url=moodle.configuration_url,
                                token=moodle.issue_token(client_id=client_id))


def test_operator_approves_pending_registrations_with_the_admin_action(admin_client, moodle, settings):
    settings.LTI_AUTO_ACTIVATE_REGISTRATIONS = False
    first, second, left = (register_pending(moodle, f"PendingClient0{n}") for n in (1, 2, 3))
    changelist = admin_client.get(CHANGELIST).content.decode()
    assert "Godkänn valda registreringar" in changelist

    response = admin_client.post(CHANGELIST, {"action": "approve_selected",
                                              "_selected_action": [first.pk, second.pk]}, follow=True)

    assert "Godkänt." in response.content.decode()
    for registration in (first, second):
        registration.refresh_from_db()
        assert registration.status == Status.ACTIVE
        assert registration.approved_by == "admin:admin"
        assert registration.deployments.get().status == Status.ACTIVE
    left.refresh_from_db()
    assert left.status == Status.PENDING
    assert left.deployments.get().status == Status.PENDING


@pytest.mark.parametrize("path", ["/admin/", CHANGELIST, CHANGELIST + "add/", "/admin/lti/toolkey/"])
def test_admin_pages_may_not_be_framed(admin_client, path):
    response = admin_client.get(path)

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert response["X-Frame-Options"] == "DENY"


def test_admin_login_page_may_not_be_framed(client, db):
    response = client.get("/admin/login/")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_admin_needs_a_staff_login(client, db):
    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
