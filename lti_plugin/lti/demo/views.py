"""The demo platform's pages and endpoints: course page, OIDC authorization, token, NRPS, deep-link return."""

from __future__ import annotations

import secrets
import time

import jwt
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import data
from .models import DemoPlacement
from .platform import CLIENT_ID, ensure_registered, id_token_claims, issuer_for, sign, verify_tool_jwt

HINT_SALT = "elevstod-demo-message-hint"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def _origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Pick a course and a person; the tool opens in an iframe as an LMS would show it."""
    registration = ensure_registered(_origin(request))
    chosen = None
    org_key, course_id, sub = request.GET.get("org", ""), request.GET.get("course", ""), request.GET.get("person", "")
    if request.GET.get("choice"):
        org_key, _, rest = request.GET["choice"].partition(":")
        course_id, _, sub = rest.partition(":")
    if org_key:
        chosen = data.find(org_key, course_id, sub)
    message = "deep" if request.GET.get("message") == "deep" else "launch"
    chosen_value = f"{chosen[0].key}:{chosen[1].id}:{chosen[2].sub}" if chosen else ""
    groups = [
        (f"{org.name} – {course.title}", [
            (value, f"{person.name} – {data.KIND_LABELS[person.kind]}", value == chosen_value)
            for person in org.people if course.id in person.courses
            for value in [f"{org.key}:{course.id}:{person.sub}"]
        ])
        for org in data.ORGANISATIONS for course in org.courses
    ]
    context = {
        "groups": groups,
        "chosen": chosen,
        "message": message,
        "share_names": request.GET.get("names", "1") == "1",
        "locale": "en" if request.GET.get("locale") == "en" else "sv",
        "registration": registration,
        "not_found": bool(org_key) and chosen is None,
    }
    if chosen:
        context["placements"] = DemoPlacement.objects.filter(course_id=chosen[1].id).order_by("created_at")
    return render(request, "demo/index.html", context, status=404 if context["not_found"] else 200)


@never_cache
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    """Inside the iframe: the auto-submitted login initiation form, a POST like Moodle's."""
    found = data.find(request.GET.get("org", ""), request.GET.get("course", ""), request.GET.get("person", ""))
    if found is None:
        return HttpResponse("Unknown demo course or person", status=404, content_type="text/plain")
    org, course, person = found
    registration = ensure_registered(_origin(request))
    message_type = "LtiDeepLinkingRequest" if request.GET.get("message") == "deep" else "LtiResourceLinkRequest"
    hint = signing.dumps({"org": org.key, "course": course.id, "sub": person.sub, "type": message_type,
                          "names": request.GET.get("names", "1") == "1",
                          "locale": "en" if request.GET.get("locale") == "en" else "sv"}, salt=HINT_SALT)
    fields = {
        "iss": registration.issuer,
        "target_link_uri": _origin(request) + "/lti/launch/",
        "login_hint": person.sub,
        "lti_message_hint": hint,
        "client_id": CLIENT_ID,
        "lti_deployment_id": org.deployment_id,
    }
    return render(request, "demo/autopost.html", {"action": "/lti/login/", "fields": fields})


def _auth_error(redirect_uri: str, state: str, error: str, description: str, request: HttpRequest) -> HttpResponse:
    return render(request, "demo/autopost.html", {"action": redirect_uri, "fields": {
        "error": error, "error_description": description, "state": state}})


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def auth(request: HttpRequest) -> HttpResponse:
    """OIDC authorization endpoint: check the tool's request as Moodle does, answer with a signed id_token."""
    params = request.POST if request.method == "POST" else request.GET
    origin = _origin(request)
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri != origin + "/lti/launch/" and not redirect_uri.startswith(origin + "/lti/launch/"):
        return HttpResponse("redirect_uri is not registered for this tool", status=400, content_type="text/plain")
    state = params.get("state", "")
    for name, expected in (("scope", "openid"), ("response_type", "id_token"), ("response_mode", "form_post")):
        if params.get(name) != expected:
            return _auth_error(redirect_uri, state, "invalid_request", f"{name} must be {expected}", request)
    if params.get("client_id") != CLIENT_ID:
        return _auth_error(redirect_uri, state, "unauthorized_client", "unknown client_id", request)
    if not params.get("nonce"):
        return _auth_error(redirect_uri, state, "invalid_request", "nonce is required", request)
    try:
        hint = signing.loads(params.get("lti_message_hint", ""), salt=HINT_SALT, max_age=600)
    except signing.BadSignature:
        return _auth_error(redirect_uri, state, "invalid_request", "lti_message_hint is not ours", request)
    found = data.find(hint["org"], hint["course"], hint["sub"])
    if found is None or params.get("login_hint") != hint["sub"]:
        return _auth_error(redirect_uri, state, "access_denied", "login_hint does not match", request)
    org, course, person = found
    claims = id_token_claims(origin=origin, org=org, course=course, person=person, nonce=params["nonce"],
                             message_type=hint["type"], share_names=hint["names"], locale=hint["locale"])
    return render(request, "demo/autopost.html", {"action": redirect_uri,
                                                  "fields": {"id_token": sign(claims), "state": state}})


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> JsonResponse:
    """Client-credentials grant with a JWT assertion signed by the tool (for NRPS)."""
    if request.POST.get("grant_type") != "client_credentials":
        return JsonResponse({"error": "unsupported_grant_type"}, status=400)
    try:
        assertion = verify_tool_jwt(request.POST.get("client_assertion", ""),
                                    audience=_origin(request) + "/demo/token/")
    except jwt.InvalidTokenError:
        return JsonResponse({"error": "invalid_client"}, status=400)
    if assertion.get("sub") != CLIENT_ID:
        return JsonResponse({"error": "invalid_client"}, status=400)
    scopes = [s for s in request.POST.get("scope", "").split() if s == NRPS_SCOPE]
    if not scopes:
        return JsonResponse({"error": "invalid_scope"}, status=400)
    access_token = secrets.token_hex(16)
    cache.set(f"demo-token:{access_token}", " ".join(scopes), 3600)
    return JsonResponse({"access_token": access_token, "token_type": "Bearer", "expires_in": 3600,
                         "scope": " ".join(scopes)})


@require_GET
def memberships(request: HttpRequest, course_id: str) -> HttpResponse:
    """NRPS membership container for a demo course, shaped as Moodle answers (short role names)."""
    auth_header = request.headers.get("Authorization", "")
    scope = cache.get("demo-token:" + auth_header[7:]) if auth_header.startswith("Bearer ") else None
    if not scope or NRPS_SCOPE not in scope.split():
        return JsonResponse({"error": "invalid_token"}, status=401)
    course = next((c for org in data.ORGANISATIONS for c in org.courses if c.id == course_id), None)
    if course is None:
        return JsonResponse({"error": "not_found"}, status=404)
    members = [{"status": "Active", "roles": p.nrps_roles(), "user_id": p.sub, "name": p.name,
                "given_name": p.given_name, "family_name": p.family_name}
               for p in sorted(data.course_members(course_id), key=lambda p: (p.family_name, p.given_name))]
    body = {"id": request.build_absolute_uri(request.path),
            "context": {"id": course.id, "label": course.label, "title": course.title}, "members": members}
    return JsonResponse(body, content_type="application/vnd.ims.lti-nrps.v2.membershipcontainer+json")


@csrf_exempt
@require_POST
def deep_link_return(request: HttpRequest) -> HttpResponse:
    """Receive the tool's LtiDeepLinkingResponse and place its items in the course."""
    course_id = request.GET.get("course", "")
    try:
        claims = verify_tool_jwt(request.POST.get("JWT", ""), audience=issuer_for(_origin(request)))
    except jwt.InvalidTokenError as error:
        return render(request, "demo/placed.html", {"error": str(error)}, status=400)
    if claims.get("iss") != CLIENT_ID or claims.get(
            "https://purl.imsglobal.org/spec/lti/claim/message_type") != "LtiDeepLinkingResponse":
        return render(request, "demo/placed.html", {"error": "not a deep-linking response"}, status=400)
    items = claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/content_items") or []
    placed = [DemoPlacement.objects.create(course_id=course_id, title=str(item.get("title", ""))[:200],
                                           url=str(item.get("url", ""))[:500], custom=item.get("custom") or {})
              for item in items if isinstance(item, dict) and item.get("type") == "ltiResourceLink"]
    return render(request, "demo/placed.html", {"placed": placed, "at": time.time()})
