"""Browser journeys: the tool as a real server process, driven by a real headless Chromium.

One gunicorn server per test module, against a fresh SQLite file in a temporary directory (or, when
DATABASE_URL names PostgreSQL, a dedicated database created for the module and dropped after it).
The server is prepared as an operator would: `migrate`, then `setup_embedded --base-url`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import REPO, ToolServer, free_port, prepare, server_database, server_env, start_server

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


# --- screenshots of every open page when a test fails ----------------------------------------------

SCREENSHOTS = Path(os.environ.get("ELEVSTOD_FAILURE_SCREENSHOTS", REPO / "var" / "screenshots"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    """When a browser test fails (in its body or its setup), a PNG of each page still open in the
    test's browser and the HTML of each iframe in it, under var/screenshots/<test>/
    (ELEVSTOD_FAILURE_SCREENSHOTS moves it); the paths are in the failure report. The test's
    contexts are still open here: their fixtures close them afterwards."""
    report = yield
    browser = getattr(item, "funcargs", {}).get("browser")
    if report.failed and report.when in ("setup", "call") and browser is not None:
        folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", item.nodeid.split("::", 1)[-1])[:120]
        saved = []
        for number, ctx in enumerate(browser.contexts):
            for index, open_page in enumerate(ctx.pages):
                path = folder / f"context{number}-page{index}.png"
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    open_page.screenshot(path=str(path), full_page=True, timeout=5_000)
                    saved.append(f"{path} ({open_page.url})")
                    # An iframe shows only its visible part: its whole document beside the PNG.
                    for inner, frame in enumerate(open_page.frames[1:]):
                        html = path.with_name(f"{path.stem}-frame{inner}.html")
                        html.write_text(frame.content())
                        saved.append(f"{html} ({frame.url})")
                except Exception as problem:  # a crashed or closing page must not hide the failure
                    saved.append(f"{path}: no screenshot ({problem.__class__.__name__})")
        if saved:
            report.sections.append(("screenshots", "\n".join(saved)))
    return report
