"""Who calls the API: a browser with an LTI launch in its session, or an integration with a token.

Either way the request ends up with an Actor, the same object the pages and services use; the
policy decides everything from there.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from frontend.views import actor_for
from lti_plugin.lti.session import launch_from_session
from lti_plugin.support.actor import Actor

from .models import ApiToken
from .tokens import actor_for_token, token_for_secret

LAUNCH_HEADER = "X-Elevstod-Launch"


@dataclass(frozen=True)
class ApiUser:
    """request.user for the API: the acting person as an Actor (never a Django auth user)."""

    actor: Actor
    token: ApiToken | None = None

    is_authenticated = True
    is_anonymous = False
    is_active = True

    @property
    def pk(self) -> int:
        return self.actor.person.pk


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer elv_...`: a usable token, acting in its creator's role and scope."""

    def authenticate(self, request: Request) -> tuple[ApiUser, ApiToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        kind, _space, secret = header.partition(" ")
        if kind.lower() != "bearer":
            return None
        token = token_for_secret(secret.strip())
        if token is None:
            raise exceptions.AuthenticationFailed(_("The token is unknown, expired or revoked."))
        actor = actor_for_token(token, translation.get_language() or "sv")
        if actor is None:
            raise exceptions.AuthenticationFailed(_("The person who made this token no longer holds its role."))
        return ApiUser(actor, token), token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class LaunchSessionAuthentication(authentication.SessionAuthentication):
    """The browser's session from an LTI launch; the header names which of its launches (two courses
    in two tabs stay apart, as the pages keep them apart by the launch in the URL)."""

    def authenticate(self, request: Request) -> tuple[ApiUser, Any] | None:
        value = request.META.get("HTTP_X_ELEVSTOD_LAUNCH", "")
        if not value:
            return None
        try:
            launch_id = uuid.UUID(value.strip())
        except ValueError:
            raise exceptions.AuthenticationFailed(_("The launch header is not a launch id.")) from None
        launch = launch_from_session(request._request, launch_id)
        if launch is None:
            raise exceptions.AuthenticationFailed(
                _("Your session in the tool has ended. Start again from your course."))
        translation.activate(launch.locale)
        request._request.LANGUAGE_CODE = launch.locale
        self.enforce_csrf(request)
        return ApiUser(actor_for(launch)), launch


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.TokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "An API token made by a principal or the "
                "education chief; acts in their role, within the token's scope."}


class LaunchScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.LaunchSessionAuthentication"
    name = "launch"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": LAUNCH_HEADER,
                "description": "The id of an LTI launch held by this browser's session (session cookie too)."}
