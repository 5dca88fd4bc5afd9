"""The operator's management commands: register a platform by hand, approve pending registrations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import Settings

from lti_plugin.lti.models import Deployment, Registration, Status
from lti_plugin.lti.registration import register_dynamically
from lti_plugin.support.models import Organisation
from tests.conftest import moodle_fixture
from tests.lti.fake_platform_server import FakeMoodle

MOODLE = "https://moodle.example.edu"
MOODLE_ARGS = [
    "--issuer", MOODLE,
    "--client-id", "Kq7Zt2WmX9bLp4R",
    "--auth-login-url", f"{MOODLE}/mod/lti/auth.php",
    "--token-url", f"{MOODLE}/mod/lti/token.php",
]


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def test_register_platform_creates_an_active_registration_with_its_deployments(db):
    run("register_platform", *MOODLE_ARGS, "--key-set-url", f"{MOODLE}/mod/lti/certs.php",
        "--deployment-id", "3", "--deployment-id", "4", "--tool-url", "https://elevstod.example.com")

    registration = Registration.objects.get()
    assert (registration.issuer, registration.client_id) == (MOODLE, "Kq7Zt2WmX9bLp4R")
    assert registration.auth_login_url == f"{MOODLE}/mod/lti/auth.php"
    assert registration.auth_token_url == f"{MOODLE}/mod/lti/token.php"
    assert registration.key_set_url == f"{MOODLE}/mod/lti/certs.php"
    assert registration.status == Status.ACTIVE
    assert sorted(registration.deployments.values_list("deployment_id", "status")) == [
        ("3", Status.ACTIVE), ("4", Status.ACTIVE)]


def test_register_platform_prints_the_values_to_paste_into_the_lms(db):
    output = run("register_platform", *MOODLE_ARGS, "--key-set-url", f"{MOODLE}/mod/lti/certs.php",
                 "--deployment-id", "3", "--deployment-id", "4", "--tool-url", "https://elevstod.example.com/")

    lines = output.splitlines()
    for value in ("https://elevstod.example.com/lti/login/", "https://elevstod.example.com/lti/launch/",
                  "https://elevstod.example.com/lti/jwks/"):
        assert any(line.rstrip().endswith(": " + value) for line in lines), (value, output)
    assert any(line.rstrip().endswith(": elevstod.example.com") for line in lines), output
    assert "Kq7Zt2WmX9bLp4R" in output


def test_register_platform_with_a_key_set_file(db, tmp_path: Path):
    key_file = tmp_path / "moodle-jwks.json"
    key_file.write_text(json.dumps(moodle_fixture("jwks.json")))

    run("register_platform", *MOODLE_ARGS, "--key-set-file", str(key_file), "--deployment-id", "3")

    registration = Registration.objects.get()
    assert registration.key_set == moodle_fixture("jwks.json")
    assert registration.key_set_url == ""


def test_register_platform_without_keys_is_refused(db):
    with pytest.raises(CommandError) as refused:
        run("register_platform", *MOODLE_ARGS, "--deployment-id", "3")

    assert str(refused.value) == "En registrering behöver plattformens nyckeladress eller dess nycklar."
    assert not Registration.objects.exists()
    assert not Deployment.objects.exists()
    assert not Organisation.objects.exists()


@pytest.mark.parametrize(("option", "value"), [
    ("--auth-login-url", "moodle.example.edu/mod/lti/auth.php"),
    ("--token-url", "ftp://moodle.example.edu/mod/lti/token.php"),
    ("--key-set-url", "certs.php"),
])
def test_register_platform_refuses_an_address_that_is_not_a_web_url(db, option, value):
    args = [*MOODLE_ARGS, "--key-set-url", f"{MOODLE}/mod/lti/certs.php"]
    args[args.index(option) + 1] = value

    with pytest.raises(CommandError, match=f"{option} is not an http"):
        run("register_platform", *args, "--deployment-id", "3")

    assert Registration.objects.count() == 0


@pytest.mark.parametrize("content", ["not json", '{"kty": "RSA"}'], ids=["not JSON", "a key, not a key set"])
def test_register_platform_refuses_an_unusable_key_set_file(db, tmp_path: Path, content):
    key_file = tmp_path / "keys.json"
    key_file.write_text(content)

    with pytest.raises(CommandError, match="key set file"):
        run("register_platform", *MOODLE_ARGS, "--key-set-file", str(key_file))
    with pytest.raises(CommandError, match="key set file"):
        run("register_platform", *MOODLE_ARGS, "--key-set-file", str(tmp_path / "missing.json"))

    assert Registration.objects.count() == 0


def test_register_platform_twice_is_refused(db):
    args = [*MOODLE_ARGS, "--key-set-url", f"{MOODLE}/mod/lti/certs.php", "--deployment-id", "3"]
    run("register_platform", *args)

    with pytest.raises(CommandError, match="already registered"):
        run("register_platform", *args)

    assert Registration.objects.count() == 1
    assert Deployment.objects.count() == 1
    assert Organisation.objects.count() == 1


def test_register_platform_joins_a_named_organisation(db):
    school_owner = Organisation.objects.create(name="Kommunskolan")

    run("register_platform", *MOODLE_ARGS, "--key-set-url", f"{MOODLE}/mod/lti/certs.php",
        "--deployment-id", "3", "--organisation", "Kommunskolan")

    assert Registration.objects.get().organisation == school_owner
    with pytest.raises(CommandError, match="No organisation"):
        run("register_platform", "--issuer", "https://other.example", "--client-id", "x",
            "--auth-login-url", "https://other.example/auth", "--token-url", "https://other.example/token",
            "--key-set-url", "https://other.example/jwks", "--organisation", "Nowhere")


# -- approve_registration ----------------------------------------------------------------------------

@pytest.fixture
def moodle() -> Iterator[FakeMoodle]:
    with FakeMoodle() as platform:
        yield platform


@pytest.fixture
def pending(db: None, moodle: FakeMoodle, settings: Settings) -> Registration:
    """A platform that registered itself in production: waiting for the operator."""
    settings.LTI_AUTO_ACTIVATE_REGISTRATIONS = False
    return register_dynamically(tool_base_url="http://testserver", config_url=moodle.configuration_url,
                                token=moodle.issue_token(client_id="PendingClient01"))


def test_approve_registration_without_arguments_lists_the_pending_ones(pending):
    run("register_platform", *MOODLE_ARGS, "--key-set-url", f"{MOODLE}/mod/lti/certs.php")

    output = run("approve_registration")

    [line] = output.strip().splitlines()
    assert line.split("\t")[:4] == [str(pending.pk), str(pending.uuid), pending.issuer, "PendingClient01"]
    assert MOODLE not in output  # the active registration is not listed
    assert Registration.objects.get(pk=pending.pk).status == Status.PENDING  # listing approves nothing


def test_approve_registration_says_when_nothing_is_pending(db):
    assert run("approve_registration").strip() == "No registration is pending."


@pytest.mark.parametrize("by", ["pk", "uuid"])
def test_approve_registration_activates_it_and_its_deployment(pending, by):
    output = run("approve_registration", str(getattr(pending, by)))

    pending.refresh_from_db()
    assert pending.status == Status.ACTIVE
    assert pending.approved_at is not None
    assert pending.deployments.get().status == Status.ACTIVE
    assert "PendingClient01" in output
    assert run("approve_registration").strip() == "No registration is pending."


@pytest.mark.parametrize("ref", ["999999", "00000000-0000-0000-0000-000000000000", "PendingClient01"])
def test_approve_registration_of_an_unknown_id_is_refused(pending, ref):
    with pytest.raises(CommandError, match="No registration"):
        run("approve_registration", ref)

    assert Registration.objects.get(pk=pending.pk).status == Status.PENDING
