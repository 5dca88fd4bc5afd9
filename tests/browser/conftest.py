"""Browser journeys: the tool as a real server process, driven by a real headless Chromium.

One gunicorn server per test module, against a fresh SQLite file in a temporary directory (or, when
DATABASE_URL names PostgreSQL, a dedicated database created for the module and dropped after it).
The server is prepared as an operator would: `migrate`, then `setup_embedded --base-url`.
"""

from __future__ import annotations

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
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium in a container (DESIGN.md, "Known traps").
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-quic", "--disable-sync", "--no-first-run"]


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Overrides tests/conftest.py's: these tests talk to a server process and never touch the test database."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server_database(tmp: Path) -> Iterator[dict[str, str]]:
    """Environment naming the servers' database: a SQLite file in `tmp`, or a fresh PostgreSQL database."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield {"SQLITE_PATH": str(tmp / "db.sqlite3")}
        return
    import psycopg

    parts = urlsplit(url)
    name = "elevstod_proc_" + secrets.token_hex(4)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"DATABASE_URL": urlunsplit(parts._replace(path="/" + name))}
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(tmp: Path, database: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "SQLITE_PATH", "REDIS_URL", "ELEVSTOD_ENV", "SECRET_KEY", "DEBUG"}}
    env.update(database)
    env.update(DJANGO_SETTINGS_MODULE="lti_plugin.settings", ELEVSTOD_DATA_DIR=str(tmp),
               LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)


@dataclass
class ToolServer:
    """One running server process (gunicorn, its own port) of the tool."""

    base_url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def start_server(env: dict[str, str], port: int, log: Path, *, workers: int = 2) -> ToolServer:
    """`gunicorn lti_plugin.wsgi` on 127.0.0.1:port; returns once it answers."""
    command = [sys.executable, "-m", "gunicorn", "lti_plugin.wsgi", "-b", f"127.0.0.1:{port}",
               "-w", str(workers), "--threads", "4", "--graceful-timeout", "2", "--access-logfile", "-"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = ToolServer(base_url=f"http://127.0.0.1:{port}", process=process, log=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{server.log_tail()}")
        try:
            requests.get(server.base_url + "/lti/jwks/", timeout=1)
            return server
        except requests.ConnectionError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"the server did not answer within 30 s:\n{server.log_tail()}")


def prepare(env: dict[str, str], base_url: str) -> None:
    """What an operator runs before the first start."""
    manage(env, "migrate", "--noinput")
    manage(env, "setup_embedded", "--base-url", base_url)


@pytest.fixture(scope="module")
def tool_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolServer]:
    tmp = tmp_path_factory.mktemp("tool-server")
    port = free_port()
    with server_database(tmp) as database:
        env = server_env(tmp, database)
        prepare(env, f"http://127.0.0.1:{port}")
        server = start_server(env, port, tmp / "server.log")
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def browser(tool_server: ToolServer):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # launch() (not a persistent context) gives every run a fresh temporary profile.
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser):
    """A fresh browser context per test: no cookies from another journey. English UI on the demo page."""
    ctx = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(10_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()
