"""Property-based: schemathesis generates requests from the served schema for every operation and
sends them through the WSGI app. No input gets a 5xx, and every answer (status, content type,
headers, body) is one the schema declares.

Each operation runs with a read-write principal's token on ids generated from the schema, then on
the real ids of the school (so the requests reach the services, not only the 404); the token
operations and the writes run once more in the principal's launch session (cookie, launch header
and CSRF token, as a browser sends them).

schemathesis 4 under pytest 9: its pytest fixture loader fails (DESIGN.md), so the schema is loaded
inside the test and each operation runs with Hypothesis directly, bounded and derandomized so CI
stays fast and repeatable.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import schemathesis
from django.conf import settings as django_settings
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lti_plugin.wsgi import application

from .conftest import LAUNCH_HEADER, History, School, make_token

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXAMPLES = 6


def run(operation: Any, *, headers: dict[str, str], cookies: dict[str, str] | None = None,
        path_parameters: dict[str, int] | None = None) -> None:
    fixed = {name: value for name, value in (path_parameters or {}).items() if f"{{{name}}}" in operation.path}

    @given(case=operation.as_strategy(path_parameters=fixed or None))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def requests(case: Any) -> None:
        response = case.call(headers=headers, cookies=cookies)
        case.validate_response(response, checks=CHECKS)

    requests()


@contextmanager
def in_the_test_transaction() -> Iterator[None]:
    """Requests straight into the WSGI app keep the test's connection (and its transaction) open,
    as Django's test client does around each of its requests: outside a test, a request's end
    closes it. (After the test client's last request, which connects the signals again.)"""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_no_generated_request_gets_a_5xx_or_an_answer_outside_the_schema(se: School, history: History) -> None:
    made = make_token(se, "principal", units=[se.unit.pk], read_only=False)
    spare = make_token(se, "principal", units=[se.unit.pk], name="To revoke")  # not the one in use
    token = {"Authorization": f"Bearer {made['secret']}"}
    ids = {"case_id": se.case.pk, "plan_id": history.draft.pk, "token_id": spare["id"]}
    principal = se["principal"]
    csrf = secrets.token_hex(16)  # a browser's CSRF cookie and the header that repeats it
    # No Authorization header: schemathesis would otherwise make one up, and a bad token is a 401.
    session = {LAUNCH_HEADER: principal.launch_id, "X-CSRFToken": csrf, "Authorization": ""}
    cookies = {django_settings.SESSION_COOKIE_NAME: principal.client.cookies[django_settings.SESSION_COOKIE_NAME].value,
               django_settings.CSRF_COOKIE_NAME: csrf}
    with in_the_test_transaction():
        schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 20
        for operation in operations:
            run(operation, headers=token)
            if "{" in operation.path:
                run(operation, headers=token, path_parameters=ids)
            if operation.method.upper() != "GET" or operation.path.startswith("/api/tokens/"):
                run(operation, headers=session, cookies=cookies, path_parameters=ids)
