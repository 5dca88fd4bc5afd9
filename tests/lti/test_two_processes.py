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
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import pytest
import requests

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TEACHER = {"org": "solbacka", "course": "101", "person": "s-11", "message": "launch", "names": "1", "locale": "en"}


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Overrides tests/conftest.py's: this test talks to server processes, not to the test database."""


# -- two server processes on one database -------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def shared_database(tmp: Path) -> Iterator[dict[str, str]]:
    """A SQLite file in `tmp`; or, when DATABASE_URL names PostgreSQL, a database made for this test."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield {"SQLITE_PATH": str(tmp / "db.sqlite3")}
        return
    import psycopg

    parts = urlsplit(url)
    name = "elevstod_procs_" + secrets.token_hex(4)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"DATABASE_URL": urlunsplit(parts._replace(path="/" + name))}
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path


@dataclass
class Cluster:
    """Two app processes behind one public address; `env` runs management commands against their database."""

    a: Server
    b: Server
    public_host: str
    env: dict[str, str]

    def manage(self, *args: str) -> str:
        return manage(self.env, *args)


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, check=True,
                          capture_output=True, text=True, timeout=120)
    return done.stdout


def _start(env: dict[str, str], port: int, log: Path) -> Server:
    command = [sys.executable, "-m", "gunicorn", "lti_plugin.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
               "--graceful-timeout", "2"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Server(url=f"http://127.0.0.1:{port}", process=process, log=log)


def _wait(server: Server) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.url} exited:\n{server.log.read_text(errors='replace')[-4000:]}")
        try:
            requests.get(server.url + "/lti/jwks/", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"{server.url} did not answer within 30 s")


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("two-processes")
    port_a, port_b = free_port(), free_port()
    public_host = f"127.0.0.1:{port_a}"
    with shared_database(tmp) as database:
        env = {key: value for key, value in os.environ.items()
               if key not in {"DATABASE_URL", "SQLITE_PATH", "REDIS_URL", "ELEVSTOD_ENV", "SECRET_KEY", "DEBUG"}}
        # One data dir: both processes read the same embedded SECRET_KEY, as a real deployment's share theirs.
        env.update(database, DJANGO_SETTINGS_MODULE="lti_plugin.settings", ELEVSTOD_DATA_DIR=str(tmp),
                   LOG_LEVEL="WARNING")
        manage(env, "migrate", "--noinput")
        manage(env, "setup_embedded", "--base-url", f"http://{public_host}")
        servers: list[Server] = []
        try:
            servers = [_start(env, port_a, tmp / "a.log"), _start(env, port_b, tmp / "b.log")]
            for server in servers:
                _wait(server)
            yield Cluster(a=servers[0], b=servers[1], public_host=public_host, env=env)
        finally:
            for server in servers:
                _stop(server)


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


def on(server: Server, cluster: Cluster, url_or_path: str) -> str:
    """The same path on a given process (the public address names A; the request may reach B)."""
    parts = urlsplit(urljoin(f"http://{cluster.public_host}/", url_or_path))
    return server.url + urlunsplit(("", "", parts.path, parts.query, ""))


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

    action, fields = auto_post_form(browser.get(a.url + "/demo/start/", params=TEACHER))
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
        assert landing.status_code == 200, f"{server.url}: {landing.status_code} {landing.text[:500]}"
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
