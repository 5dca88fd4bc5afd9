"""LTI roles to tool roles, as DESIGN.md's "Who may do what" tabulates them.

Handles the LIS v2 URIs, the short names Moodle's NRPS uses, the legacy `urn:lti:` forms and
Moodle's non-vocabulary `.../lis/v2/person#Administrator`. Anything unknown gives no access.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _


class ToolRole(models.TextChoices):
    IT_ADMIN = "it_admin", _("IT admin")
    SUBJECT_TEACHER = "subject_teacher", _("subject teacher")
    PUPIL = "pupil", _("pupil")
    GUARDIAN = "guardian", _("guardian")
    NONE = "none", _("no role in the tool")


MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
SYSTEM_ADMIN_URIS = {
    "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
    "http://purl.imsglobal.org/vocab/lis/v2/system/person#SysAdmin",
    "urn:lti:sysrole:ims/lis/Administrator",
    "urn:lti:sysrole:ims/lis/SysAdmin",
}
INSTITUTION_ADMIN_URIS = {
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
    "urn:lti:instrole:ims/lis/Administrator",
    # Moodle's NRPS writes this (not an LIS v2 vocabulary term) for an enrolled site admin.
    "http://purl.imsglobal.org/vocab/lis/v2/person#Administrator",
}


def context_role(role: str) -> str | None:
    """The principal context role a role string names (`Instructor`, `Learner`, `Mentor`...), or None.

    Sub-roles such as `membership/Instructor#TeachingAssistant` name no principal role by themselves.
    """
    role = role.strip()
    if role.startswith(MEMBERSHIP):
        return role[len(MEMBERSHIP):] or None
    if role.startswith("urn:lti:role:ims/lis/"):
        rest = role[len("urn:lti:role:ims/lis/"):]
        return None if "/" in rest else rest
    if role and "/" not in role and ":" not in role and "#" not in role:
        return role  # short form, as in NRPS ("Instructor", "Learner")
    return None


def is_admin(roles: Iterable[str]) -> bool:
    return any(role.strip() in SYSTEM_ADMIN_URIS | INSTITUTION_ADMIN_URIS for role in roles)


def tool_role_for(roles: Iterable[str], *, mentor_scope: Iterable[str] = ()) -> ToolRole:
    """The tool role a launch's roles give, before staff grants (which come from the tool itself).

    A system or institution Administrator is an IT admin only, even with Instructor beside it
    (a Moodle site admin arrives that way): no path to pupil data by that launch.
    """
    roles = list(roles)
    if is_admin(roles):
        return ToolRole.IT_ADMIN
    principal = {context_role(role) for role in roles}
    if "Instructor" in principal or "Administrator" in principal:
        return ToolRole.SUBJECT_TEACHER
    if "Mentor" in principal and list(mentor_scope):
        return ToolRole.GUARDIAN
    if "Learner" in principal:
        return ToolRole.PUPIL
    return ToolRole.NONE


def short_names(roles: Iterable[str]) -> list[str]:
    """Readable role names for the landing page: `Instructor`, `Learner`, `System Administrator`..."""
    names = []
    for role in roles:
        role = role.strip()
        if role in SYSTEM_ADMIN_URIS:
            names.append("System Administrator")
        elif role in INSTITUTION_ADMIN_URIS:
            names.append("Institution Administrator")
        else:
            names.append(context_role(role) or role.rsplit("#", 1)[-1].rsplit("/", 1)[-1])
    return names
