"""Back up and restore as deploy/README.md tells an operator to: pg_dump, a fresh database, pg_restore,
the tool started on it, and the same archive read back through a real launch.

The database holds the demo schools, made through the support services (setup_embedded): plans at every
stage, closed plans (the archive) and the decisions that closed them. The dump alone does not give away
the tool's private signing key: it is stored encrypted with a key that lives in the environment.
PostgreSQL only: pg_dump is the procedure being tested.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import psycopg
import pytest

from tests.deploy.cluster import TEACHER, launch_and_edit, start_app
from tests.servers import free_port, manage, prepare, server_database, server_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
                       reason="backup and restore with pg_dump/pg_restore is PostgreSQL's (the PostgreSQL pass)"),
    pytest.mark.skipif(shutil.which("pg_dump") is None,
                       reason="pg_dump is missing: scripts/install-system-deps installs postgresql-client"),
]

PRINCIPAL = {**TEACHER, "person": "s-13"}


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Overrides tests/conftest.py's: this test talks to server processes."""


def archive(url: str) -> dict[int, list[tuple[str, str]]]:
    """Closed plans' cases -> their decisions (type, grounds), read straight from a database."""
    with psycopg.connect(url) as conn:
        found = conn.execute(
            "SELECT d.case_id, d.decision_type, d.grounds FROM support_decision d "
            "WHERE d.case_id IN (SELECT case_id FROM support_plan WHERE status = 'closed') "
            "ORDER BY d.case_id, d.id").fetchall()
    result: dict[int, list[tuple[str, str]]] = {}
    for case_id, kind, grounds in found:
        result.setdefault(case_id, []).append((kind, grounds))
    return result


def test_a_dump_restored_into_a_fresh_database_serves_the_same_archive(tmp_path):
    port = free_port()
    with server_database(tmp_path, "elevstod_backup_") as source:
        env = server_env(tmp_path, source)
        prepare(env, f"http://127.0.0.1:{port}")
        manage(env, "shell", "-c", "from lti_plugin.lti import keys; keys.signing_key()")  # the tool's key exists
        before = archive(source["DATABASE_URL"])
        assert before, "the demo schools hold no closed plan"
        private_pem = manage(env, "shell", "-c", (
            "from lti_plugin.lti import keys; print(keys.private_pem(keys.signing_key()))"))

        # The backup, as deploy/README.md has it: custom format, no owners or privileges.
        dump = tmp_path / "elevstod.dump"
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(dump),
                        source["DATABASE_URL"]], check=True, timeout=120)
        plain = subprocess.run(["pg_restore", "--file=-", str(dump)], check=True, capture_output=True,
                               text=True, timeout=120).stdout
        assert "support_decision" in plain and before[next(iter(before))][0][1] in plain  # it is a real backup
        # ...which does not reveal the tool's private key: no PEM, no line of its base64 body.
        assert "PRIVATE KEY" not in plain
        assert not [line for line in private_pem.splitlines()[1:-1] if len(line) > 20 and line in plain]

        with server_database(tmp_path, "elevstod_restored_") as target:
            subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                            "--dbname", target["DATABASE_URL"], str(dump)], check=True, timeout=300)
            assert archive(target["DATABASE_URL"]) == before

            # The tool on the restored database (same address, same secrets), read through a real launch.
            restored_env = server_env(tmp_path, target)
            app = start_app(restored_env, port, tmp_path / "restored.log")
            try:
                launched = launch_and_edit(app.base_url, [], person=PRINCIPAL, write=False, keep_browser=True)
                assert launched.ok, launched.error
                browser, base = launched.browser, app.base_url
                for case_id, decisions in before.items():
                    page = browser.get(f"{base}/app/{launched.launch_id}/cases/{case_id}/")
                    if page.status_code == 404:
                        continue  # another unit's pupil: not this principal's
                    assert page.status_code == 200
                    for _kind, grounds in decisions:
                        assert grounds in page.text.replace("&#x27;", "'").replace("&quot;", '"')
                    archived = browser.get(f"{base}/app/{launched.launch_id}/cases/{case_id}/archive/")
                    assert archived.status_code == 200 and 'data-testid="archived-plan"' in archived.text
                    break
                else:
                    pytest.fail("the principal reached no case with a closed plan")
                # The restored tool still signs with the same key: its JWKS is what the platform cached.
                assert browser.get(f"{base}/lti/jwks/").status_code == 200
            finally:
                app.stop()
