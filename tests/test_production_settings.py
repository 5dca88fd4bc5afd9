"""Production settings, in a fresh interpreter (settings are read once per process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parent.parent

PROBE = """
import django, os
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client(HTTP_HOST="tool.example.org")
print("demo", client.get("/demo/", secure=True).status_code)
print("demo_auth", client.get("/demo/auth/", secure=True).status_code)
print("auto_activate", settings.LTI_AUTO_ACTIVATE_REGISTRATIONS)
print("debug", settings.DEBUG)
"""


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "KEY_ENCRYPTION_KEYS")}
    env.update(ELEVSTOD_ENV="production", SECRET_KEY="x" * 60, ALLOWED_HOSTS="tool.example.org",
               KEY_ENCRYPTION_KEYS=Fernet.generate_key().decode(), DATABASE_URL=f"sqlite:///{tmp_path}/p.sqlite3",
               ELEVSTOD_DATA_DIR=str(tmp_path))
    env.update(extra)
    return env


def test_production_has_no_demo_platform_and_keeps_registrations_pending(tmp_path):
    env = production_env(tmp_path, STATIC_ROOT=str(tmp_path))
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True, timeout=120)
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.strip().splitlines())
    assert lines == {"demo": "404", "demo_auth": "404", "auto_activate": "False", "debug": "False"}


def test_production_refuses_to_start_without_a_key_encryption_key(tmp_path):
    env = production_env(tmp_path)
    del env["KEY_ENCRYPTION_KEYS"]
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "KEY_ENCRYPTION_KEYS" in result.stderr


def test_deploy_check_passes_without_errors(tmp_path):
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"], cwd=REPO,
                            env=production_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "security.W002" not in result.stdout + result.stderr
