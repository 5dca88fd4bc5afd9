"""LTI endpoints: OIDC login, launch, JWKS, dynamic registration, deep linking.

The URL paths are a contract (DESIGN.md "LTI contract"); outside checks rely on them.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode, urlsplit

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import keys
from .deep_linking import deep_linking_response
from .errors import LtiRefusal, render_refusal
from .launch import STATE_COOKIE_PREFIX, ToolMessageLaunch, is_our_launch_url, tool_origins
from .models import OidcState, Registration, Status
from .registration import register_dynamically
from lti_plugin.support.services.people import record_launch_person

from .session import launch_from_session, launch_locale, record_launch, remember_launch

LOGIN_PARAMS = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "lti_deployment_id", "client_id")


def _param(request: HttpRequest, key: str) -> str:
    return (request.POST.get(key) or request.GET.get(key) or "").strip()


def _find_login_registration(request: HttpRequest, registration_uuid: str | None) -> Registration:
    issuer = _param(request, "iss")
    if not issuer:
        raise LtiRefusal(_("The login request names no platform (iss)."), code="iss_missing")
    if not _param(request, "login_hint"):
        raise LtiRefusal(_("The login request lacks login_hint."), code="login_hint_missing")
    rows = Registration.objects.filter(issuer=issuer)
    if registration_uuid:
        rows = rows.filter(uuid=registration_uuid)
    client_id = _param(request, "client_id")
    if client_id:
        rows = rows.filter(client_id=client_id)
    candidates = list(rows[:2])
    if not candidates:
        raise LtiRefusal(_("This platform is not registered with the tool."), status=403, code="iss_unknown")
    if len(candidates) > 1:
        raise LtiRefusal(_("The platform has several registrations here; it must send its client id."),
                         code="client_id_ambiguous")
    registration = candidates[0]
    if registration.status != Status.ACTIVE:
        raise LtiRefusal(_("This platform's registration is waiting for approval by the tool's administrator."),
                         status=403, code="registration_pending")
    return registration


@csrf_exempt  # a cross-site POST from the LMS by design; the id_token's signature is the guard
@never_cache
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest, registration_uuid: str | None = None) -> HttpResponse:
    """OIDC third-party login initiation: answer with a redirect to the platform's authorization."""
    try:
        registration = _find_login_registration(request, registration_uuid)
        target_link_uri = _param(request, "target_link_uri")
        if not is_our_launch_url(request, target_link_uri):
            raise LtiRefusal(_("The launch points at an address that is not this tool's."), code="target_link_uri")
    except LtiRefusal as refusal:
        return render_refusal(request, refusal)

    # Cross-site over HTTPS (inside an LMS iframe) we first check that the browser keeps our cookie;
    # if it does not, the person opens the tool in a new window instead.
    if (request.is_secure() and request.headers.get("Sec-Fetch-Site") == "cross-site"
            and not _param(request, "cookie_checked") and not _param(request, "new_window")):
        params = {key: _param(request, key) for key in LOGIN_PARAMS if _param(request, key)}
        return render(request, "lti/cookie_check.html", {"params": params, "action": request.path})

    state = "state-" + secrets.token_urlsafe(24)
    nonce = secrets.token_urlsafe(24)
    launch_path = reverse("lti:launch-registration", args=[registration.uuid]) if registration_uuid \
        else reverse("lti:launch")
    redirect_uri = next(iter(tool_origins(request))) + launch_path
    OidcState.objects.create(state=state, nonce=nonce, registration=registration, target_link_uri=target_link_uri)
    auth_params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": registration.client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "nonce": nonce,
        "login_hint": _param(request, "login_hint"),
    }
    if _param(request, "lti_message_hint"):
        auth_params["lti_message_hint"] = _param(request, "lti_message_hint")  # back unchanged (Moodle needs it)
    separator = "&" if "?" in registration.auth_login_url else "?"
    response = redirect(registration.auth_login_url + separator + urlencode(auth_params))
    response.set_cookie(STATE_COOKIE_PREFIX + state, state, max_age=600, httponly=True, samesite="Lax",
                        secure=request.is_secure())
    return response


@csrf_exempt  # the platform posts the id_token cross-site; state cookie + signature + nonce guard it
@never_cache
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def launch(request: HttpRequest, registration_uuid: str | None = None) -> HttpResponse:
    """Verify the id_token and start the person's session in the tool."""
    translation.activate(launch_locale(request))
    try:
        if request.method != "POST":
            raise LtiRefusal(_("A launch must be posted by the platform, not opened as a link."),
                             status=405, code="method")
        if "id_token" not in request.POST:
            if request.POST.get("error"):
                raise LtiRefusal(_("The platform refused the login: %(error)s")
                                 % {"error": (request.POST.get("error_description") or request.POST["error"])[:200]},
                                 status=403, code="platform_error")
            raise LtiRefusal(_("The launch carries no id_token."), code="id_token_missing")
        launcher = ToolMessageLaunch(request, registration_uuid)
        with transaction.atomic():
            launcher.claim_state()
        try:
            with transaction.atomic():
                verified = launcher.verify()
                launch_row = record_launch(verified)
                record_launch_person(launch_row)  # the person, their course membership, pupil/guardian links
        except LtiRefusal:
            launcher.keep_key_set_cache()  # the rollback took the (database) cache's writes with it
            raise
    except LtiRefusal as refusal:
        response = render_refusal(request, refusal)
        if refusal.status == 405:
            response["Allow"] = "POST"
        return response
    remember_launch(request, launch_row)
    state = request.POST.get("state", "")
    if launch_row.message_type == "LtiDeepLinkingRequest":
        response = redirect("lti:deep-link", launch_id=launch_row.id)
    else:
        response = redirect("frontend:home", launch_id=launch_row.id)
    response.delete_cookie(STATE_COOKIE_PREFIX + state, samesite="Lax")
    return response


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    """The tool's public keys: the signing key and those not yet retired."""
    response = JsonResponse(keys.public_jwks())
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@never_cache
@xframe_options_exempt
@require_GET
def register(request: HttpRequest) -> HttpResponse:
    """1EdTech Dynamic Registration, opened by the LMS in a dialog; closes it when done."""
    config_url = request.GET.get("openid_configuration", "").strip()
    try:
        registration = register_dynamically(
            tool_base_url=next(iter(tool_origins(request))), config_url=config_url,
            token=request.GET.get("registration_token", "").strip(), invite_token=request.GET.get("invite", "").strip(),
        )
        response = render(request, "lti/registered.html", {"registration": registration})
    except LtiRefusal as refusal:
        response = render_refusal(request, refusal)
    # The LMS that opened this page is not registered yet: allow exactly its origin to frame it.
    try:
        parts = urlsplit(config_url)
        origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""
    except ValueError:
        origin = ""
    response["Content-Security-Policy"] = f"frame-ancestors 'self' {origin}".strip()
    return response


@never_cache
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def deep_link(request: HttpRequest, launch_id: str) -> HttpResponse:
    """The content picker: offer the course panel, answer with a signed LtiDeepLinkingResponse."""
    launch_row = launch_from_session(request, launch_id)
    if launch_row is None or launch_row.message_type != "LtiDeepLinkingRequest":
        return render_refusal(request, LtiRefusal(
            _("Your session in the tool has ended. Start again from your course."), status=403, code="no_session"))
    translation.activate(launch_row.locale)
    if request.method == "POST":
        form_html_context = deep_linking_response(request, launch_row)
        return render(request, "lti/deep_link_return.html", form_html_context)
    return render(request, "lti/deep_link_pick.html", {"launch": launch_row})
