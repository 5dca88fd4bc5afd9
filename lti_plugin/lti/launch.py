"""Verifying an LTI 1.3 launch: pylti1p3 plus the checks it leaves out.

pylti1p3 2.0.0 parses the JWT, picks the platform key by `kid`/`alg` and runs the message
validators (version, `sub`, `roles`, `resource_link.id`, deep-linking settings). By itself it does
not require `exp`, check `aud`/`azp`, bound `iat`, allow clock skew, make the nonce single-use,
check `target_link_uri` or time out a JWKS fetch, so `ToolMessageLaunch` adds those. Every check
raises `LtiRefusal` with a message for the person in front of the screen; nothing is written until
all of them pass (the view runs this inside one transaction).
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from pylti1p3.contrib.django import DjangoMessageLaunch
from pylti1p3.exception import LtiException
from pylti1p3.registration import Registration as PyltiRegistration
from pylti1p3.tool_config.abstract import ToolConfAbstract

from . import keys
from .errors import LtiRefusal
from .models import Deployment, OidcState, Registration, Status, UsedNonce

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
MESSAGE_TYPES = {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
STATE_COOKIE_PREFIX = "lti_state_"
# /lti/launch/ or /lti/launch/<registration uuid>/, nothing else (no "..", no other paths).
LAUNCH_PATH = re.compile(r"/lti/launch/(?:[0-9a-fA-F-]{36}/)?")


def pylti_registration(row: Registration, *, signing: bool = True) -> PyltiRegistration:
    """The pylti1p3 view of a registration row; with `signing`, also our current signing key.

    Verifying a launch needs no key of ours, so the launch asks for none (loading an RSA private
    key costs tens of milliseconds); deep linking and service calls do.
    """
    reg = PyltiRegistration()
    reg.set_issuer(row.issuer).set_client_id(row.client_id).set_auth_login_url(row.auth_login_url)
    reg.set_auth_token_url(row.auth_token_url).set_key_set_url(row.key_set_url or None)
    reg.set_key_set(row.key_set or None)
    if signing:
        key = keys.signing_key()
        # PyJWT signs with a loaded key object as well as a PEM; pylti1p3 derives the kid from the public PEM.
        reg.set_tool_private_key(keys.private_key(key)).set_tool_public_key(keys.public_pem(key))
    if row.auth_audience:
        reg.set_auth_audience(row.auth_audience)
    return reg


class DatabaseToolConf(ToolConfAbstract):
    """pylti1p3's tool configuration, read from the registration rows."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> PyltiRegistration:
        raise LtiException("a registration is always found by issuer and client id")

    def find_registration_by_params(self, iss: str, client_id: str, *args: Any, **kwargs: Any):
        row = Registration.objects.filter(issuer=iss, client_id=client_id, status=Status.ACTIVE).first()
        return pylti_registration(row, signing=False) if row else None

    def find_deployment(self, iss: str, deployment_id: str):
        return None

    def find_deployment_by_params(self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any):
        return Deployment.objects.filter(
            registration__issuer=iss, registration__client_id=client_id,
            deployment_id=deployment_id, status=Status.ACTIVE,
        ).first()


def tool_origins(request: HttpRequest) -> list[str]:
    """The tool's public origins, in a fixed order: the one this request came in on first, if it is one.

    Callers take the first as "our" origin (redirect_uri, deep-link URLs), so it must not depend on
    a set's per-process hash order: a platform compares redirect_uri character for character.
    """
    own = f"{request.scheme}://{request.get_host()}"
    if settings.LTI_TOOL_ORIGINS:
        origins = list(dict.fromkeys(origin.rstrip("/") for origin in settings.LTI_TOOL_ORIGINS))
        return sorted(origins, key=lambda origin: origin != own)  # stable: otherwise configured order
    return [own]


def is_our_launch_url(request: HttpRequest, url: str) -> bool:
    """`target_link_uri` must point at this tool's launch endpoint, nowhere else."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin in tool_origins(request) and LAUNCH_PATH.fullmatch(parts.path) is not None


def _jwks_cache_key(url: str) -> str:
    return "lti-jwks:" + hashlib.sha256(url.encode()).hexdigest()


def fetch_platform_jwks(url: str, *, refresh: bool = False,
                        fetched: dict[str, dict] | None = None) -> dict | None:
    """A platform's key set, from the shared cache; fetched (with a timeout) when absent or refreshed.

    A forced refresh (an unknown kid) happens at most once a minute per URL, so a stream of
    forged tokens cannot make us hammer the platform. A fresh fetch is also put in `fetched`.
    """
    key = _jwks_cache_key(url)
    if not refresh:
        cached = cache.get(key)
        if cached is not None:
            return cached
    elif not cache.add(key + ":refreshed", True, 60):
        return None
    try:
        response = requests.get(url, timeout=settings.LTI_HTTP_TIMEOUT_SECONDS,
                                headers={"Accept": "application/json"})
        response.raise_for_status()
        key_set = response.json()
    except (requests.RequestException, ValueError):
        return None
    if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
        return None
    cache.set(key, key_set, settings.LTI_JWKS_CACHE_SECONDS)
    if fetched is not None:
        fetched[url] = key_set
    return key_set


@dataclass
class VerifiedLaunch:
    claims: dict[str, Any]
    registration: Registration
    deployment: Deployment


class ToolMessageLaunch(DjangoMessageLaunch):
    """pylti1p3's message launch with the checks DESIGN.md's launch rules add."""

    def __init__(self, request: HttpRequest, registration_uuid: str | None = None) -> None:
        super().__init__(request, DatabaseToolConf())
        self.set_auto_validation(enable=False)  # we run pylti1p3's steps ourselves, in verify()
        self._django_request = request
        self._registration_uuid = registration_uuid
        self._row: Registration | None = None
        self._state: OidcState | None = None
        # Key sets fetched and refreshes made during this launch: see keep_key_set_cache().
        self._fetched_key_sets: dict[str, dict] = {}
        self._refreshed_urls: set[str] = set()

    # -- the whole check, in order -------------------------------------------------------------
    def claim_state(self) -> None:
        """Check the OIDC state against the browser's cookie and use it up.

        Run in its own transaction, before verify(): a state is spent even when the launch that
        carried it is then refused, so no second attempt can ride on it.
        """
        self._check_state()

    def verify(self) -> VerifiedLaunch:
        """Run every other check; raise LtiRefusal on the first that fails. Call inside a transaction."""
        if self._state is None:
            raise LtiRefusal(_("The launch carries no state. Start again from your course."), code="state_missing")
        self._parse()
        self._check_header()
        row = self._find_registration()
        self._check_signature_and_times(row)
        self._check_nonce(row)
        deployment = self._find_deployment(row)
        self._check_message()
        return VerifiedLaunch(claims=self._jwt["body"], registration=row, deployment=deployment)

    def _check_state(self) -> None:
        state = self._get_request_param("state")
        if not state:
            raise LtiRefusal(_("The launch carries no state. Start again from your course."), code="state_missing")
        cookie = self._django_request.COOKIES.get(STATE_COOKIE_PREFIX + state)
        if cookie != state:
            raise LtiRefusal(
                _("Your browser did not keep the login cookie. Open the tool in a new window and try again."),
                code="state_cookie_mismatch")
        cutoff = timezone.now() - timedelta(seconds=settings.LTI_STATE_LIFETIME_SECONDS)
        record = OidcState.objects.select_for_update().filter(state=state, created_at__gte=cutoff).first()
        if record is None:
            raise LtiRefusal(_("This login has expired or was already used. Start again from your course."),
                             code="state_unknown")
        # Single use: whichever request deletes it first wins; a concurrent twin finds nothing.
        if OidcState.objects.filter(pk=record.pk).delete()[0] != 1:
            raise LtiRefusal(_("This login has expired or was already used. Start again from your course."),
                             code="state_unknown")
        self._state = record

    def _parse(self) -> None:
        try:
            self.validate_jwt_format()
        except LtiException as error:
            raise LtiRefusal(_("The launch token is not a valid JWT."), code="jwt_format") from error
        if not isinstance(self._jwt.get("body"), dict) or not isinstance(self._jwt.get("header"), dict):
            raise LtiRefusal(_("The launch token is not a valid JWT."), code="jwt_format")

    def _check_header(self) -> None:
        header = self._jwt["header"]
        if header.get("alg") != "RS256":
            raise LtiRefusal(_("The launch token must be signed with RS256."), code="alg")
        if not header.get("kid"):
            raise LtiRefusal(_("The launch token names no signing key (kid)."), code="kid_missing")

    def _find_registration(self) -> Registration:
        body = self._jwt["body"]
        iss = body.get("iss")
        aud = body.get("aud")
        azp = body.get("azp")
        if not isinstance(iss, str) or not iss:
            raise LtiRefusal(_("The launch token names no issuer."), code="iss_missing")
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not audiences or not all(isinstance(item, str) for item in audiences):
            raise LtiRefusal(_("The launch token has no valid audience."), code="aud_missing")
        if len(audiences) > 1 and not azp:
            raise LtiRefusal(_("The launch token has several audiences and no authorized party."),
                             code="azp_missing")
        if azp is not None and azp not in audiences:
            raise LtiRefusal(_("The launch token's authorized party is not among its audiences."),
                             code="azp_mismatch")
        client_id = azp or audiences[0]
        # The state says which registration this login began with; the token must agree.
        state_registration_id = self._state.registration_id if self._state else None
        row = Registration.objects.filter(issuer=iss, client_id=client_id).first()
        if row is None and not Registration.objects.filter(issuer=iss).exists():
            raise LtiRefusal(_("This platform is not registered with the tool."), status=403, code="iss_unknown")
        if row is None or (state_registration_id is not None and row.pk != state_registration_id):
            raise LtiRefusal(_("The launch token is not addressed to this tool (client id)."),
                             status=403, code="aud_mismatch")
        if self._registration_uuid and str(row.uuid) != str(self._registration_uuid):
            raise LtiRefusal(_("The launch token is not addressed to this tool (client id)."),
                             status=403, code="aud_mismatch")
        if row.status != Status.ACTIVE:
            raise LtiRefusal(_("This platform's registration is waiting for approval by the tool's administrator."),
                             status=403, code="registration_pending")
        self._registration = pylti_registration(row, signing=False)
        self._row = row
        return row

    def keep_key_set_cache(self) -> None:
        """After a refused launch, keep the key sets it fetched and its once-a-minute refresh mark.

        The shared cache may be the database (the embedded default); the refusal rolls back the
        launch's transaction and the cache writes with it, so without this every forged kid would
        fetch the platform's key set again.
        """
        for url, key_set in self._fetched_key_sets.items():
            cache.set(_jwks_cache_key(url), key_set, settings.LTI_JWKS_CACHE_SECONDS)
        for url in self._refreshed_urls:
            cache.add(_jwks_cache_key(url) + ":refreshed", True, 60)

    def fetch_public_key(self, key_set_url: str):  # pylti1p3 hook: ours caches and times out
        key_set = fetch_platform_jwks(key_set_url, fetched=self._fetched_key_sets)
        if key_set is None:
            raise LtiException("key set unavailable")
        return key_set

    def _public_key(self, row: Registration) -> tuple[str, str]:
        try:
            return self.get_public_key()
        except LtiException:
            if not row.key_set_url or row.key_set:
                raise LtiRefusal(_("The launch token was signed with a key the platform has not published."),
                                 status=401, code="kid_unknown") from None
        # Unknown kid: the platform may have rotated its key. Refresh once, then give up.
        self._refreshed_urls.add(row.key_set_url)
        refreshed = fetch_platform_jwks(row.key_set_url, refresh=True, fetched=self._fetched_key_sets)
        if refreshed is None:
            raise LtiRefusal(_("The launch token was signed with a key the platform has not published."),
                             status=401, code="kid_unknown")
        self._registration.set_key_set(refreshed)
        try:
            return self.get_public_key()
        except LtiException:
            raise LtiRefusal(_("The launch token was signed with a key the platform has not published."),
                             status=401, code="kid_unknown") from None

    def _check_signature_and_times(self, row: Registration) -> None:
        public_key, alg = self._public_key(row)
        skew = settings.LTI_CLOCK_SKEW_SECONDS
        try:
            jwt.decode(
                self._get_id_token(), public_key, algorithms=["RS256"], audience=row.client_id,
                leeway=skew, options={"require": ["exp", "iat", "iss", "aud"], "verify_aud": True},
            )
        except jwt.MissingRequiredClaimError as error:
            raise LtiRefusal(_("The launch token lacks a required claim: %(claim)s.") % {"claim": error.claim},
                             code="claim_missing") from error
        except jwt.ExpiredSignatureError as error:
            raise LtiRefusal(_("The launch token has expired. Start again from your course."),
                             status=401, code="expired") from error
        except jwt.ImmatureSignatureError as error:
            raise LtiRefusal(_("The launch token was issued in the future. Check the platform's clock."),
                             status=401, code="iat_future") from error
        except jwt.InvalidAudienceError as error:
            raise LtiRefusal(_("The launch token is not addressed to this tool (client id)."),
                             status=403, code="aud_mismatch") from error
        except jwt.InvalidSignatureError as error:
            raise LtiRefusal(_("The launch token's signature is not valid."), status=401, code="signature") from error
        except jwt.InvalidTokenError as error:
            raise LtiRefusal(_("The launch token is not valid."), status=401, code="invalid") from error
        iat = self._jwt["body"]["iat"]
        if iat < time.time() - settings.LTI_MAX_ID_TOKEN_AGE_SECONDS - skew:
            raise LtiRefusal(_("The launch token has expired. Start again from your course."),
                             status=401, code="iat_too_old")

    def _check_nonce(self, row: Registration) -> None:
        nonce = self._jwt["body"].get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise LtiRefusal(_("The launch token carries no nonce."), code="nonce_missing")
        if self._state is None or nonce != self._state.nonce:
            raise LtiRefusal(_("The launch token does not belong to this login (nonce)."), code="nonce_mismatch")
        try:
            with transaction.atomic():
                UsedNonce.objects.create(registration=row, nonce=nonce)
        except IntegrityError:
            raise LtiRefusal(_("This launch was already used. Start again from your course."),
                             code="nonce_reused") from None

    def _find_deployment(self, row: Registration) -> Deployment:
        deployment_id = self._jwt["body"].get(CLAIM + "deployment_id")
        if not isinstance(deployment_id, str) or not deployment_id:
            raise LtiRefusal(_("The launch token lacks a required claim: %(claim)s.") % {"claim": "deployment_id"},
                             code="claim_missing")
        deployment = row.deployments.filter(deployment_id=deployment_id).first()
        if deployment is None:
            raise LtiRefusal(_("This deployment of the tool is not registered."), status=403,
                             code="deployment_unknown")
        if deployment.status != Status.ACTIVE:
            raise LtiRefusal(_("This deployment is waiting for approval by the tool's administrator."),
                             status=403, code="deployment_pending")
        return deployment

    def _check_message(self) -> None:
        body = self._jwt["body"]
        message_type = body.get(CLAIM + "message_type")
        if message_type not in MESSAGE_TYPES:
            raise LtiRefusal(_("The tool does not accept this kind of LTI message."), code="message_type")
        if body.get(CLAIM + "version") != "1.3.0":
            raise LtiRefusal(_("The tool accepts LTI version 1.3.0 only."), code="version")
        if message_type == "LtiResourceLinkRequest" and not body.get("sub"):
            raise LtiRefusal(_("The launch token lacks a required claim: %(claim)s.") % {"claim": "sub"},
                             code="claim_missing")
        if not isinstance(body.get(CLAIM + "roles"), list):
            raise LtiRefusal(_("The launch token lacks a required claim: %(claim)s.") % {"claim": "roles"},
                             code="claim_missing")
        if message_type == "LtiResourceLinkRequest":
            link = body.get(CLAIM + "resource_link")
            if not isinstance(link, dict) or not link.get("id"):
                raise LtiRefusal(_("The launch token lacks a required claim: %(claim)s.")
                                 % {"claim": "resource_link.id"}, code="claim_missing")
        else:
            settings_claim = body.get(DL_SETTINGS)
            if not isinstance(settings_claim, dict) or not settings_claim.get("deep_link_return_url"):
                raise LtiRefusal(_("The launch token lacks a required claim: %(claim)s.")
                                 % {"claim": "deep_linking_settings"}, code="claim_missing")
        try:
            self.validate_message()  # pylti1p3's validators, as a second line
        except LtiException as error:
            raise LtiRefusal(_("The launch message is incomplete."), code="message_invalid") from error
        target = body.get(CLAIM + "target_link_uri")
        if not isinstance(target, str) or not is_our_launch_url(self._django_request, target):
            raise LtiRefusal(_("The launch points at an address that is not this tool's."),
                             code="target_link_uri")
