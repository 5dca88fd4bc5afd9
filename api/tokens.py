"""Making, using and revoking API tokens. The token acts as its creator in one role, within a scope
that never exceeds the creator's own, and only while the creator still holds that role."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lti_plugin.support import audit
from lti_plugin.support.actor import Actor, actor_from_grants
from lti_plugin.support.errors import NotAllowed, RuleBroken
from lti_plugin.support.models import SchoolUnit

from .models import ApiToken

# Issue 12: a principal makes tokens for their units, the education chief for the organisation.
# Nobody else does: the organisation admin and the IT admin hold no path to pupil data, so no
# token of theirs may hold one either.
TOKEN_ROLES = {"principal": "unit", "education_chief": "organisation"}
PREFIX = "elv_"
MAX_DAYS = 365


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _token_role(actor: Actor, role: str, unit_ids: list[int]) -> str:
    held = sorted(actor.roles & TOKEN_ROLES.keys())
    if not held:
        raise NotAllowed(_("Only a principal or the education chief makes API tokens."), code="not_allowed:token")
    if role:
        if role not in held:
            raise NotAllowed(_("You do not hold that role."), code="not_allowed:token_role")
        return role
    if "principal" in held and (unit_ids or held == ["principal"]):
        return "principal"
    return held[0]


@transaction.atomic
def create_token(*, actor: Actor, name: str, unit_ids: list[int] | None = None, role: str = "",
                 read_only: bool = True, expires_in_days: int = 90) -> tuple[ApiToken, str]:
    """A new token and its secret (shown once; only its hash is kept)."""
    if actor.api_token:
        raise NotAllowed(_("A token cannot make another token."), code="not_allowed:token")
    unit_ids = sorted(set(unit_ids or []))
    role = _token_role(actor, role, unit_ids)
    name = (name or "").strip()
    if not name:
        raise RuleBroken(_("%(what)s cannot be empty.") % {"what": _("The name")}, code="empty")
    if not 1 <= expires_in_days <= MAX_DAYS:
        raise RuleBroken(_("A token lives between 1 and %(days)s days.") % {"days": MAX_DAYS}, code="expiry")
    if TOKEN_ROLES[role] == "unit":
        own = actor.role_units.get(role, actor.units)
        if not unit_ids:
            raise RuleBroken(_("Choose the school units the token is for."), code="unit_missing")
        if not set(unit_ids) <= set(own):
            raise NotAllowed(_("A token reaches only units you are principal of."), code="not_allowed:token_scope")
    elif unit_ids:
        raise RuleBroken(_("The education chief's token is for the whole organisation."), code="token_scope")
    secret = PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            token = ApiToken.objects.create(
                organisation=actor.organisation, name=name, secret_hash=hash_secret(secret), role=role,
                read_only=read_only, created_by=actor.person,
                expires_at=timezone.now() + timedelta(days=expires_in_days))
    except IntegrityError:
        raise RuleBroken(_("A token with that name already exists."), code="name_taken") from None
    token.units.set(SchoolUnit.objects.filter(pk__in=unit_ids, organisation=actor.organisation))
    audit.record(actor, "api_token.created", token)
    return token, secret


def tokens_of(actor: Actor):  # type: ignore[no-untyped-def]
    """The tokens a person manages: their own; the education chief sees the organisation's."""
    tokens = ApiToken.objects.filter(organisation=actor.organisation)
    if "education_chief" not in actor.roles:
        tokens = tokens.filter(created_by=actor.person)
    return tokens.prefetch_related("units").order_by("-created_at", "-pk")


@transaction.atomic
def revoke_token(*, actor: Actor, token: ApiToken) -> ApiToken:
    """End a token at once; kept, dated, with who ended it."""
    if actor.api_token:
        raise NotAllowed(_("A token cannot revoke a token."), code="not_allowed:token")
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = actor.person
        token.save(update_fields=["revoked_at", "revoked_by"])
        audit.record(actor, "api_token.revoked", token)
    return token


def token_for_secret(secret: str) -> ApiToken | None:
    """The usable token with this secret: not revoked, not expired."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = (ApiToken.objects.select_related("created_by", "organisation")
             .filter(secret_hash=hash_secret(secret)).first())
    if token is None or not token.usable:
        return None
    return token


def actor_for_token(token: ApiToken, language: str) -> Actor | None:
    """The creator as their standing grants make them now, narrowed to the token's role and scope;
    None when the creator no longer holds the role."""
    person = actor_from_grants(token.created_by)
    if token.role not in person.roles:
        return None
    if TOKEN_ROLES.get(token.role) == "unit":
        units = frozenset(token.units.values_list("pk", flat=True)) & person.role_units.get(token.role, person.units)
    else:
        units = frozenset()
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return Actor(person=token.created_by, organisation=token.organisation, roles=frozenset({token.role}),
                 units=units, role_units={token.role: units}, language=language, api_token=token.name)
