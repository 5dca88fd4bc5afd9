"""Iframe readiness: cookies that survive a cross-site iframe, and who may frame us.

Django 5.2 has no `Partitioned` cookie attribute and no CSP support, so these two small
middlewares do it (DESIGN.md, "LTI contract").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from lti_plugin.lti.models import Registration

FRAME_ORIGINS_CACHE_KEY = "lti-frame-origins"
LAUNCHED_FROM_ATTR = "lti_platform_origin"


class CrossSiteCookieMiddleware:
    """Over HTTPS every cookie we set is `SameSite=None; Secure; Partitioned`.

    Inside an LMS iframe the tool is a third party: the login's state cookie and the session cookie
    are only sent back if they are SameSite=None and Secure, and browsers that block third-party
    cookies still keep a Partitioned (CHIPS) one. Over plain HTTP (the embedded default, where the
    demo platform is same-origin) cookies stay as Django sets them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.is_secure():
            for morsel in response.cookies.values():
                morsel["secure"] = True
                # Python 3.11's Morsel knows no Partitioned flag; it is appended to SameSite's value.
                morsel["samesite"] = "None; Partitioned"
        return response


def frame_origins() -> list[str]:
    """Origins of the active registered platforms, cached in the shared cache (cleared on change)."""
    origins = cache.get(FRAME_ORIGINS_CACHE_KEY)
    if origins is None:
        from lti_plugin.lti.models import Registration, Status

        origins = sorted({reg.platform_origin for reg in Registration.objects.filter(status=Status.ACTIVE)
                          if reg.issuer.startswith(("https://", "http://"))})
        cache.set(FRAME_ORIGINS_CACHE_KEY, origins, 300)
    return origins


def launched_from(request: HttpRequest, registration: Registration) -> None:
    """Mark the request as a page of a launch through `registration`: that platform, beside the tool
    itself, may frame the response; none if the registration is no longer active (as in
    `frame_origins`)."""
    from lti_plugin.lti.models import Status

    framing = registration.status == Status.ACTIVE and registration.issuer.startswith(("https://", "http://"))
    setattr(request, LAUNCHED_FROM_ATTR, [registration.platform_origin] if framing else [])


class FramingMiddleware:
    """CSP `frame-ancestors`: the tool's pages may be framed by itself and the registered platforms.

    A view that knows better (the registration page, framed by a platform not yet registered) sets
    its own Content-Security-Policy; the admin site may not be framed at all.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" in response:
            return response
        if not response.get("Content-Type", "").startswith("text/html") or 300 <= response.status_code < 400:
            return response  # only documents can be framed; redirects and JSON need no policy
        if request.path.startswith("/admin/"):
            response["Content-Security-Policy"] = "frame-ancestors 'none'"
            response["X-Frame-Options"] = "DENY"
            return response
        # A page of a launch is framed by the platform that launched it: its origin is known without
        # asking the cache for every registered platform's (the view sets it, `launched_from`).
        launched = getattr(request, LAUNCHED_FROM_ATTR, None)
        ancestors = " ".join(["'self'", *(launched if launched is not None else frame_origins())])
        response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
        return response
