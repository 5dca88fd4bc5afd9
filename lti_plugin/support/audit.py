"""The append-only audit trail: every read and every change of case data."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from .actor import Actor
from .models import AuditEntry, Pupil, SchoolUnit


PARENTS = ("", "case.", "plan.case.", "adaptation.case.", "record.case.", "group.")


def _find(obj: models.Model, attribute: str, kind: type) -> object | None:
    """The `kind` reached from obj through the usual parents (a plan's case's unit, ...)."""
    if isinstance(obj, kind):
        return obj
    for parent in PARENTS:
        current: object = obj
        for part in (parent + attribute).split("."):
            current = getattr(current, part, None)
            if current is None:
                break
        if isinstance(current, kind):
            return current
    return None


def _unit_of(obj: models.Model) -> SchoolUnit | None:
    unit = _find(obj, "unit", SchoolUnit)
    if unit is None:
        pupil = _find(obj, "pupil", Pupil)
        unit = pupil.unit if isinstance(pupil, Pupil) else None
    return unit  # type: ignore[return-value]


def _entry(actor: Actor, action: str, object_type: str, ids: list[int], obj: models.Model | None) -> AuditEntry:
    pupil = _find(obj, "pupil", Pupil) if obj is not None else None
    return AuditEntry.objects.create(
        person=actor.person, role=",".join(sorted(actor.roles)), action=action, object_type=object_type,
        object_ids=ids, unit=_unit_of(obj) if obj is not None else None, pupil=pupil,
        organisation=actor.organisation, launch_id=actor.launch_id, context_id=actor.context_id,
        api_token=actor.api_token,
    )


def record(actor: Actor, action: str, obj: models.Model) -> AuditEntry:
    """A change: one entry naming the object changed."""
    return _entry(actor, action, obj._meta.label_lower, [obj.pk], obj)


def record_read(actor: Actor, obj: models.Model) -> AuditEntry:
    """A detail view: one entry for the object read."""
    return _entry(actor, "read", obj._meta.label_lower, [obj.pk], obj)


def record_list(actor: Actor, objects: Iterable[models.Model], object_type: str) -> AuditEntry:
    """A list view: one entry naming the ids it showed."""
    return record_listed(actor, [obj.pk for obj in objects], object_type)


def record_listed(actor: Actor, ids: Iterable[int], object_type: str) -> AuditEntry:
    """`record_list` for a list that read only the ids and names it shows, not whole objects."""
    return _entry(actor, "list", object_type, list(ids), None)
