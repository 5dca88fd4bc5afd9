"""The production logs of a real launch-and-edit run: one JSON object a line, with request ids, and no
person's name, personal identity number, case text or token in them.

gunicorn runs as the image runs it (deploy/gunicorn.conf.py, LOG_FORMAT=json) at DEBUG level, so the
test sees more than production ever writes. The run: teachers and a pupil launch through the demo
platform, open the case list and a case (pages full of names), write a concern that itself holds a
pupil's name and a personal identity number, and an id_token is replayed (a refusal is logged). Then
every demo person's name, the concern's text, the personal identity number, the id_tokens, states and
session cookies are looked for in everything the server wrote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
import requests

from lti_plugin.lti.demo import data
from tests.deploy.cluster import TEACHER, App, launch_and_edit, start_app, visible_case_ids
from tests.servers import free_port, prepare, server_database, server_env

pytestmark = pytest.mark.slow

PERSONAL_IDENTITY_NUMBER = "20100412-1238"


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Overrides tests/conftest.py's: this test talks to a server process."""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    tmp = tmp_path_factory.mktemp("logs")
    port = free_port()
    with server_database(tmp, "elevstod_logs_") as database:
        env = server_env(tmp, database)
        env.update(LOG_FORMAT="json", LOG_LEVEL="DEBUG", GUNICORN_LOG_LEVEL="debug")
        prepare(env, f"http://127.0.0.1:{port}")
        server = start_app(env, port, tmp / "server.log")
        try:
            yield server
        finally:
            server.stop()


def names() -> set[str]:
    people = [person for org in data.ORGANISATIONS for person in org.people]
    found = {person.name for person in people}
    # Family names on their own too (pupils' and guardians', which are not ordinary words).
    found |= {person.family_name for person in people if person.kind in ("pupil", "guardian")}
    return found


def test_a_launch_and_edit_run_leaves_no_name_number_text_or_token_in_the_logs(app):
    base = app.base_url
    case_ids = visible_case_ids(base)
    secrets_seen: list[str] = []
    texts: list[str] = []
    for person in (TEACHER, {**TEACHER, "person": "s-12"}, {**TEACHER, "person": "s-21"}):
        launched = launch_and_edit(base, case_ids, person=person, write=False, keep_browser=True)
        assert launched.ok, launched.error
        browser = launched.browser
        secrets_seen += [launched.id_token, launched.state, browser.cookies.get("sessionid", ""),
                         browser.cookies.get("csrftoken", "")]
        assert browser.get(f"{base}/app/{launched.launch_id}/cases/").status_code == 200
        if person["person"] != "s-21":
            case = case_ids[0]
            assert browser.get(f"{base}/app/{launched.launch_id}/cases/{case}/").status_code == 200
            text = f"Elsa Exempelsson {PERSONAL_IDENTITY_NUMBER} verkar trött på lektionerna ({person['person']})"
            posted = browser.post(f"{base}/app/{launched.launch_id}/cases/{case}/raise_concern/",
                                  data={"text": text}, headers={"X-CSRFToken": browser.cookies["csrftoken"]},
                                  allow_redirects=False)
            assert posted.status_code == 302, posted.text[:300]
            texts.append(text)
        # A replay of the same id_token: refused, and the refusal is logged.
        replay = requests.post(f"{base}/lti/launch/", data={"id_token": launched.id_token, "state": launched.state},
                               cookies={f"lti_state_{launched.state}": launched.state}, allow_redirects=False)
        assert replay.status_code == 400
    # A case that is not theirs, and a page that does not exist.
    assert browser.get(f"{base}/app/{launched.launch_id}/cases/999999/").status_code == 404

    app.stop()  # everything flushed
    log = app.log.read_text(encoding="utf-8")
    lines = [line for line in log.splitlines() if line.strip()]

    leaked = sorted(name for name in names() if name in log)
    assert leaked == [], f"names in the logs: {leaked}"
    assert PERSONAL_IDENTITY_NUMBER not in log and not re.search(r"(?<![0-9a-f-])\d{6,8}[-+]\d{4}(?![0-9a-f-])", log)
    assert not [text for text in texts if text in log or "verkar trött" in log]
    assert not [secret for secret in secrets_seen if secret and secret in log]
    assert "eyJ" not in log  # no JWT (nor any base64 JSON) at all

    # One JSON object a line, each with a request id; the requests' lines carry a real one.
    records = [json.loads(line) for line in lines]
    assert all("request_id" in record for record in records)
    access = [record for record in records if record.get("logger") == "gunicorn.access"]
    assert len(access) >= 20
    assert all(re.fullmatch(r"[0-9a-f]{32}", record["request_id"]) for record in access
               if record["path"] not in ("/healthz", "/readyz"))
    assert any(record.get("logger") == "elevstod.lti" and "refusal" in record["msg"] for record in records)
    # Django's own line about a response (the 404 above) carries the id of the request it is about.
    not_found = [record for record in records if record.get("logger") == "django.request"
                 and record["msg"].startswith("Not Found")]
    assert not_found and all(re.fullmatch(r"[0-9a-f]{32}", record["request_id"]) for record in not_found)
