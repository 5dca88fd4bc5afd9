"""Shared test setup: where Moodle's real payloads are, and a clean shared cache per test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.cache import cache

REPO = Path(__file__).resolve().parent.parent
MOODLE_FIXTURES = REPO.parent / "shared" / "fixtures" / "moodle"


def moodle_fixture(name: str) -> dict:
    """A payload Moodle 4.5 really sends (shared/fixtures/moodle); missing fixtures fail, never skip."""
    path = MOODLE_FIXTURES / name
    if not path.exists():
        raise FileNotFoundError(f"Moodle fixture {path} is missing: clone shared/ beside the repository")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _clear_cache(db):
    """The JWKS cache and frame origins live in the shared cache: no test sees another's entries."""
    cache.clear()
    yield
    cache.clear()
