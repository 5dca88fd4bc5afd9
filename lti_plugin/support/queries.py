"""Shared reads: which cases a person reaches, and from there what is due for them."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .actor import Actor
from .models import Case
from .policy import UNIT_ROLES


def cases_visible_to(actor: Actor) -> QuerySet[Case]:
    """Every case the actor's roles reach (the access issue narrows unit roles to classes and courses)."""
    reach = Q(pk__in=[])
    if actor.roles & UNIT_ROLES and actor.units:
        reach |= Q(unit_id__in=actor.units)
    if "education_chief" in actor.roles:
        reach |= Q(unit__organisation=actor.organisation)
    if "pupil" in actor.roles:
        reach |= Q(pupil__person=actor.person)
    if "guardian" in actor.roles:
        reach |= Q(pupil__guardians__guardian=actor.person)
    return Case.objects.filter(reach, unit__organisation=actor.organisation).distinct()
