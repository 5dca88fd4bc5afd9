"""Shared reads: which cases a person reaches, and from there what is due for them."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .actor import Actor
from .models import Case
from .policy import UNIT_ROLES


def cases_visible_to(actor: Actor) -> QuerySet[Case]:
    """Every case the actor's roles could reach; policy.can(actor, "view_case", case) decides each.

    Each condition is on the case's own columns (a subquery where another table decides), so the
    database finds the cases by its indexes instead of reading the organisation's every case."""
    from .models import GuardianLink, Pupil, SchoolUnit
    from .policy import in_classes, taught_pupil_ids

    reach = Q(pk__in=[])
    for role in actor.roles & UNIT_ROLES:
        if role == "class_teacher":
            reach |= in_classes(actor)
        if role != "subject_teacher" or role not in actor.role_units:
            reach |= Q(unit_id__in=actor.role_units.get(role, actor.units))
    if actor.roles & {"class_teacher", "subject_teacher"}:
        reach |= Q(pupil_id__in=taught_pupil_ids(actor))
    units = SchoolUnit.objects.filter(organisation=actor.organisation).values("pk")
    if "education_chief" in actor.roles:
        reach |= Q(unit_id__in=units)
    if "pupil" in actor.roles:
        reach |= Q(pupil_id__in=Pupil.objects.filter(person=actor.person).values("pk"))
    if "guardian" in actor.roles:
        reach |= Q(pupil_id__in=GuardianLink.objects.filter(guardian=actor.person).values("pupil_id"))
    return Case.objects.filter(reach, unit_id__in=units)


def audit_log_for(actor: Actor, *, pupil_id: int | None = None, person_id: int | None = None) -> QuerySet:
    """The audit trail a principal (their units) or the education chief (the organisation) may read,
    filtered by pupil or by person. Reading it is itself logged by the caller's view."""
    from .errors import NotAllowed
    from .models import AuditEntry
    from .policy import acting_roles

    roles = acting_roles(actor, "read_audit_log")
    if not roles:
        raise NotAllowed("read_audit_log", code="not_allowed:read_audit_log")
    entries = AuditEntry.objects.filter(organisation=actor.organisation)
    scopes = {actor.pack.scope_for("read_audit_log", role) for role in roles}
    if "organisation" not in scopes:
        units = {unit for role in roles for unit in actor.role_units.get(role, actor.units)}
        entries = entries.filter(unit_id__in=units)
    if pupil_id is not None:
        entries = entries.filter(pupil_id=pupil_id)
    if person_id is not None:
        entries = entries.filter(person_id=person_id)
    return entries.order_by("-at")
