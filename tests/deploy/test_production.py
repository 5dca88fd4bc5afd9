"""Production settings as an operator meets them, each in a fresh interpreter (settings load once a process).

`check --deploy` has nothing to say; the probes answer a kubelet (plain HTTP, the pod's IP as Host) and
say nothing but ok/unavailable; /readyz is unavailable until the migrations are applied; the image's
collectstatic step works and WhiteNoise serves what it collected; no model change lacks its migration.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Overrides tests/conftest.py's: these tests start their own processes."""


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "SECRET_KEY", "KEY_ENCRYPTION_KEYS", "REDIS_URL", "SQLITE_PATH", "LOG_FORMAT")}
    env.update(ELEVSTOD_ENV="production", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="tool.example.org",
               KEY_ENCRYPTION_KEYS=Fernet.generate_key().decode(), DATABASE_URL=f"sqlite:///{tmp_path}/p.sqlite3",
               ELEVSTOD_DATA_DIR=str(tmp_path), STATIC_ROOT=str(tmp_path / "static"),
               DJANGO_SETTINGS_MODULE="lti_plugin.settings")
    env.update(extra)
    return env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_reports_no_issue_at_all(tmp_path):
    done = run(production_env(tmp_path), "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNINGS" not in output


def test_check_deploy_speaks_up_when_hsts_is_off(tmp_path):
    """The silence above is earned: turning HSTS off is reported."""
    done = run(production_env(tmp_path, SECURE_HSTS_SECONDS="0"), "manage.py", "check", "--deploy")
    assert "security.W004" in done.stdout + done.stderr


PROBE = """
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
kubelet = Client(HTTP_HOST="10.42.0.17:8000", raise_request_exception=False)  # a probe: the pod's IP as Host, plain HTTP
for path in ("/healthz", "/readyz", "/lti/jwks/"):
    response = kubelet.get(path)
    print(path, response.status_code, response.content.decode().strip()[:40].replace(" ", "_"),
          response.get("Location", "-"))
browser = Client(HTTP_HOST="tool.example.org", raise_request_exception=False)
response = browser.get("/lti/jwks/")  # plain HTTP from outside the proxy: sent to HTTPS
print("http", response.status_code, response.get("Location"))
response = browser.get("/lti/jwks/", secure=True)
print("https", response.status_code, response.get("Strict-Transport-Security"), response.get("X-Request-ID") is not None)
print("page", "Elevstöd är tillfälligt otillgängligt" in response.content.decode(), response.get("Retry-After", "-"))
"""


def probe(env: dict[str, str]) -> dict[str, list[str]]:
    done = run(env, "-c", PROBE)
    assert done.returncode == 0, done.stderr
    return {line.split()[0]: line.split()[1:] for line in done.stdout.strip().splitlines()}


def test_probes_answer_a_kubelet_and_readyz_waits_for_the_migrations(tmp_path):
    env = production_env(tmp_path)

    before = probe(env)  # an empty database: nothing migrated yet
    assert before["/healthz"] == ["200", "ok", "-"]
    assert before["/readyz"] == ["503", "unavailable", "-"]  # no reason given to whoever asks

    migrated = run(env, "manage.py", "migrate", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    after = probe(env)
    assert after["/healthz"] == ["200", "ok", "-"]
    assert after["/readyz"] == ["200", "ok", "-"]
    # Everything else still checks the host and still goes to HTTPS.
    assert after["/lti/jwks/"][0] == "400"
    assert after["http"] == ["301", "https://tool.example.org/lti/jwks/"]
    assert after["https"] == ["200", "max-age=31536000;", "includeSubDomains", "True"]


def test_readyz_is_unavailable_when_the_database_is(tmp_path):
    env = production_env(tmp_path, DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    answers = probe(env)
    assert answers["/healthz"] == ["200", "ok", "-"]  # alive: the orchestrator must not restart it for this
    assert answers["/readyz"] == ["503", "unavailable", "-"]
    # A person gets the Swedish 503 page, not a 500 or a stack trace.
    assert answers["https"][0] == "503"
    assert answers["page"] == ["True", "5"]


def test_the_images_collectstatic_step_works_and_whitenoise_serves_it(tmp_path):
    # The Dockerfile's build step, with its placeholder values.
    build_env = production_env(tmp_path, SECRET_KEY="collectstatic-only", KEY_ENCRYPTION_KEYS="collectstatic-only",
                               DATABASE_URL="sqlite:////tmp/build.sqlite3", LOG_FORMAT="text")
    done = run(build_env, "manage.py", "collectstatic", "--noinput", "-v0")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "static" / "frontend" / "app.css").exists()

    served = run(production_env(tmp_path), "-c", (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "r = Client(HTTP_HOST='tool.example.org').get('/static/frontend/app.css', secure=True)\n"
        "print(r.status_code, b''.join(r.streaming_content)[:0] == b'')\n"))
    assert served.stdout.split() == ["200", "True"], served.stderr


def test_no_model_change_is_missing_its_migration(db):
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:
        pytest.fail(f"makemigrations --check found changes without a migration:\n{out.getvalue()} ({exit_})")


BEHIND_PROXY = """
import django
django.setup()
from django.test import Client
proxy = Client(HTTP_HOST="tool.example.org", HTTP_X_FORWARDED_PROTO="https")  # TLS ended at the proxy
response = proxy.get("/admin/login/")
cookie = response.cookies["csrftoken"]
print("status", response.status_code)
print("cookie", cookie["secure"], cookie["samesite"])
response = proxy.get("/")
print("csp", response.get("Content-Security-Policy"))
print("hsts", response.get("Strict-Transport-Security"))
"""


def test_behind_the_tls_proxy_cookies_and_framing_follow_the_iframe_rules(tmp_path):
    env = production_env(tmp_path)
    assert run(env, "manage.py", "migrate", "-v0").returncode == 0
    done = run(env, "-c", BEHIND_PROXY)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.strip().splitlines())
    assert lines["status"] == "200"  # no redirect: the proxy said the request came over HTTPS
    assert lines["cookie"] == "True None; Partitioned"  # SameSite=None; Secure; Partitioned (DESIGN.md)
    assert lines["csp"].startswith("frame-ancestors 'self'")
    assert lines["hsts"] == "max-age=31536000; includeSubDomains"
