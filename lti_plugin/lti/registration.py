"""Registering platforms: 1EdTech Dynamic Registration, manual registration, approval, invites.

Dynamic registration: the LMS admin pastes /lti/register/; the LMS opens it with
`openid_configuration` and `registration_token`. We fetch the configuration (token as Bearer, with a
timeout), check that it lies under its own issuer, post our registration, and store what the
platform answers. Network first, then one transaction: a failure anywhere stores nothing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lti_plugin.support.models import Organisation

from .errors import LtiRefusal
from .models import Deployment, Registration, RegistrationInvite, Status

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MAX_RESPONSE_BYTES = 256 * 1024
TOOL_NAME = "Elevstöd"


@dataclass(frozen=True)
class ToolUrls:
    """What an LMS admin pastes when registering by hand, and what we send when registering ourselves."""

    base: str
    domain: str
    login: str
    launch: str
    jwks: str
    register: str

    @classmethod
    def for_base(cls, base_url: str) -> ToolUrls:
        base = base_url.rstrip("/")
        return cls(base=base, domain=urlsplit(base).netloc, login=f"{base}/lti/login/",
                   launch=f"{base}/lti/launch/", jwks=f"{base}/lti/jwks/", register=f"{base}/lti/register/")

    def as_rows(self) -> list[tuple[str, str]]:
        return [
            (_("Tool URL (target link URI)"), self.launch),
            (_("Initiate login URL"), self.login),
            (_("Redirection URI"), self.launch),
            (_("Public keyset URL"), self.jwks),
            (_("Domain"), self.domain),
            (_("Dynamic registration URL"), self.register),
        ]


def _default_port(scheme: str) -> int | None:
    return {"https": 443, "http": 80}.get(scheme)


def lies_under_issuer(config_url: str, issuer: str) -> bool:
    """The configuration URL must lie under its issuer: same scheme, host and port, and the
    issuer's path (if any) a whole-segment prefix of the URL's path.

    `https://school.example/moodle` covers `https://school.example/moodle/mod/lti/...` but not
    `https://school.example/moodle2/...`, `https://school.example.evil.test/...` or `http://...`.
    """
    try:
        url, iss = urlsplit(config_url), urlsplit(issuer)
        url_port = url.port or _default_port(url.scheme)
        iss_port = iss.port or _default_port(iss.scheme)
    except ValueError:
        return False
    if url.scheme.lower() != iss.scheme.lower() or not url.hostname or not iss.hostname:
        return False
    if url.hostname.lower() != iss.hostname.lower() or url_port != iss_port:
        return False
    if iss.query or iss.fragment or iss.username or url.username:
        return False
    prefix = iss.path.rstrip("/")
    return not prefix or url.path == prefix or url.path.startswith(prefix + "/")


def _check_url(url: str, what: str) -> str:
    allowed = {"https", "http"} if settings.LTI_ALLOW_INSECURE_PLATFORMS else {"https"}
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if not parts or parts.scheme not in allowed or not parts.hostname or parts.username or parts.fragment:
        raise LtiRefusal(_("The platform's %(what)s is not a valid HTTPS address.") % {"what": what},
                         code="bad_url")
    return url


def _read_body(response: requests.Response, limit: int) -> bytes:
    """At most `limit` bytes; a platform that stalls or breaks off mid-body fails as requests would."""
    try:
        return response.raw.read(limit, decode_content=True)
    except urllib3.exceptions.ReadTimeoutError as error:
        raise requests.Timeout(str(error)) from error
    except urllib3.exceptions.HTTPError as error:
        raise requests.ConnectionError(str(error)) from error


def _read_json(response: requests.Response) -> Any:
    body = _read_body(response, MAX_RESPONSE_BYTES + 1)
    if len(body) > MAX_RESPONSE_BYTES:
        raise ValueError("response too large")
    return json.loads(body)


@contextmanager
def _platform_errors(unreachable: str, code: str) -> Iterator[None]:
    """A platform that is slow or unreachable (also halfway through its answer) is a clear 504/502."""
    try:
        yield
    except requests.Timeout:
        raise LtiRefusal(_("The platform did not answer in time. Try again in a moment."),
                         status=504, code=f"{code}_timeout") from None
    except requests.RequestException:
        raise LtiRefusal(unreachable, status=502, code=f"{code}_unreachable") from None


def fetch_platform_configuration(config_url: str, token: str) -> dict[str, Any]:
    _check_url(config_url, _("configuration address"))
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with _platform_errors(_("The platform's configuration could not be fetched."), "config"):
        response = requests.get(config_url, headers=headers, timeout=settings.LTI_HTTP_TIMEOUT_SECONDS,
                                allow_redirects=False, stream=True)
        if response.status_code != 200:
            raise LtiRefusal(_("The platform answered with an error (%(status)s) when asked for its configuration.")
                             % {"status": response.status_code}, status=502, code="config_error")
        try:
            config = _read_json(response)
        except ValueError:
            raise LtiRefusal(_("The platform's configuration is not valid JSON."), status=502,
                             code="config_invalid") from None
    if not isinstance(config, dict):
        raise LtiRefusal(_("The platform's configuration is not valid JSON."), status=502, code="config_invalid")
    issuer = config.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise LtiRefusal(_("The platform's configuration names no issuer."), code="config_invalid")
    if not lies_under_issuer(config_url, issuer):
        raise LtiRefusal(_("The configuration address does not lie under the platform's issuer %(issuer)s.")
                         % {"issuer": issuer}, status=400, code="config_not_under_issuer")
    for field in ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"):
        value = config.get(field)
        if not isinstance(value, str):
            raise LtiRefusal(_("The platform's configuration lacks %(field)s.") % {"field": field},
                             code="config_invalid")
        _check_url(value, field)
    return config


def registration_request(urls: ToolUrls, config: dict[str, Any]) -> dict[str, Any]:
    """The registration we ask for: login, launch and key URLs, names (no email), NRPS, deep linking."""
    platform = config.get(PLATFORM_CONFIGURATION) or {}
    messages_supported = platform.get("messages_supported") or []
    supports_deep_linking = any(
        (item.get("type") if isinstance(item, dict) else item) == "LtiDeepLinkingRequest"
        for item in messages_supported
    )
    messages = [{"type": "LtiResourceLinkRequest", "target_link_uri": urls.launch, "label": TOOL_NAME}]
    if supports_deep_linking or not messages_supported:
        messages.append({"type": "LtiDeepLinkingRequest", "target_link_uri": urls.launch, "label": TOOL_NAME})
    scopes = [NRPS_SCOPE] if NRPS_SCOPE in (config.get("scopes_supported") or [NRPS_SCOPE]) else []
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls.login,
        "redirect_uris": [urls.launch],
        "client_name": TOOL_NAME,
        "jwks_uri": urls.jwks,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION: {
            "domain": urls.domain,
            "target_link_uri": urls.launch,
            "description": "Elevstöd: extra anpassningar, åtgärdsprogram och uppföljning.",
            "claims": ["iss", "sub", "name", "given_name", "family_name"],
            "messages": messages,
        },
    }


def post_registration(config: dict[str, Any], body: dict[str, Any], token: str) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with _platform_errors(_("The platform could not be reached to register the tool."), "registration"):
        response = requests.post(config["registration_endpoint"], data=json.dumps(body), headers=headers,
                                 timeout=settings.LTI_HTTP_TIMEOUT_SECONDS, allow_redirects=False, stream=True)
        if response.status_code not in (200, 201):
            # Moodle answers with a short plain-text reason ("missing_domain"); show it, shortened.
            try:
                reason = _read_body(response, 300).decode("utf-8", "replace").strip()
            except requests.RequestException:
                reason = ""
            raise LtiRefusal(_("The platform refused the registration (%(status)s): %(reason)s")
                             % {"status": response.status_code, "reason": reason[:200]},
                             status=502, code="registration_refused")
        try:
            answer = _read_json(response)
        except ValueError:
            raise LtiRefusal(_("The platform's answer to the registration is not valid JSON."), status=502,
                             code="registration_invalid") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("client_id"), str) or not answer["client_id"]:
        raise LtiRefusal(_("The platform's answer to the registration has no client id."), status=502,
                         code="registration_invalid")
    return answer


def _hash_invite(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invite(*, organisation: Organisation | None = None, days: int = 7, note: str = "") -> str:
    """A one-time registration link token: the registration made with it is active at once."""
    token = secrets.token_urlsafe(24)
    RegistrationInvite.objects.create(token_hash=_hash_invite(token), organisation=organisation, note=note,
                                      expires_at=timezone.now() + timedelta(days=days))
    return token


def _usable_invite(token: str, *, lock: bool = False) -> RegistrationInvite:
    invites = RegistrationInvite.objects.select_for_update() if lock else RegistrationInvite.objects
    invite = invites.filter(token_hash=_hash_invite(token)).first()
    if invite is None or invite.used_at is not None or invite.expires_at <= timezone.now():
        raise LtiRefusal(_("This registration link is unknown, expired or already used."), status=403,
                         code="invite_invalid")
    return invite


def organisation_for(issuer: str, name: str) -> Organisation:
    """The organisation that already has this platform, or a new one (the operator can move it later)."""
    existing = Registration.objects.filter(issuer=issuer).select_related("organisation").first()
    if existing is not None:
        return existing.organisation
    return Organisation.objects.create(name=name or urlsplit(issuer).hostname or issuer)


def register_dynamically(*, tool_base_url: str, config_url: str, token: str, invite_token: str = "") -> Registration:
    """Run 1EdTech Dynamic Registration against a platform; returns the stored registration."""
    if not config_url:
        raise LtiRefusal(_("The registration request lacks openid_configuration."), code="config_missing")
    if invite_token:
        _usable_invite(invite_token)
    config = fetch_platform_configuration(config_url, token)
    urls = ToolUrls.for_base(tool_base_url)
    answer = post_registration(config, registration_request(urls, config), token)
    tool_config = answer.get(TOOL_CONFIGURATION) or {}
    deployment_id = tool_config.get("deployment_id") if isinstance(tool_config, dict) else None
    platform = config.get(PLATFORM_CONFIGURATION) or {}
    with transaction.atomic():
        invite = _usable_invite(invite_token, lock=True) if invite_token else None
        if Registration.objects.filter(issuer=config["issuer"], client_id=answer["client_id"]).exists():
            raise LtiRefusal(_("This platform client is already registered."), status=409, code="duplicate")
        active = invite is not None or settings.LTI_AUTO_ACTIVATE_REGISTRATIONS
        organisation = (invite.organisation if invite and invite.organisation
                        else organisation_for(config["issuer"], ""))
        status = Status.ACTIVE if active else Status.PENDING
        registration = Registration.objects.create(
            organisation=organisation, issuer=config["issuer"], client_id=answer["client_id"],
            name=str(platform.get("product_family_code") or urlsplit(config["issuer"]).hostname or "")[:200],
            auth_login_url=config["authorization_endpoint"], auth_token_url=config["token_endpoint"],
            key_set_url=config["jwks_uri"], status=status, origin=Registration.Origin.DYNAMIC,
            product_family_code=str(platform.get("product_family_code") or "")[:100],
            platform_configuration=config, registration_response=answer,
            approved_at=timezone.now() if active else None,
            approved_by=("registration link" if invite else "embedded default") if active else "",
        )
        if deployment_id not in (None, ""):
            Deployment.objects.create(registration=registration, organisation=organisation,
                                      deployment_id=str(deployment_id), status=status)
        if invite is not None:
            invite.used_at = timezone.now()
            invite.registration = registration
            invite.save(update_fields=["used_at", "registration"])
    return registration


@transaction.atomic
def register_manually(*, issuer: str, client_id: str, auth_login_url: str, auth_token_url: str,
                      key_set_url: str = "", key_set: dict | None = None, deployment_ids: list[str],
                      organisation: Organisation | None = None, name: str = "",
                      origin: str = Registration.Origin.MANUAL) -> Registration:
    """A registration the operator enters by hand: active at once (the operator is the approver)."""
    if not key_set_url and not key_set:
        raise LtiRefusal(_("A registration needs the platform's key set URL or its keys."), code="keys_missing")
    organisation = organisation or organisation_for(issuer, name)
    registration = Registration.objects.create(
        organisation=organisation, issuer=issuer, client_id=client_id, name=name,
        auth_login_url=auth_login_url, auth_token_url=auth_token_url, key_set_url=key_set_url, key_set=key_set,
        status=Status.ACTIVE, origin=origin, approved_at=timezone.now(), approved_by="operator",
    )
    for deployment_id in deployment_ids:
        Deployment.objects.create(registration=registration, organisation=organisation,
                                  deployment_id=deployment_id, status=Status.ACTIVE)
    return registration


@transaction.atomic
def approve(registration: Registration, *, by: str) -> Registration:
    """Activate a pending registration and its pending deployments."""
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    registration.status = Status.ACTIVE
    registration.approved_at = timezone.now()
    registration.approved_by = by[:200]
    registration.save(update_fields=["status", "approved_at", "approved_by"])
    registration.deployments.filter(status=Status.PENDING).update(status=Status.ACTIVE)
    return registration
