"""Real production-shaped processes on loopback: gunicorn with deploy/gunicorn.conf.py, nginx in front,
and a browser that makes whole LTI launches through the demo platform and writes something.

Used by the scale-out, log and restore tests (tests/deploy) and by deploy/scaleout-check.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from tests.servers import REPO
from tests.lti.test_two_processes import auto_post_form

TEACHER = {"org": "solbacka", "course": "101", "person": "s-11", "message": "launch", "names": "1", "locale": "sv"}


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)


@dataclass
class App:
    """One app instance: gunicorn's master and workers in their own process group (SIGKILL takes all)."""

    port: int
    process: subprocess.Popen
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """What a crashed machine does: every process of the instance gone at once, nothing flushed."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_app(env: dict[str, str], port: int, log: Path, *, workers: int = 2) -> App:
    """gunicorn as the image runs it (deploy/gunicorn.conf.py); returns once /readyz says ok."""
    env = {**env, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
    with log.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py",
                                    "lti_plugin.wsgi"], cwd=REPO, env=env, stdout=out, stderr=out,
                                   start_new_session=True)
    app = App(port=port, process=process, log=log)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(app.base_url + "/readyz", timeout=5).status_code == 200:
                return app
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    app.stop()
    raise RuntimeError(f"gunicorn did not become ready:\n{log.read_text()[-3000:]}")


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream tool {{
        # Round robin; one refused connection takes an instance out for 10 s.
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://tool;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Request-ID $request_id;
            # Another instance only when this one could not be reached: nginx never re-sends a POST
            # that got to an app (non_idempotent is not set), so no write is made twice.
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 1s;
            proxy_read_timeout 30s;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


@dataclass
class Balancer:
    port: int
    process: subprocess.Popen
    tmp: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # nginx's graceful stop
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_balancer(tmp: Path, port: int, upstream_ports: list[int]) -> Balancer:
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed: scripts/install-system-deps installs Debian's nginx-light")
    tmp.mkdir(parents=True, exist_ok=True)
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in upstream_ports)
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, servers=servers))
    process = subprocess.Popen([binary, "-e", str(tmp / "error.log"), "-p", str(tmp), "-c", str(conf)],
                               stdout=subprocess.DEVNULL, stderr=(tmp / "stderr.log").open("wb"))
    balancer = Balancer(port=port, process=process, tmp=tmp)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {(tmp / 'stderr.log').read_text()} {(tmp / 'error.log').read_text()}")
        try:
            requests.get(balancer.base_url + "/healthz", timeout=2)
            return balancer
        except requests.ConnectionError:
            time.sleep(0.1)
    balancer.stop()
    raise RuntimeError("nginx did not answer")


# -- a browser -------------------------------------------------------------------------------------------

@dataclass
class LaunchResult:
    ok: bool
    started: float
    error: str = ""
    login_upstream: str = ""
    launch_upstream: str = ""
    launch_id: str = ""
    written: str = ""  # the text of the concern the tool acknowledged ("" if none)
    id_token: str = ""
    state: str = ""
    browser: requests.Session | None = field(default=None, repr=False)

    @property
    def crossed(self) -> bool:
        return bool(self.login_upstream) and self.login_upstream != self.launch_upstream


def launch_and_edit(base: str, case_ids: list[int], *, person: dict[str, str] = TEACHER,
                    write: bool = True, keep_browser: bool = False, platform: str | None = None) -> LaunchResult:
    """A teacher's whole launch through `base` (fresh cookie jar), the landing page, a case, and a concern.

    The demo platform's own two steps (its login form and its authorization) go to `platform` when given,
    with `base`'s Host: in production the LMS is another server, not behind the tool's balancer.
    """
    result = LaunchResult(ok=False, started=time.monotonic())
    browser = requests.Session()
    lms, lms_headers = (platform, {"Host": urlsplit(base).netloc}) if platform else (base, {})
    try:
        action, fields = auto_post_form(browser.get(lms + "/demo/start/", params=person, headers=lms_headers,
                                                    timeout=15))
        login = browser.post(urljoin(base, action), data=fields, allow_redirects=False, timeout=15)
        result.login_upstream = login.headers.get("X-Upstream", "")
        if login.status_code != 302:
            raise AssertionError(f"login: HTTP {login.status_code}")
        authorize = urlsplit(urljoin(base, login.headers["Location"]))
        action, fields = auto_post_form(browser.get(f"{lms}{authorize.path}?{authorize.query}", headers=lms_headers,
                                                    timeout=15))
        result.id_token, result.state = fields.get("id_token", ""), fields.get("state", "")
        launch = browser.post(urljoin(base, action), data=fields, allow_redirects=False, timeout=15)
        result.launch_upstream = launch.headers.get("X-Upstream", "")
        if launch.status_code != 302:
            raise AssertionError(f"launch: HTTP {launch.status_code}")
        landing_path = launch.headers["Location"]
        result.launch_id = landing_path.strip("/").split("/")[1]
        landing = browser.get(urljoin(base, landing_path), timeout=15)
        if landing.status_code != 200 or 'data-testid="who"' not in landing.text:
            raise AssertionError(f"landing: HTTP {landing.status_code}")
        if write:
            case_id = case_ids[hash(result.launch_id) % len(case_ids)]
            page = browser.get(f"{base}/app/{result.launch_id}/cases/{case_id}/", timeout=15)
            if page.status_code != 200:
                raise AssertionError(f"case page: HTTP {page.status_code}")
            text = f"scaleout-{uuid.uuid4().hex}"
            posted = browser.post(f"{base}/app/{result.launch_id}/cases/{case_id}/raise_concern/",
                                  data={"text": text}, headers={"X-CSRFToken": browser.cookies["csrftoken"]},
                                  allow_redirects=False, timeout=15)
            if posted.status_code != 302:
                raise AssertionError(f"raise_concern: HTTP {posted.status_code}")
            result.written = text  # acknowledged: the tool answered that it is saved
        result.ok = True
    except (requests.RequestException, AssertionError, KeyError) as error:
        result.error = f"{error.__class__.__name__}: {str(error)[:200]}"
    if keep_browser:
        result.browser = browser
    else:
        browser.close()
    return result


def visible_case_ids(base: str, person: dict[str, str] = TEACHER) -> list[int]:
    """The cases the person's case list shows them (a launch of their own, through `base`)."""
    launched = launch_and_edit(base, [], person=person, write=False, keep_browser=True)
    assert launched.ok and launched.browser is not None, launched.error
    page = launched.browser.get(f"{base}/app/{launched.launch_id}/cases/", timeout=30)
    assert page.status_code == 200, page.status_code
    ids = sorted({int(case) for case in re.findall(rf"/app/{launched.launch_id}/cases/(\d+)/", page.text)})
    assert ids, "the teacher's case list is empty"
    return ids
