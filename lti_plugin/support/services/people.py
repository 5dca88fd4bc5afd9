"""People from launches and the course roster (NRPS), and the Actor a launch makes.

Moodle's roster lists non-editing teachers as Learner. A member who has launched as Instructor in
the course, holds a staff grant or was marked staff by a teacher is staff, never a pupil (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError, QuerySet
from django.utils import timezone

from lti_plugin.lti.models import Deployment, Launch
from lti_plugin.lti.roles import ToolRole, context_role, is_admin

from ..actor import Actor, grant_reach
from ..models import CourseMapping, CourseMember, GuardianLink, Person, Pupil, SchoolUnit, StaffGrant

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


def person_for(deployment: Deployment, issuer: str, sub: str, name: str = "") -> Person:
    person, created = Person.objects.get_or_create(organisation=deployment.organisation, issuer=issuer, sub=sub,
                                                   defaults={"name": name})
    if name and not created and person.name != name:
        person.name = name
        person.save(update_fields=["name"])
    return person


def unit_of_course(deployment: Deployment, context_id: str) -> SchoolUnit | None:
    mapping = CourseMapping.objects.filter(deployment=deployment, context_id=context_id).select_related("unit").first()
    return mapping.unit if mapping else None


def _holds_grant(person: Person) -> bool:
    return StaffGrant.objects.filter(person=person, revoked_at__isnull=True).exists()


def is_staff(member: CourseMember) -> bool:
    roster_instructor = any(context_role(role) == "Instructor" for role in member.roster_roles)
    return (member.launched_as_instructor or roster_instructor or member.marked_staff_by_id is not None
            or _holds_grant(member.person))


def course_pupils(deployment_id: int, context_id: str) -> QuerySet[Pupil]:
    """The course's pupils from its roster: `is_staff` as one query for the whole course (launched or
    listed as a teacher, marked as staff by a teacher of the course, or holding a staff grant)."""
    members = CourseMember.objects.filter(deployment_id=deployment_id, context_id=context_id, active=True,
                                          launched_as_instructor=False, marked_staff_by__isnull=True) \
        .exclude(person__in=StaffGrant.objects.filter(revoked_at__isnull=True).values("person_id"))
    learners = [member.person_id for member in members.only("person_id", "roster_roles")
                if not any(context_role(role) == "Instructor" for role in member.roster_roles)]
    return Pupil.objects.filter(person_id__in=learners).select_related("person").order_by("person__name", "pk")


def _ensure_pupil(person: Person, unit: SchoolUnit | None) -> Pupil:
    pupil, _created = Pupil.objects.get_or_create(person=person, defaults={"unit": unit})
    if pupil.unit_id is None and unit is not None:
        pupil.unit = unit
        pupil.save(update_fields=["unit"])
    return pupil


@transaction.atomic
def record_launch_person(launch: Launch) -> Person:
    """The launching person as the tool keeps them: person, course membership, pupil or guardian links."""
    deployment, issuer = launch.deployment, launch.registration.issuer
    person = person_for(deployment, issuer, launch.sub, launch.name)
    if launch.person_id != person.pk:
        launch.person = person
        launch.save(update_fields=["person"])
    member = None
    if launch.context_id:
        member, _ = CourseMember.objects.get_or_create(deployment=deployment, context_id=launch.context_id,
                                                       person=person)
        if launch.tool_role == ToolRole.SUBJECT_TEACHER:
            member.launched_as_instructor = True
        member.active = True
        member.refreshed_at = timezone.now()
        member.save()
    unit = unit_of_course(deployment, launch.context_id) if launch.context_id else None
    if member is not None and member.launched_as_instructor:
        # A roster listed them as Learner (Moodle's non-editing teacher): staff after all. A pupil row
        # the roster made, with no support recorded, is only a wrong guess and goes.
        try:
            with transaction.atomic():
                Pupil.objects.filter(person=person, cases__isnull=True).delete()
        except ProtectedError:
            pass  # something already points at it (a guardian link, a consent): keep it

    if launch.tool_role == ToolRole.PUPIL and not (member and is_staff(member)) and not _holds_grant(person):
        _ensure_pupil(person, unit)
    if launch.tool_role == ToolRole.GUARDIAN:
        for sub in launch.claims.get(CLAIM + "role_scope_mentor") or []:
            if isinstance(sub, str) and sub:
                ward = _ensure_pupil(person_for(deployment, issuer, sub), unit)
                GuardianLink.objects.get_or_create(guardian=person, pupil=ward)
    return person


@transaction.atomic
def sync_roster(*, deployment: Deployment, issuer: str, context_id: str,
                members: Iterable[dict[str, Any]]) -> list[CourseMember]:
    """Take the course roster as the platform lists it; staff filtered out of the pupils."""
    unit = unit_of_course(deployment, context_id)
    seen: list[CourseMember] = []
    for entry in members:
        if entry.get("status", "Active") != "Active" or not entry.get("user_id"):
            continue
        person = person_for(deployment, issuer, str(entry["user_id"]), str(entry.get("name") or ""))
        member, _ = CourseMember.objects.get_or_create(deployment=deployment, context_id=context_id, person=person)
        member.roster_roles = [role for role in entry.get("roles") or [] if isinstance(role, str)]
        member.active = True
        member.refreshed_at = timezone.now()
        member.save()
        if not is_staff(member) and not is_admin(member.roster_roles):
            _ensure_pupil(person, unit)
        seen.append(member)
    (CourseMember.objects.filter(deployment=deployment, context_id=context_id, active=True)
     .exclude(pk__in=[m.pk for m in seen]).update(active=False))  # left the course: kept, not deleted
    return seen


def actor_for_launch(launch: Launch, person: Person) -> Actor:
    """Roles from the launch (DESIGN.md's table) plus the person's standing staff grants.

    A system or institution Administrator is an IT admin only, even with Instructor beside it,
    unless the person also holds a staff grant.
    """
    grants = list(StaffGrant.objects.filter(person=person, revoked_at__isnull=True)
                  .select_related("school_class"))
    roles: set[str] = set()
    role_units: dict[str, set[int]] = {}
    admin = launch.tool_role == ToolRole.IT_ADMIN
    if admin:
        roles.add("it_admin")
    if launch.tool_role in (ToolRole.PUPIL, ToolRole.GUARDIAN):
        roles.add(str(launch.tool_role))
    if launch.tool_role == ToolRole.SUBJECT_TEACHER or (admin and grants and any(
            context_role(r) == "Instructor" for r in launch.roles)):
        roles.add("subject_teacher")  # reaches the pupils of the courses taught (policy: "taught")
    if admin and not grants:
        roles.discard("subject_teacher")
    roles.update(grant.role for grant in grants)
    for role, unit_ids in grant_reach(grants).items():
        role_units.setdefault(role, set()).update(unit_ids)
    for role in roles:  # a launch's role (subject teacher) covers no unit; no fallback to the grants' units
        role_units.setdefault(role, set())
    units = frozenset(unit for unit_ids in role_units.values() for unit in unit_ids)
    return Actor(person=person, organisation=launch.deployment.organisation, roles=frozenset(roles), units=units,
                 role_units={role: frozenset(ids) for role, ids in role_units.items()},
                 classes=frozenset(g.school_class_id for g in grants if g.school_class_id and g.role == "class_teacher"),
                 launch_id=launch.id, context_id=launch.context_id, language=launch.locale)



ROSTER_FRESH_SECONDS = 15 * 60


def refresh_roster(launch: Launch) -> bool:
    """The launch's course roster from NRPS, at most every 15 minutes per course (shared cache).

    Returns whether a fresh roster was taken. A platform that offers no roster or does not answer
    leaves the last one in place: launches and pages never fail on it.
    """
    from django.core.cache import cache

    from lti_plugin.lti.nrps import RosterUnavailable, fetch_roster

    if not launch.context_id or not launch.claims.get("https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"):
        return False
    key = f"roster:{launch.deployment_id}:{launch.context_id}"
    if not cache.add(key, True, ROSTER_FRESH_SECONDS):
        return False
    try:
        members = fetch_roster(launch)
    except RosterUnavailable:
        cache.delete(key)
        return False
    sync_roster(deployment=launch.deployment, issuer=launch.registration.issuer, context_id=launch.context_id,
                members=members)
    return True


@transaction.atomic
def mark_as_staff(*, actor: Actor, member: CourseMember) -> CourseMember:
    """A teacher of the course marks a roster member as staff (Moodle lists non-editing teachers as
    Learner): never a pupil after that."""
    from django.utils.translation import gettext as _

    from .. import audit
    from ..errors import NotAllowed, RuleBroken

    teaches = CourseMember.objects.filter(person=actor.person, deployment_id=member.deployment_id,
                                          context_id=member.context_id, launched_as_instructor=True).exists()
    if not teaches:
        raise NotAllowed(_("Only a teacher of the course marks its members as staff."), code="not_allowed:mark_staff")
    if member.person_id == actor.person.pk:
        raise RuleBroken(_("You are staff already."), code="self")
    member.marked_staff_by = actor.person
    member.save(update_fields=["marked_staff_by"])
    try:
        with transaction.atomic():
            Pupil.objects.filter(person=member.person, cases__isnull=True).delete()
    except ProtectedError:
        pass  # support is already recorded for this person as a pupil: keep it
    audit.record(actor, "course_member.marked_staff", member)
    return member
