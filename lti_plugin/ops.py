"""What an operator's machinery talks to: probes, request ids, and a clean 503 when a backing service is down.

- `/healthz` (the process answers) and `/readyz` (database and cache reachable, no unapplied migration)
  are answered by `ProbeMiddleware` before anything else runs: no session, no host check (a Kubernetes
  probe sends the pod's IP as Host), no HTTPS redirect (probes speak plain HTTP inside the cluster).
  They say "ok" or "unavailable" and nothing else: no versions, no error text.
- `RequestIdMiddleware` gives every request an id (the proxy's `X-Request-ID` if it is a sane one),
  puts it on the response and into every log line written while the request runs (lti_plugin.logs).
- `server_error` is the project's handler500: when the request failed because PostgreSQL or Redis
  could not be reached (a restart, a failover), the person gets a short 503 page in Swedish (and
  English) instead of a 500, and the next request, once the service is back, works without restarting
  the app (CONN_HEALTH_CHECKS replaces the broken connection).
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.core.signals import request_finished
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.views import defaults

log = logging.getLogger("elevstod.ops")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestIdMiddleware:
    """One id per request, in the `X-Request-ID` response header and in every log line of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        rid = given if _SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        # Not reset on the way out: Django logs the response ("Not Found: …") after the middleware has
        # returned; request_finished clears it once the response is sent.
        request_id.set(rid)
        response = self.get_response(request)
        response["X-Request-ID"] = rid
        return response


def _clear_request_id(**_: object) -> None:
    request_id.set("-")


request_finished.connect(_clear_request_id, dispatch_uid="elevstod-clear-request-id")


# -- probes ----------------------------------------------------------------------------------------

_migrations_applied = False  # once true it stays true for this code: the check is paid once per process


def _plain(text: str, status: int) -> HttpResponse:
    response = HttpResponse(text + "\n", content_type="text/plain; charset=utf-8", status=status)
    response["Cache-Control"] = "no-store"
    return response


def _ready() -> bool:
    global _migrations_applied
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
        probe_key = "readyz-probe"
        cache.set(probe_key, "1", 30)
        if cache.get(probe_key) != "1":
            log.warning("readyz: the cache did not return what was stored")
            return False
        if not _migrations_applied:
            connection = connections[DEFAULT_DB_ALIAS]
            executor = MigrationExecutor(connection)
            if executor.migration_plan(executor.loader.graph.leaf_nodes()):
                log.warning("readyz: unapplied migrations")
                return False
            _migrations_applied = True
        return True
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"; the type is enough to log
        log.warning("readyz: %s", error.__class__.__name__)
        return False


class ProbeMiddleware:
    """Answers `/healthz` and `/readyz` first in the stack; everything else passes through untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            if request.path == "/healthz":
                return _plain("ok", 200)
            if request.path == "/readyz":
                return _plain("ok", 200) if _ready() else _plain("unavailable", 503)
        return self.get_response(request)


# -- a backing service is down ---------------------------------------------------------------------

UNAVAILABLE_PAGE = """<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Elevstöd är tillfälligt otillgängligt</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem">
<h1>Elevstöd är tillfälligt otillgängligt</h1>
<p>Tjänsten kommer inte åt sin databas just nu. Ingenting av det du sparat tidigare har gått förlorat.
Försök igen om en liten stund. Det du skickade nyss sparades inte: gör om det när sidan fungerar igen.</p>
<p lang="en">Elevstöd is briefly unavailable: it cannot reach its database. Nothing saved earlier is lost.
Please try again in a moment; what you just sent was not saved.</p>
</body></html>
"""


def _backing_service_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OperationalError, InterfaceError]
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        errors += [RedisConnectionError, RedisTimeoutError]
    except ImportError:  # pragma: no cover - redis is a dependency; the embedded default does not use it
        pass
    return tuple(errors)


BACKING_SERVICE_ERRORS = _backing_service_errors()


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 page when PostgreSQL or Redis is unreachable, else Django's plain 500 page.

    Django calls this inside its `except` block for any uncaught exception, in a view or in a
    middleware (the session's load, say), so `sys.exc_info()` names what went wrong.
    """
    error = sys.exc_info()[1]
    if isinstance(error, BACKING_SERVICE_ERRORS):
        response = HttpResponse(UNAVAILABLE_PAGE, content_type="text/html; charset=utf-8", status=503)
        response["Retry-After"] = "5"
        response["Cache-Control"] = "no-store"
        return response
    return defaults.server_error(request)
