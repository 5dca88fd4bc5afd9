"""Browser journeys: the tool as a real server process, driven by a real headless Chromium.

One gunicorn server per test module, against a fresh SQLite file in a temporary directory (or, when
DATABASE_URL names PostgreSQL, a dedicated database created for the module and dropped after it).
The server is prepared as an operator would: `migrate`, then `setup_embedded --base-url`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import ToolServer, free_port, prepare, server_database, server_env, start_server

CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium in a container (DESIGN.md, "Known traps").
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-quic", "--disable-sync", "--no-first-run"]


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Overrides tests/conftest.py's: these tests talk to a server process and never touch the test database."""


@pytest.fixture(scope="module")
def tool_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolServer]:
    tmp = tmp_path_factory.mktemp("tool-server")
    port = free_port()
    with server_database(tmp, "elevstod_proc_") as database:
        env = server_env(tmp, database)
        prepare(env, f"http://127.0.0.1:{port}")
        server = start_server(env, port, tmp / "server.log", workers=2, threads=4)
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
