"""PostgreSQL connection settings: repeated queries become prepared statements, unless turned off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from lti_plugin.support.models import SchoolUnit

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                                reason="prepared statements are PostgreSQL's")

PROBE = """
import django
django.setup()
from django.db import connection
from lti_plugin.support.models import SchoolUnit
for _ in range(8):
    list(SchoolUnit.objects.filter(name="none such"))
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%%support_schoolunit%%'")
    print(cursor.fetchone()[0])
"""


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_a_query_run_five_times_on_a_connection_is_planned_once():
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # what earlier tests prepared on this connection (psycopg forgets it too)
    assert not any('"support_schoolunit"' in statement for statement in _prepared())
    for _ in range(6):
        list(SchoolUnit.objects.filter(name="Solbacka"))
    assert any('"support_schoolunit"' in statement for statement in _prepared())


@pytest.mark.parametrize(("threshold", "prepared"), [("off", "0"), ("5", "1")])
def test_db_prepare_threshold_turns_preparing_off_and_on(django_db_setup, django_db_blocker, threshold, prepared):
    with django_db_blocker.unblock():
        database = connection.settings_dict["NAME"]
    env = {**os.environ, "DB_PREPARE_THRESHOLD": threshold,
           "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + database}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == prepared
