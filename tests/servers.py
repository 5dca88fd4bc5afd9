"""The tool as real server processes (gunicorn, each on its own port), for the tests that need them.

Shared by the browser journeys (tests/browser) and the two-process test (tests/lti/test_two_processes.py):
a database for the servers, their environment, management commands against it, and starting and stopping
the servers.
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

import requests

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server_database(tmp: Path, prefix: str) -> Iterator[dict[str, str]]:
    """Environment naming the servers' database: a SQLite file in `tmp`; or, when DATABASE_URL names
    PostgreSQL, a fresh database named `prefix` + a random suffix, dropped afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield {"SQLITE_PATH": str(tmp / "db.sqlite3")}
        return
    import psycopg

    parts = urlsplit(url)
    name = prefix + secrets.token_hex(4)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"DATABASE_URL": urlunsplit(parts._replace(path="/" + name))}
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(tmp: Path, database: dict[str, str]) -> dict[str, str]:
    """This process's environment without its database and deployment settings; `database`, data dir `tmp`."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "SQLITE_PATH", "REDIS_URL", "ELEVSTOD_ENV", "SECRET_KEY", "DEBUG"}}
    env.update(database)
    env.update(DJANGO_SETTINGS_MODULE="lti_plugin.settings", ELEVSTOD_DATA_DIR=str(tmp),
               LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    return env


def manage(env: dict[str, str], *args: str) -> str:
    """`manage.py *args` in `env`; its standard output."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, check=True,
                          capture_output=True, text=True, timeout=120)
    return done.stdout


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


def start_server(env: dict[str, str], port: int, log: Path, *, workers: int = 2,
                 threads: int | None = None) -> ToolServer:
    """`gunicorn lti_plugin.wsgi` on 127.0.0.1:port (`--threads` only when given); returns once it answers."""
    command = [sys.executable, "-m", "gunicorn", "lti_plugin.wsgi", "-b", f"127.0.0.1:{port}",
               "-w", str(workers), "--graceful-timeout", "2", "--access-logfile", "-"]
    if threads is not None:
        command += ["--threads", str(threads)]
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = ToolServer(base_url=f"http://127.0.0.1:{port}", process=process, log=log)
    # A loaded machine (CI's two cores) may take seconds for the first answer: a slow answer is waited
    # for, not taken for a failure.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{server.log_tail()}")
        try:
            requests.get(server.base_url + "/lti/jwks/", timeout=5)
            return server
        # A worker still booting (Django, the URLconf with the API) may take over a second to answer.
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"the server did not answer within 60 s:\n{server.log_tail()}")


def prepare(env: dict[str, str], base_url: str) -> None:
    """What an operator runs before the first start."""
    manage(env, "migrate", "--noinput")
    manage(env, "setup_embedded", "--base-url", base_url)
