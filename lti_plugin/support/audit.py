"""The append-only audit trail: every read and every change of case data."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from .actor import Actor
from .models import AuditEntry, SchoolUnit


def _unit_of(obj: models.Model) -> SchoolUnit | None:
    for path in ("unit", "case.unit", "plan.case.unit", "adaptation.case.unit", "record.case.unit",
                 "pupil.unit", "group.pupil.unit"):
        current: object = obj
        for part in path.split("."):
            current = getattr(current, part, None)
            if current is None:
                break
        if isinstance(current, SchoolUnit):
            return current
    return None


def _entry(actor: Actor, action: str, object_type: str, ids: list[int], unit: SchoolUnit | None) -> AuditEntry:
    return AuditEntry.objects.create(
        person=actor.person, role=",".join(sorted(actor.roles)), action=action, object_type=object_type,
        object_ids=ids, unit=unit, organisation=actor.organisation, launch_id=actor.launch_id,
        context_id=actor.context_id,
    )


def record(actor: Actor, action: str, obj: models.Model) -> AuditEntry:
    """A change: one entry naming the object changed."""
    return _entry(actor, action, obj._meta.label_lower, [obj.pk], _unit_of(obj))


def record_read(actor: Actor, obj: models.Model) -> AuditEntry:
    """A detail view: one entry for the object read."""
    return _entry(actor, "read", obj._meta.label_lower, [obj.pk], _unit_of(obj))


def record_list(actor: Actor, objects: Iterable[models.Model], object_type: str) -> AuditEntry:
    """A list view: one entry naming the ids it showed."""
    return _entry(actor, "list", object_type, [obj.pk for obj in objects], None)
