"""deploy/daily.py, the compose file's scheduler: the next run is the next HH:MM, today or tomorrow."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

spec = importlib.util.spec_from_file_location("daily", Path(__file__).resolve().parents[2] / "deploy" / "daily.py")
daily = importlib.util.module_from_spec(spec)
spec.loader.exec_module(daily)
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Overrides tests/conftest.py's: no database here."""


def test_before_the_time_it_runs_today_and_after_it_tomorrow():
    assert daily.seconds_until("06:30", datetime(2026, 11, 23, 6, 0, tzinfo=STOCKHOLM)) == 30 * 60
    assert daily.seconds_until("06:30", datetime(2026, 11, 23, 6, 30, tzinfo=STOCKHOLM)) == 24 * 3600
    assert daily.seconds_until("06:30", datetime(2026, 11, 23, 23, 0, tzinfo=STOCKHOLM)) == 7.5 * 3600
