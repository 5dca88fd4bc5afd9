"""The demo platform: a small real LTI 1.3 platform inside the project.

It has its own key pair and is registered in the tool with that key inline (not by a JWKS URL on
the same server: a single-worker server fetching from itself would deadlock). It signs id_tokens
like Moodle shapes them, answers NRPS and receives deep-linking responses. Embedded default only.
"""

from __future__ import annotations

import secrets
import time
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from django.db import transaction
from jwcrypto.jwk import JWK

from lti_plugin.lti import keys
from lti_plugin.lti.models import Deployment, Registration, Status
from lti_plugin.support.models import Organisation

from . import data
from .models import DemoKey

CLIENT_ID = "elevstod-demo"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


def issuer_for(origin: str) -> str:
    return origin.rstrip("/") + "/demo"


def demo_key() -> DemoKey:
    key = DemoKey.objects.order_by("-created_at").first()
    if key is None:
        key = DemoKey.objects.create(kid="demo-" + secrets.token_hex(6),
                                     private_key_encrypted=keys.encrypt_secret(keys.generate_rsa_pem()))
    return key


def demo_public_jwks() -> dict[str, Any]:
    key = demo_key()
    return {"keys": [keys.public_jwk_of(keys.decrypt_secret(key.private_key_encrypted), key.kid)]}


def organisation_of(org: data.DemoOrganisation) -> Organisation:
    organisation, _ = Organisation.objects.get_or_create(name=org.name, defaults={"pack": org.pack})
    return organisation


@transaction.atomic
def ensure_registered(origin: str) -> Registration:
    """Register the demo platform (as reached at `origin`) with the tool, one deployment per demo owner."""
    origin = origin.rstrip("/")
    issuer = issuer_for(origin)
    registration = Registration.objects.filter(issuer=issuer, client_id=CLIENT_ID).first()
    if registration is not None and registration.deployments.count() >= len(data.ORGANISATIONS):
        return registration  # the usual case: one query
    if registration is None:
        registration = Registration.objects.create(
            organisation=organisation_of(data.ORGANISATIONS[0]), name="Elevstöd demo platform",
            issuer=issuer, client_id=CLIENT_ID, auth_login_url=f"{origin}/demo/auth/",
            auth_token_url=f"{origin}/demo/token/", key_set=demo_public_jwks(), status=Status.ACTIVE,
            origin=Registration.Origin.DEMO, product_family_code="elevstod-demo", approved_by="embedded default",
        )
    for org in data.ORGANISATIONS:
        Deployment.objects.get_or_create(
            registration=registration, deployment_id=org.deployment_id,
            defaults={"organisation": organisation_of(org), "status": Status.ACTIVE},
        )
    return registration


@lru_cache(maxsize=4)
def _loaded(kid: str, encrypted: str) -> Any:
    return serialization.load_pem_private_key(keys.decrypt_secret(encrypted).encode(), password=None)


def sign(claims: dict[str, Any]) -> str:
    key = demo_key()
    return jwt.encode(claims, _loaded(key.kid, key.private_key_encrypted), algorithm="RS256",
                      headers={"kid": key.kid, "typ": "JWT"})


def id_token_claims(*, origin: str, org: data.DemoOrganisation, course: data.Course, person: data.Person,
                    nonce: str, message_type: str, share_names: bool, locale: str) -> dict[str, Any]:
    """An id_token shaped as Moodle 4.5 shapes it (see shared/fixtures/moodle)."""
    now = int(time.time())
    launch_url = origin + "/lti/launch/"
    claims: dict[str, Any] = {
        "nonce": nonce, "iat": now, "exp": now + 60, "iss": issuer_for(origin), "aud": CLIENT_ID,
        CLAIM + "deployment_id": org.deployment_id,
        CLAIM + "target_link_uri": launch_url,
        "sub": person.sub,
        CLAIM + "roles": person.launch_roles(),
        CLAIM + "context": {"id": course.id, "label": course.label, "title": course.title, "type": ["CourseSection"]},
        CLAIM + "message_type": message_type,
        CLAIM + "version": "1.3.0",
        CLAIM + "launch_presentation": {"locale": locale, "document_target": "iframe"},
        CLAIM + "tool_platform": {"product_family_code": "elevstod-demo", "name": org.name},
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
            "context_memberships_url": f"{origin}/demo/nrps/{course.id}/memberships",
            "service_versions": ["2.0"],
        },
    }
    if share_names:
        claims.update(given_name=person.given_name, family_name=person.family_name, name=person.name)
    if person.guardian_of:
        claims[CLAIM + "role_scope_mentor"] = list(person.guardian_of)
    if message_type == "LtiResourceLinkRequest":
        claims[CLAIM + "resource_link"] = {"id": f"demo-link-{course.id}", "title": "Elevstöd", "description": ""}
    else:
        claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["frame", "iframe", "window"],
            "accept_multiple": True, "accept_unsigned": False, "auto_create": False,
            "deep_link_return_url": f"{origin}/demo/deep-link-return/?course={course.id}",
            "title": "Elevstöd", "text": "",
        }
        claims[CLAIM + "launch_presentation"] = {"locale": locale}
    return claims


def verify_tool_jwt(token: str, *, audience: str | None = None) -> dict[str, Any]:
    """Verify a JWT the tool signed (deep-linking response, client assertion) against the tool's keys."""
    header = jwt.get_unverified_header(token)
    match = next((k for k in keys.public_jwks()["keys"] if k["kid"] == header.get("kid")), None)
    if match is None:
        raise jwt.InvalidTokenError("unknown kid")
    public_pem = JWK(**match).export_to_pem()
    options = {"verify_aud": audience is not None, "require": ["exp", "iat"]}
    return jwt.decode(token, public_pem, algorithms=["RS256"], audience=audience, options=options, leeway=5)
