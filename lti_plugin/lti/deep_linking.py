"""Deep linking: the tool offers its course panel as the item a teacher places in the course."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource

from .launch import CLAIM, DL_SETTINGS, pylti_registration, tool_origins
from .models import Launch


class ToolDeepLink(DeepLink):
    """pylti1p3's deep-link response, without a `data` claim the platform never sent (it must echo, not invent)."""

    def get_message_jwt(self, resources):  # type: ignore[no-untyped-def]
        message = super().get_message_jwt(resources)
        if message.get("https://purl.imsglobal.org/spec/lti-dl/claim/data") is None:
            message.pop("https://purl.imsglobal.org/spec/lti-dl/claim/data", None)
        # Back-date iat a little: Moodle verifies with no clock leeway.
        message["iat"] = int(message["iat"]) - 5
        return message


def course_panel_item(request: HttpRequest, launch: Launch) -> DeepLinkResource:
    launch_url = next(iter(tool_origins(request))) + "/lti/launch/"
    return (DeepLinkResource().set_url(launch_url).set_title(_("Elevstöd – course panel"))
            .set_custom_params({"elevstod_view": "course_panel"}).set_target("iframe"))


def deep_linking_response(request: HttpRequest, launch: Launch) -> dict[str, Any]:
    """The signed LtiDeepLinkingResponse and where the browser posts it."""
    settings_claim = launch.claims[DL_SETTINGS]
    deployment_id = launch.claims[CLAIM + "deployment_id"]
    link = ToolDeepLink(pylti_registration(launch.registration), deployment_id, settings_claim)
    return {
        "return_url": settings_claim["deep_link_return_url"],
        "jwt": link.get_response_jwt([course_panel_item(request, launch)]),
    }
