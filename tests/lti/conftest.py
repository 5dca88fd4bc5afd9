"""Platforms for the LTI tests: registered with the tool, keys inline or behind a real JWKS URL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .platform import KeySetServer, Lms


@pytest.fixture
def lms(db) -> Lms:
    """A real LTI 1.3 platform: its own RSA key, registered with us (keys inline), signs every id_token."""
    return Lms.register(issuer="https://lms.example.test", client_id="tool-1", deployment_ids=["1"])


@pytest.fixture
def key_set_server() -> Iterator[KeySetServer]:
    """A platform's JWKS URL served over HTTP from a thread on 127.0.0.1, counting fetches."""
    server = KeySetServer().start()
    yield server
    server.stop()


@pytest.fixture
def lms_by_url(db, key_set_server: KeySetServer) -> Lms:
    """A platform registered by its JWKS URL, which the tool fetches over real HTTP."""
    lms = Lms.register(issuer="https://moodle.kommun.example", client_id="tool-2", deployment_ids=["1"],
                       key_set_url=key_set_server.url)
    key_set_server.lms = lms
    return lms
