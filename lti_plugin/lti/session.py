"""From a verified launch to the person's session, and back.

The session (database- or cache-backed, never process memory) holds the ids of this browser's
launches; every page names its launch in the URL, so two courses open in two tabs stay apart.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from .launch import CLAIM, VerifiedLaunch
from .models import Launch
from .roles import tool_role_for

SESSION_KEY = "lti_launches"
PERSON_KEY = "lti_person"
MAX_LAUNCHES_PER_SESSION = 20
SUPPORTED_LANGUAGES = ("sv", "en")


def language_of(locale: str | None) -> str:
    """Moodle sends `sv`, `en`, `en_us`, `pt_br`; others send BCP 47 (`en-GB`). Swedish by default."""
    prefix = (locale or "").replace("_", "-").split("-")[0].lower()
    return prefix if prefix in SUPPORTED_LANGUAGES else settings.LANGUAGE_CODE


def launch_locale(request: HttpRequest) -> str:
    """The language for a launch's answer, read before the token is verified (it only picks a language)."""
    token = request.POST.get("id_token", "") if request.method == "POST" else ""
    try:
        payload = token.split(".")[1]
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        locale = body.get(CLAIM + "launch_presentation", {}).get("locale")
        if isinstance(locale, str):
            return language_of(locale)
    except (IndexError, ValueError, AttributeError, TypeError):
        pass
    return request.LANGUAGE_CODE if getattr(request, "LANGUAGE_CODE", None) in SUPPORTED_LANGUAGES \
        else settings.LANGUAGE_CODE


def record_launch(verified: VerifiedLaunch) -> Launch:
    claims = verified.claims
    context = claims.get(CLAIM + "context") or {}
    link = claims.get(CLAIM + "resource_link") or {}
    presentation = claims.get(CLAIM + "launch_presentation") or {}
    roles = [role for role in claims.get(CLAIM + "roles") or [] if isinstance(role, str)]
    mentor_scope = claims.get(CLAIM + "role_scope_mentor") or []
    name = claims.get("name") or " ".join(
        part for part in (claims.get("given_name"), claims.get("family_name")) if isinstance(part, str) and part)
    return Launch.objects.create(
        registration=verified.registration, deployment=verified.deployment,
        message_type=claims[CLAIM + "message_type"], sub=str(claims.get("sub") or "")[:255],
        name=str(name or "")[:255],
        context_id=str(context.get("id") or "")[:255] if isinstance(context, dict) else "",
        context_title=str(context.get("title") or "")[:255] if isinstance(context, dict) else "",
        context_label=str(context.get("label") or "")[:255] if isinstance(context, dict) else "",
        resource_link_id=str(link.get("id") or "")[:255] if isinstance(link, dict) else "",
        roles=roles,
        tool_role=tool_role_for(roles, mentor_scope=mentor_scope if isinstance(mentor_scope, list) else []),
        locale=language_of(presentation.get("locale") if isinstance(presentation, dict) else None),
        claims=claims,
    )


def remember_launch(request: HttpRequest, launch: Launch) -> None:
    """Add the launch to this browser's session; another person's launch starts a fresh session."""
    person = f"{launch.registration_id}:{launch.sub}"
    if request.session.get(PERSON_KEY) != person:
        request.session.flush()  # a shared computer: nothing of the previous person stays reachable
    else:
        request.session.cycle_key()  # a new session id at every launch: no fixation
    launches = [str(launch.id), *request.session.get(SESSION_KEY, [])][:MAX_LAUNCHES_PER_SESSION]
    request.session[PERSON_KEY] = person
    request.session[SESSION_KEY] = launches


def launch_from_session(request: HttpRequest, launch_id: object) -> Launch | None:
    """The launch named in the URL, if this browser's session made it and it has not expired."""
    if str(launch_id) not in request.session.get(SESSION_KEY, []):
        return None
    cutoff = timezone.now() - timedelta(seconds=settings.LTI_LAUNCH_LIFETIME_SECONDS)
    found = (Launch.objects.select_related("registration", "deployment", "deployment__organisation", "person")
             .filter(pk=launch_id, created_at__gte=cutoff))[:1]  # by its key: no ORDER BY as first() adds
    return next(iter(found), None)
