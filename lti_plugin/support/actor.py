"""Who is acting: a person, the tool roles they hold here, where, and through which launch."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from .models import Organisation, Person, SchoolUnit
from .pack import Pack, get_pack


@dataclass(frozen=True)
class Actor:
    person: Person
    organisation: Organisation
    roles: frozenset[str]
    units: frozenset[int] = field(default_factory=frozenset)  # units a unit-scoped role covers
    launch_id: uuid.UUID | None = None
    context_id: str = ""
    language: str = "sv"
    # Per role, the units it covers (a principal at one unit, special teacher at another); when a
    # role is missing here, `units` applies.
    role_units: Mapping[str, frozenset[int]] = field(default_factory=dict)
    classes: frozenset[int] = field(default_factory=frozenset)  # classes the person is class teacher of
    api_token: str = ""  # the API token's name when acting through one (written to every audit entry)
    # The policy's answers that take a query (the pupils one teaches, one's children), kept for the
    # life of this actor: one request, so a list of many cases asks them once, not once a row.
    memo: dict = field(default_factory=dict, compare=False, repr=False, hash=False)  # type: ignore[type-arg]

    @property
    def pack(self) -> Pack:
        return get_pack(self.organisation.pack)

    def covers(self, unit: SchoolUnit | int, role: str | None = None) -> bool:
        unit_id = unit if isinstance(unit, int) else unit.pk
        if role is not None and role in self.role_units:
            return unit_id in self.role_units[role]
        return unit_id in self.units


def grant_reach(grants: list) -> dict[str, set[int]]:  # type: ignore[type-arg]
    """Per role, the units its grants cover. A class teacher named for a class reaches that class
    (Actor.classes), not its whole unit; one granted for a unit reaches the unit."""
    role_units: dict[str, set[int]] = {}
    for grant in grants:
        units = role_units.setdefault(grant.role, set())
        if grant.school_class_id and grant.role == "class_teacher":
            continue
        unit_id = grant.unit_id or (grant.school_class.unit_id if grant.school_class else None)
        if unit_id:
            units.add(unit_id)
    return role_units


def actor_from_grants(person: Person) -> Actor:
    """The person as their standing staff grants make them (no launch): for the digest and commands.

    Each role covers the units of its own grants (as in a launch): a principal at one unit who is a
    class teacher at another is no principal there."""
    from django.db.models import Q

    grants = list(person.grants.filter(revoked_at__isnull=True).filter(Q(unit__isnull=False) | Q(pupil__isnull=True))
                  .select_related("school_class"))
    role_units = grant_reach(grants)
    return Actor(person=person, organisation=person.organisation, roles=frozenset(g.role for g in grants),
                 units=frozenset(unit for unit_ids in role_units.values() for unit in unit_ids),
                 role_units={role: frozenset(ids) for role, ids in role_units.items()},
                 classes=frozenset(g.school_class_id for g in grants if g.school_class_id and g.role == "class_teacher"))
