"""The course roster from the platform (Names and Role Provisioning Services).

pylti1p3's service connector signs the client assertion with our key and gets the access token.
The membership pages are fetched here rather than by pylti1p3's NamesRolesProvisioningService: it
sets no timeout, sends `Accept: application/json` (Moodle needs exactly the NRPS media type or
`*/*`) and lower-cases the whole Link header, which breaks Moodle's `/CourseSection/` next-page URLs.
"""

from __future__ import annotations

import re
from typing import Any

import requests
from django.conf import settings
from pylti1p3.exception import LtiServiceException
from pylti1p3.service_connector import ServiceConnector

from .launch import NRPS_CLAIM, pylti_registration
from .models import Launch

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
NRPS_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_PAGES = 50


class TimeoutSession(requests.Session):
    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", settings.LTI_HTTP_TIMEOUT_SECONDS)
        return super().request(method, url, *args, **kwargs)


class RosterUnavailable(Exception):
    """The platform offers no roster for this launch, or did not answer."""


def fetch_roster(launch: Launch) -> list[dict[str, Any]]:
    """Every member of the launch's course as the platform lists them (roles as sent: Moodle's are short)."""
    service = launch.claims.get(NRPS_CLAIM)
    if not isinstance(service, dict) or not service.get("context_memberships_url"):
        raise RosterUnavailable("the launch carries no roster service")
    session = TimeoutSession()
    connector = ServiceConnector(pylti_registration(launch.registration), requests_session=session)
    members: list[dict[str, Any]] = []
    url: str | None = service["context_memberships_url"]
    try:
        for _ in range(MAX_PAGES):
            if url is None:
                break
            token = connector.get_access_token([NRPS_SCOPE])
            response = session.get(url, headers={"Authorization": f"Bearer {token}", "Accept": NRPS_MEDIA_TYPE})
            response.raise_for_status()
            members.extend(response.json().get("members", []))
            match = re.search(r'<([^>]*)>\s*;\s*rel="next"', response.headers.get("Link", ""))
            url = match.group(1) if match else None
    except (requests.RequestException, ValueError, LtiServiceException) as error:
        raise RosterUnavailable(type(error).__name__) from error
    return members
