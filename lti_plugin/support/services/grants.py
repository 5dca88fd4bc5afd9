"""Staff roles given in the tool: dated, revocable, logged; nobody grants a role to themselves.

Who grants what comes from the pack (each role's `granted_through` action): the operator names the
first organisation admin; the organisation admin maps courses to units and names principals and the
education chief; a principal names the rest of their unit (class teachers of a class, special
teachers, elevhälsa members, the `se` ÅP delegate, `fi` expert-group members of one pupil and the
communal welfare group).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lti_plugin.lti.models import Deployment

from .. import audit, policy
from ..actor import Actor
from ..errors import NotAllowed, RuleBroken
from ..models import CourseMapping, Organisation, Person, Pupil, SchoolClass, SchoolUnit, StaffGrant

# Roles held for a unit; the education chief and the organisation admin hold theirs for the owner.
ORGANISATION_ROLES = frozenset({"education_chief", "organisation_admin"})


def _granting_action(actor: Actor, role: str) -> str:
    pack = actor.pack
    if role not in pack.roles:
        raise RuleBroken(_("The framework has no such role."), code="unknown_role")
    action = pack.roles[role].granted_through
    if action in ("lti", "operator"):
        raise RuleBroken(_("That role comes from the learning platform or the server operator, not from a grant."),
                         code="not_grantable")
    return action


def _check_authority(actor: Actor, action: str, unit: SchoolUnit | None) -> None:
    roles = policy.acting_roles(actor, action)
    if not roles:
        raise NotAllowed(_("Your role may not give this role."), code=f"not_allowed:{action}")
    scope = {role: actor.pack.scope_for(action, role) for role in roles}
    if all(value == "unit" for value in scope.values()):
        if unit is None or not any(actor.covers(unit, role) for role in roles):
            raise NotAllowed(_("You give roles only at your own unit."), code="other_unit")


@transaction.atomic
def grant_role(*, actor: Actor, person: Person, role: str, unit: SchoolUnit | None = None,
               school_class: SchoolClass | None = None, pupil: Pupil | None = None) -> StaffGrant:
    """Give `person` a staff role (dated, logged)."""
    if person.pk == actor.person.pk:
        raise NotAllowed(_("Nobody gives a role to themselves."), code="self_grant")
    if person.organisation_id != actor.organisation.pk:
        raise NotAllowed(_("That person belongs to another school owner."), code="other_organisation")
    action = _granting_action(actor, role)
    if school_class is not None:
        unit = school_class.unit
    if pupil is not None:
        unit = pupil.unit
    if role == "class_teacher" and school_class is None:
        raise RuleBroken(_("A class teacher is named for a class."), code="class_missing")
    if role == "expert_group_member" and pupil is None:
        raise RuleBroken(_("An expert group is named for one pupil."), code="pupil_missing")
    if role not in ORGANISATION_ROLES and unit is None:
        raise RuleBroken(_("Choose the school unit the role is for."), code="unit_missing")
    if unit is not None and unit.organisation_id != actor.organisation.pk:
        raise NotAllowed(_("That unit belongs to another school owner."), code="other_organisation")
    if role == "expert_group_member":
        from .welfare import active_consent

        if active_consent(pupil) is None:  # type: ignore[arg-type]
            raise RuleBroken(_("An expert group is named only while consent stands."), code="consent_missing")
    _check_authority(actor, action, unit)
    if StaffGrant.objects.filter(person=person, role=role, unit=unit, school_class=school_class, pupil=pupil,
                                 revoked_at__isnull=True).exists():
        raise RuleBroken(_("That person already holds this role here."), code="already_granted")
    grant = StaffGrant.objects.create(person=person, role=role, organisation=actor.organisation,
                                      unit=None if role in ORGANISATION_ROLES else unit, school_class=school_class,
                                      pupil=pupil, granted_by=actor.person)
    audit.record(actor, f"grant.{role}", grant)
    return grant


@transaction.atomic
def revoke_grant(*, actor: Actor, grant: StaffGrant) -> StaffGrant:
    """End a grant: kept, dated, with who ended it."""
    grant = StaffGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.organisation_id != actor.organisation.pk:
        raise NotAllowed(_("That role belongs to another school owner."), code="other_organisation")
    if grant.person_id == actor.person.pk:
        raise NotAllowed(_("Nobody changes their own roles."), code="self_grant")
    if grant.revoked_at is not None:
        raise RuleBroken(_("That role has already ended."), code="already_revoked")
    _check_authority(actor, _granting_action(actor, grant.role), grant.unit)
    grant.revoked_at = timezone.now()
    grant.revoked_by = actor.person
    grant.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(actor, f"grant_revoked.{grant.role}", grant)
    return grant


@transaction.atomic
def map_course_to_unit(*, actor: Actor, deployment: Deployment, context_id: str, unit: SchoolUnit,
                       title: str = "") -> CourseMapping:
    """The organisation admin says which school unit an LMS course belongs to."""
    policy.require(actor, "map_course_to_unit")
    if unit.organisation_id != actor.organisation.pk or deployment.organisation_id != actor.organisation.pk:
        raise NotAllowed(_("That unit or course belongs to another school owner."), code="other_organisation")
    mapping, _created = CourseMapping.objects.update_or_create(deployment=deployment, context_id=context_id,
                                                               defaults={"unit": unit, "title": title})
    audit.record(actor, "course.mapped", mapping)
    return mapping


@transaction.atomic
def name_first_organisation_admin(*, organisation: Organisation, person: Person) -> StaffGrant:
    """The server operator names an organisation's first admin (a management command, no actor)."""
    if person.organisation_id != organisation.pk:
        raise RuleBroken(_("That person belongs to another school owner."), code="other_organisation")
    grant, _created = StaffGrant.objects.get_or_create(person=person, role="organisation_admin",
                                                      organisation=organisation, revoked_at__isnull=True)
    return grant
