"""The app survives a PostgreSQL restart: requests during it get a clean 503 page, later ones work, and
nobody restarts the app.

The real PostgreSQL is shared with other work on this machine, so it is not restarted; instead the app
reaches it through a TCP relay on loopback, and the "restart" is what a restart does to the app: every
open connection is cut at once and new ones are refused, until the relay listens again. gunicorn keeps
its persistent connections (CONN_MAX_AGE) across requests, so the first request after the outage meets
a dead connection: CONN_HEALTH_CHECKS must notice it and connect anew.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from tests.deploy.cluster import App, launch_and_edit, start_app, visible_case_ids
from tests.servers import free_port, prepare, server_database, server_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
                       reason="a database server restart is PostgreSQL's (the PostgreSQL pass of scripts/test)"),
]


class Relay:
    """A TCP relay to PostgreSQL that can go down (cutting every connection) and come back on its port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """What a restart does to the app: new connections refused, open ones cut."""
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (close() alone does not)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed: the relay is down
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Overrides tests/conftest.py's: this test talks to a server process."""


@pytest.fixture
def relay() -> Iterator[Relay]:
    parts = urlsplit(os.environ["DATABASE_URL"])
    relay = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
    relay.up()
    yield relay
    relay.down()


def test_requests_during_a_database_restart_get_a_503_page_and_later_ones_work(tmp_path, relay):
    port = free_port()
    with server_database(tmp_path, "elevstod_outage_") as database:
        env = server_env(tmp_path, database)
        prepare(env, f"http://127.0.0.1:{port}")
        parts = urlsplit(database["DATABASE_URL"])
        through_relay = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{relay.port}"))
        app: App = start_app({**env, "DATABASE_URL": through_relay}, port, tmp_path / "server.log", workers=1)
        try:
            base = app.base_url
            case_id = visible_case_ids(base)[0]
            launched = launch_and_edit(base, [case_id], keep_browser=True)
            assert launched.ok and launched.written, launched.error
            browser, landing = launched.browser, f"{base}/app/{launched.launch_id}/"

            relay.down()  # PostgreSQL restarts
            during = [browser.get(landing, timeout=15),
                      browser.post(f"{base}/app/{launched.launch_id}/cases/{case_id}/raise_concern/",
                                   data={"text": "under avbrottet"}, allow_redirects=False,
                                   headers={"X-CSRFToken": browser.cookies["csrftoken"]}, timeout=15),
                      requests.get(f"{base}/lti/jwks/", timeout=15)]
            assert [response.status_code for response in during] == [503, 503, 503]
            for response in during:
                assert "Elevstöd är tillfälligt otillgängligt" in response.text
                assert "Traceback" not in response.text and "OperationalError" not in response.text
                assert response.headers["Retry-After"] == "5"
            assert requests.get(f"{base}/readyz", timeout=15).status_code == 503
            assert requests.get(f"{base}/healthz", timeout=15).status_code == 200  # no restart asked for

            relay.up()  # PostgreSQL is back
            assert requests.get(f"{base}/readyz", timeout=15).status_code == 200
            again = browser.get(landing, timeout=15)
            assert again.status_code == 200 and 'data-testid="who"' in again.text  # still logged in
            after = launch_and_edit(base, [case_id])
            assert after.ok and after.written, after.error
            assert app.process.poll() is None  # the same gunicorn, never restarted
        finally:
            app.stop()
