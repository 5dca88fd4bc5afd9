"""The OpenAPI contract: generated from the code, identical to the checked-in api/openapi.yaml, served
at /api/schema/ with browsable docs at /api/docs/ from our own static files, every error declared."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from django.core.management import call_command
from django.test import Client

from .conftest import url

COMMITTED = Path(__file__).resolve().parents[2] / "api" / "openapi.yaml"


def test_the_checked_in_schema_is_the_one_the_code_generates(tmp_path: Path) -> None:
    generated = tmp_path / "openapi.yaml"
    # --fail-on-warn: an operation the generator cannot describe fails here, not in a client.
    call_command("spectacular", "--validate", "--fail-on-warn", "--lang", "en", "--file", str(generated))
    assert generated.read_text() == COMMITTED.read_text(), (
        "api/openapi.yaml is out of date: .venv/bin/python manage.py spectacular --validate --fail-on-warn --lang en "
        "--file api/openapi.yaml")


def test_every_operation_declares_its_errors_in_one_shape() -> None:
    schema = yaml.safe_load(COMMITTED.read_text())
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for code in ("400", "401", "403", "404"):
                assert responses[code]["content"]["application/json"]["schema"] == error, (method, path, code)
            if method in ("post", "patch"):
                assert "422" in responses, (method, path)
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"code", "message", "fields"}


def test_the_schema_and_the_docs_are_served_without_a_cdn(client: Client, db: None) -> None:
    served = client.get(url("schema"))
    assert served.status_code == 200
    assert yaml.safe_load(served.content)["paths"].keys() == yaml.safe_load(COMMITTED.read_text())["paths"].keys()
    for name in ("docs", "redoc"):
        page = client.get(url(name))
        assert page.status_code == 200
        html = page.content.decode()
        scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
        assert scripts and all(src.startswith("/static/") for src in scripts), scripts
        for src in scripts:
            assert client.get(src).status_code == 200, src
