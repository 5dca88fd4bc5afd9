"""No state in process memory: a login begun on one server process finishes on another.

Two gunicorn servers (separate processes, their own ports) share one database, and with it the
database cache and the sessions, as app processes behind a load balancer share PostgreSQL. The
"load balancer" here is the Host header: every request names the one public address, whichever
process it reaches. The OIDC login starts on A, the id_token is posted to B, the landing page opens
on both, and a replay of the id_token to A is refused.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

import pytest
import requests

from tests.servers import ToolServer, free_port, manage, prepare, server_database, server_env, start_server

pytestmark = pytest.mark.slow

TEACHER = {"org": "solbacka", "course": "101", "person": "s-11", "message": "launch", "names": "1", "locale": "en"}


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Overrides tests/conftest.py's: this test talks to server processes, not to the test database."""


# -- two server processes on one database -------------------------------------------------------

@dataclass
class Cluster:
    """Two app processes behind one public address; `env` runs management commands against their database."""

    a: ToolServer
    b: ToolServer
    public_host: str
    env: dict[str, str]

    def manage(self, *args: str) -> str:
        return manage(self.env, *args)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("two-processes")
    port_a, port_b = free_port(), free_port()
    public_host = f"127.0.0.1:{port_a}"
    with server_database(tmp, "elevstod_procs_") as database:
        # One data dir: both processes read the same embedded SECRET_KEY, as a real deployment's share theirs.
        env = server_env(tmp, database)
        prepare(env, f"http://{public_host}")
        servers: list[ToolServer] = []
        try:
            for port, log in ((port_a, tmp / "a.log"), (port_b, tmp / "b.log")):
                servers.append(start_server(env, port, log, workers=1))
            yield Cluster(a=servers[0], b=servers[1], public_host=public_host, env=env)
        finally:
            for server in servers:
                server.stop()


# -- the platform's auto-post forms --------------------------------------------------------------

class FormParser(HTMLParser):
    """The first <form>'s action and its named inputs, as the browser would post them."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form" and self.action is None:
            self.action, self._in_form = attributes.get("action") or "", True
        elif tag == "input" and self._in_form and attributes.get("name"):
            self.fields[attributes["name"] or ""] = attributes.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False


def auto_post_form(response: requests.Response) -> tuple[str, dict[str, str]]:
    assert response.status_code == 200, response.text[:500]
    parser = FormParser()
    parser.feed(response.text)
    assert parser.action is not None, f"no form in {response.url}"
    return parser.action, parser.fields


def on(server: ToolServer, cluster: Cluster, url_or_path: str) -> str:
    """The same path on a given process (the public address names A; the request may reach B)."""
    parts = urlsplit(urljoin(f"http://{cluster.public_host}/", url_or_path))
    return server.base_url + urlunsplit(("", "", parts.path, parts.query, ""))


def unverified_claims(id_token: str) -> dict:
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@dataclass
class Launched:
    browser: requests.Session
    landing_path: str
    id_token: str
    state: str


def launch_across(cluster: Cluster) -> Launched:
    """OIDC login initiation on process A, the id_token's POST on process B; one cookie jar."""
    browser = requests.Session()
    browser.headers["Host"] = cluster.public_host  # the load balancer's address, whichever process answers
    a, b = cluster.a, cluster.b

    action, fields = auto_post_form(browser.get(a.base_url + "/demo/start/", params=TEACHER))
    login = browser.post(on(a, cluster, action), data=fields, allow_redirects=False)
    assert login.status_code == 302, login.text[:500]
    assert any(name.startswith("lti_state_") for name in browser.cookies.keys())

    action, fields = auto_post_form(browser.get(on(a, cluster, login.headers["Location"])))
    assert set(fields) == {"id_token", "state"}, fields
    launch = browser.post(on(b, cluster, action), data=fields, allow_redirects=False)
    assert launch.status_code == 302, launch.text[:1000]
    return Launched(browser=browser, landing_path=launch.headers["Location"], id_token=fields["id_token"],
                    state=fields["state"])


# -- the tests ----------------------------------------------------------------------------------

def test_login_on_one_process_and_launch_on_the_other(cluster):
    launched = launch_across(cluster)

    for server in (cluster.b, cluster.a):
        landing = launched.browser.get(on(server, cluster, launched.landing_path), allow_redirects=False)
        assert landing.status_code == 200, f"{server.base_url}: {landing.status_code} {landing.text[:500]}"
        assert "Tove Lärare" in landing.text
        assert "Matematik 7A" in landing.text


def test_a_replayed_id_token_is_refused_by_the_other_process(cluster):
    launched = launch_across(cluster)  # accepted by B
    replayer = requests.Session()
    replayer.headers["Host"] = cluster.public_host

    # The same id_token and state again, to A: the state was used up on B.
    replayer.cookies.set(f"lti_state_{launched.state}", launched.state)
    again = replayer.post(on(cluster.a, cluster, "/lti/launch/"),
                          data={"id_token": launched.id_token, "state": launched.state}, allow_redirects=False)
    assert again.status_code == 400, again.text[:500]
    assert "state_unknown" in again.text
    assert "sessionid" not in replayer.cookies

    # Even with a fresh login state carrying the same nonce, A refuses: B recorded the nonce as used.
    claims = unverified_claims(launched.id_token)
    forged_state = "state-" + secrets.token_urlsafe(16)
    cluster.manage("shell", "-c", (
        "from lti_plugin.lti.models import OidcState, Registration\n"
        f"registration = Registration.objects.get(issuer={claims['iss']!r}, client_id={claims['aud']!r})\n"
        f"OidcState.objects.create(state={forged_state!r}, nonce={claims['nonce']!r}, registration=registration,"
        f" target_link_uri={claims['https://purl.imsglobal.org/spec/lti/claim/target_link_uri']!r})\n"
    ))
    replayer.cookies.set(f"lti_state_{forged_state}", forged_state)
    again = replayer.post(on(cluster.a, cluster, "/lti/launch/"),
                          data={"id_token": launched.id_token, "state": forged_state}, allow_redirects=False)
    assert again.status_code == 400, again.text[:500]
    assert "nonce_reused" in again.text
    assert "sessionid" not in replayer.cookies
