"""People from launches and the roster, and the actor a launch makes (DESIGN.md "Who may do what").

Launches go through the real OIDC flow from an independent platform (tests/lti/platform.py) shaped
like the Moodle site of shared/fixtures/moodle (issuer, client id, deployment "3", course "2"), so
the NRPS fixture's user ids are the same people who launch.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import pytest
from django.test import Client

from lti_plugin.lti.models import Deployment, Launch
from lti_plugin.lti.roles import ToolRole
from lti_plugin.support import policy
from lti_plugin.support.actor import Actor
from lti_plugin.support.models import (
    Case, CourseMapping, CourseMember, GuardianLink, Organisation, Person, Pupil, SchoolUnit, StaffGrant,
)
from lti_plugin.support.services import people
from lti_plugin.support.services.cases import case_for
from tests.conftest import moodle_fixture
from tests.lti.platform import (
    COURSE, INSTITUTION_ADMIN, INSTRUCTOR, LEARNER, MENTOR, SYSTEM_ADMIN, Lms, read_page,
)

ISSUER = "https://moodle.example.edu"  # the Moodle fixtures' site
SITE_ADMIN = [INSTITUTION_ADMIN, INSTRUCTOR, SYSTEM_ADMIN]  # a Moodle site admin's launch, exactly
OTHER_COURSE = {"id": "8", "label": "SV7B", "title": "Svenska 7B", "type": ["CourseSection"]}
STAFF_COURSE = {"id": "99", "label": "PERSONAL", "title": "Personalrummet", "type": ["CourseSection"]}
NRPS_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/person#Administrator"  # Moodle's NRPS spelling


@dataclass
class World:
    """The tool as one Moodle site reaches it: its organisation, deployment, two units, the platform."""

    lms: Lms
    organisation: Organisation
    deployment: Deployment
    unit: SchoolUnit
    other_unit: SchoolUnit
    admin: Person  # the organisation admin who signs the grants below
    browsers: dict[str, Client] = field(default_factory=dict)

    def map(self, context: dict, unit: SchoolUnit) -> CourseMapping:
        return CourseMapping.objects.create(deployment=self.deployment, context_id=context["id"], unit=unit,
                                            title=context["title"])

    def launch(self, sub: str, roles: list[str], *, context: dict = COURSE, name: str = "",
               **claims) -> Launch:
        """A real launch by `sub` in their own browser; the Launch row the tool recorded."""
        browser = self.browsers.setdefault(sub, Client())
        response = self.lms.launch(browser, sub=sub, roles=roles, context=context,
                                   name=name or f"Person {sub}", **claims)
        assert response.status_code == 302, response.content[:500]
        launch_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
        launch = Launch.objects.get(pk=launch_id)
        assert response["Location"] == f"/app/{launch.id}/"
        return launch

    def person(self, sub: str) -> Person:
        return Person.objects.get(organisation=self.organisation, issuer=ISSUER, sub=sub)

    def actor(self, launch: Launch) -> Actor:
        return people.actor_for_launch(launch, self.person(launch.sub))

    def member(self, sub: str, context: dict = COURSE) -> CourseMember:
        return CourseMember.objects.get(deployment=self.deployment, context_id=context["id"],
                                        person=self.person(sub))

    def grant(self, person: Person, role: str, unit: SchoolUnit | None) -> StaffGrant:
        return StaffGrant.objects.create(person=person, role=role, organisation=self.organisation, unit=unit,
                                         granted_by=self.admin)

    def sync(self, members: list[dict], context: dict = COURSE) -> list[CourseMember]:
        return people.sync_roster(deployment=self.deployment, issuer=ISSUER, context_id=context["id"],
                                  members=members)


@pytest.fixture
def world(db) -> World:
    lms = Lms.register(issuer=ISSUER, client_id="Kq7Zt2WmX9bLp4R", deployment_ids=["3"])
    organisation = lms.registration.organisation
    Organisation.objects.filter(pk=organisation.pk).update(pack="se")
    organisation.refresh_from_db()
    deployment = Deployment.objects.get(registration=lms.registration, deployment_id="3")
    assert deployment.organisation == organisation
    unit = SchoolUnit.objects.create(organisation=organisation, name="Solbackaskolan")
    other = SchoolUnit.objects.create(organisation=organisation, name="Ekskolan")
    admin = Person.objects.create(organisation=organisation, issuer=ISSUER, sub="admin-org",
                                  name="Olle Orgadmin")
    return World(lms=lms, organisation=organisation, deployment=deployment, unit=unit, other_unit=other,
                 admin=admin)


def roster() -> list[dict]:
    """Moodle's NRPS answer for course 2: Elsa (5), Noah (6) students; Tove (3) teacher; Sara (4)
    non-editing teacher, listed as Learner."""
    container = moodle_fixture("nrps-membership.json")
    assert container["context"]["id"] == COURSE["id"]
    return copy.deepcopy(container["members"])


def pupil_subs(world: World) -> set[str]:
    pupils = Pupil.objects.filter(person__organisation=world.organisation)
    return set(pupils.values_list("person__sub", flat=True))


# -- launches make people --------------------------------------------------------------------------------

def test_a_learner_launch_makes_a_person_a_pupil_at_the_courses_unit_and_an_active_member(world):
    world.map(COURSE, world.unit)

    launch = world.launch("5", [LEARNER], name="Elsa Elev")

    assert launch.tool_role == ToolRole.PUPIL
    elsa = world.person("5")
    assert elsa.name == "Elsa Elev"
    assert Pupil.objects.get(person=elsa).unit == world.unit
    member = world.member("5")
    assert member.active and not member.launched_as_instructor and member.marked_staff_by is None
    assert not people.is_staff(member)
    assert world.actor(launch).roles == {"pupil"}


def test_a_learner_in_an_unmapped_course_is_a_pupil_without_a_unit_until_a_mapped_course_names_one(world):
    world.launch("5", [LEARNER], context=OTHER_COURSE, name="Elsa Elev")
    assert Pupil.objects.get(person=world.person("5")).unit is None

    world.map(COURSE, world.unit)
    world.launch("5", [LEARNER], name="Elsa Elev")

    assert Pupil.objects.filter(person=world.person("5")).count() == 1
    assert Pupil.objects.get(person=world.person("5")).unit == world.unit
    memberships = CourseMember.objects.filter(person=world.person("5"), active=True)
    assert {m.context_id for m in memberships} == {"8", "2"}


def test_a_pupil_reaches_their_own_case_and_nobody_elses(world):
    world.map(COURSE, world.unit)
    elsa_launch = world.launch("5", [LEARNER], name="Elsa Elev")
    world.launch("6", [LEARNER], name="Noah Elev")
    elsa_case = case_for(Pupil.objects.get(person__sub="5"), world.unit)
    noah_case = case_for(Pupil.objects.get(person__sub="6"), world.unit)

    elsa = world.actor(elsa_launch)

    assert policy.can(elsa, "view_case", elsa_case) and policy.can(elsa, "add_own_view", elsa_case)
    assert not policy.can(elsa, "view_case", noah_case)
    assert not policy.can(elsa, "log_adaptation", elsa_case)


def test_an_instructor_launch_makes_a_member_launched_as_instructor_and_no_pupil(world):
    world.map(COURSE, world.unit)

    launch = world.launch("3", [INSTRUCTOR], name="Tove Lärare")

    assert launch.tool_role == ToolRole.SUBJECT_TEACHER
    member = world.member("3")
    assert member.launched_as_instructor and member.active
    assert people.is_staff(member)
    assert not Pupil.objects.filter(person=world.person("3")).exists()
    assert world.actor(launch).roles == {"subject_teacher"}


def test_a_mentor_with_role_scope_mentor_is_guardian_of_exactly_those_pupils(world):
    world.map(COURSE, world.unit)
    for sub, name in (("5", "Elsa Elev"), ("6", "Noah Elev"), ("7", "Ines Elev")):
        world.launch(sub, [LEARNER], name=name)

    launch = world.launch("g-41", [MENTOR], name="Anna Förälder", role_scope_mentor=["5", "6"])

    assert launch.tool_role == ToolRole.GUARDIAN
    anna = world.person("g-41")
    wards = set(GuardianLink.objects.filter(guardian=anna).values_list("pupil__person__sub", flat=True))
    assert wards == {"5", "6"}
    assert not Pupil.objects.filter(person=anna).exists()  # the guardian is no pupil
    actor = world.actor(launch)
    assert actor.roles == {"guardian"}
    cases = {sub: case_for(Pupil.objects.get(person__sub=sub), world.unit) for sub in ("5", "6", "7")}
    assert policy.can(actor, "add_own_view", cases["5"]) and policy.can(actor, "view_case", cases["6"])
    assert not policy.can(actor, "view_case", cases["7"])
    assert not policy.can(actor, "add_own_view", cases["7"])


def test_a_mentors_child_who_has_not_launched_yet_is_the_same_pupil_when_they_do(world):
    world.map(COURSE, world.unit)
    world.launch("g-41", [MENTOR], name="Anna Förälder", role_scope_mentor=["5"])
    ward = GuardianLink.objects.get(guardian=world.person("g-41")).pupil

    world.launch("5", [LEARNER], name="Elsa Elev")

    assert Pupil.objects.get(person__sub="5") == ward
    assert ward.unit == world.unit
    assert world.person("5").name == "Elsa Elev"


def test_a_site_admin_is_it_admin_only_and_reaches_no_pupil(world):
    world.map(COURSE, world.unit)
    world.launch("5", [LEARNER], name="Elsa Elev")
    case = case_for(Pupil.objects.get(person__sub="5"), world.unit)

    launch = world.launch("2", SITE_ADMIN, name="Admin User")

    assert launch.tool_role == ToolRole.IT_ADMIN
    actor = world.actor(launch)
    assert actor.roles == {"it_admin"}
    assert not Pupil.objects.filter(person=world.person("2")).exists()
    for action in ("view_case", "log_adaptation", "raise_concern", "decide_level_2"):
        assert not policy.can(actor, action, case), action
    assert policy.can(actor, "manage_registrations")


def test_a_site_admin_holding_a_staff_grant_also_acts_in_that_role(world):
    world.map(COURSE, world.unit)
    world.launch("5", [LEARNER], name="Elsa Elev")
    case = case_for(Pupil.objects.get(person__sub="5"), world.unit)
    world.launch("2", SITE_ADMIN, name="Admin User")
    grant = world.grant(world.person("2"), "special_teacher", world.unit)

    launch = world.launch("2", SITE_ADMIN, name="Admin User")
    actor = world.actor(launch)

    # DESIGN.md: the Instructor beside the admin roles counts once the person holds a staff grant.
    assert actor.roles == {"it_admin", "special_teacher", "subject_teacher"}
    assert "special_teacher" in policy.acting_roles(actor, "view_case", case)
    assert policy.can(actor, "request_investigation", case)

    grant.revoked_at = grant.granted_at
    grant.save(update_fields=["revoked_at"])
    actor = world.actor(launch)
    assert actor.roles == {"it_admin"}
    assert not policy.can(actor, "view_case", case)


def test_a_staff_member_launching_as_learner_is_not_made_a_pupil(world):
    """A teacher enrolled as a student somewhere (a training course) holds a grant: staff, never a pupil."""
    world.launch("3", [INSTRUCTOR], name="Tove Lärare")
    world.grant(world.person("3"), "special_teacher", world.unit)

    world.launch("3", [LEARNER], context=OTHER_COURSE, name="Tove Lärare")

    assert not Pupil.objects.filter(person=world.person("3")).exists()


# -- the roster (NRPS) -------------------------------------------------------------------------------

def test_moodles_roster_makes_the_students_and_the_non_editing_teacher_pupils_the_teacher_staff(world):
    world.map(COURSE, world.unit)

    members = world.sync(roster())

    assert {m.person.sub for m in members} == {"5", "6", "3", "4"}
    # Sara (4) is a non-editing teacher Moodle lists as Learner; nothing yet tells the tool otherwise.
    assert pupil_subs(world) == {"5", "6", "4"}
    assert all(p.unit == world.unit for p in Pupil.objects.all())
    assert people.is_staff(world.member("3")) and not people.is_staff(world.member("5"))
    assert world.member("3").roster_roles == ["Instructor"]
    assert world.person("6").name == "Noah Elev"
    assert all(m.active for m in CourseMember.objects.all())


def test_a_non_editing_teacher_who_launched_as_instructor_is_staff_and_never_made_a_pupil(world):
    world.map(COURSE, world.unit)
    world.launch("4", [INSTRUCTOR], name="Sara Speciallärare")  # Moodle: identical to an editing teacher

    world.sync(roster())

    assert pupil_subs(world) == {"5", "6"}
    sara = world.member("4")
    assert sara.roster_roles == ["Learner"] and sara.launched_as_instructor
    assert people.is_staff(sara)

    world.sync(roster())  # and every later sync keeps it so
    assert pupil_subs(world) == {"5", "6"}


def test_a_roster_member_with_a_staff_grant_is_staff_and_never_made_a_pupil(world):
    world.map(COURSE, world.unit)
    sara = people.person_for(world.deployment, ISSUER, "4", "Sara Speciallärare")
    world.grant(sara, "special_teacher", world.unit)

    world.sync(roster())

    assert pupil_subs(world) == {"5", "6"}
    assert people.is_staff(world.member("4"))


def test_a_roster_member_a_teacher_marked_as_staff_is_staff_and_never_made_a_pupil(world):
    world.map(COURSE, world.unit)
    world.launch("3", [INSTRUCTOR], name="Tove Lärare")
    sara = people.person_for(world.deployment, ISSUER, "4", "Sara Speciallärare")
    CourseMember.objects.create(deployment=world.deployment, context_id=COURSE["id"], person=sara,
                                marked_staff_by=world.person("3"))

    world.sync(roster())

    assert pupil_subs(world) == {"5", "6"}
    member = world.member("4")
    assert people.is_staff(member) and member.marked_staff_by == world.person("3")


def test_a_non_editing_teacher_synced_before_her_first_launch_is_no_pupil_after_it(world):
    world.map(COURSE, world.unit)
    world.sync(roster())  # the roster comes first, as when a course adds the tool
    assert "4" in pupil_subs(world)  # a guess from Moodle's "Learner"
    world.launch("4", [INSTRUCTOR], name="Sara Speciallärare")

    world.sync(roster())

    assert people.is_staff(world.member("4"))
    assert pupil_subs(world) == {"5", "6"}
    assert world.person("4").name == "Sara Speciallärare"  # the person stays; only the wrong pupil row went


def test_members_missing_from_a_later_roster_become_inactive_and_are_kept(world):
    world.map(COURSE, world.unit)
    world.sync(roster())
    noah_pupil = Pupil.objects.get(person__sub="6")

    world.sync([m for m in roster() if m["user_id"] != "6"])

    noah = world.member("6")
    assert not noah.active
    assert Pupil.objects.filter(pk=noah_pupil.pk).exists() and world.person("6")
    assert {m.person.sub for m in CourseMember.objects.filter(active=True)} == {"5", "3", "4"}
    assert CourseMember.objects.count() == 4

    world.sync(roster())  # back in the course: the same row, active again
    assert world.member("6").pk == noah.pk and world.member("6").active


def test_roster_entries_whose_status_is_not_active_are_ignored(world):
    world.map(COURSE, world.unit)
    world.sync(roster())
    members = roster()
    for entry in members:
        if entry["user_id"] == "6":
            entry["status"] = "Inactive"
    members.append({"status": "Deleted", "roles": ["Learner"], "user_id": "9", "lis_person_sourcedid": "",
                    "name": "Borta Elev"})
    members.append({"status": "Inactive", "roles": ["Learner"], "user_id": "10", "name": "Vilande Elev"})

    world.sync(members)

    assert not world.member("6").active  # not listed as active: as good as gone
    assert not Person.objects.filter(sub__in=["9", "10"]).exists()
    assert pupil_subs(world) == {"5", "6", "4"}


def test_an_enrolled_site_admin_in_the_roster_is_no_pupil(world):
    world.map(COURSE, world.unit)
    members = roster() + [{"status": "Active", "roles": ["Instructor", NRPS_ADMIN], "user_id": "2",
                           "lis_person_sourcedid": "", "name": "Admin User"},
                          {"status": "Active", "roles": ["Learner", NRPS_ADMIN], "user_id": "12",
                           "lis_person_sourcedid": "", "name": "Other Admin"}]

    world.sync(members)

    assert "2" not in pupil_subs(world) and "12" not in pupil_subs(world)
    assert people.is_staff(world.member("2"))


def test_a_roster_sync_brings_pupils_within_reach_of_the_teacher_who_launched_there(world):
    world.map(COURSE, world.unit)
    tove_launch = world.launch("3", [INSTRUCTOR], name="Tove Lärare")
    world.sync(roster())
    elsa_case = case_for(Pupil.objects.get(person__sub="5"), world.unit)

    tove = world.actor(tove_launch)
    assert policy.can(tove, "log_adaptation", elsa_case)

    world.sync([m for m in roster() if m["user_id"] != "5"])  # Elsa left the course
    # Tove's next request (an actor is made per request and keeps its answers for that request).
    assert not policy.can(world.actor(tove_launch), "log_adaptation", elsa_case)


# -- the actor a launch makes: who reaches which pupil --------------------------------------------------

@pytest.fixture
def two_courses(world):
    """Course 2 (Matematik 7A) and course 8 (Svenska 7B) at the same unit; Elsa in 2, Olle in 8."""
    world.map(COURSE, world.unit)
    world.map(OTHER_COURSE, world.unit)
    world.launch("5", [LEARNER], name="Elsa Elev")
    world.launch("11", [LEARNER], context=OTHER_COURSE, name="Olle Elev")
    return {"elsa": case_for(Pupil.objects.get(person__sub="5"), world.unit),
            "olle": case_for(Pupil.objects.get(person__sub="11"), world.unit)}


def test_a_subject_teacher_reaches_the_pupils_of_the_course_they_teach_not_another_course(world, two_courses):
    launch = world.launch("3", [INSTRUCTOR], name="Tove Lärare")
    tove = world.actor(launch)

    assert tove.roles == {"subject_teacher"}
    assert policy.can(tove, "log_adaptation", two_courses["elsa"])
    assert policy.can(tove, "view_case", two_courses["elsa"])
    assert not policy.can(tove, "log_adaptation", two_courses["olle"])
    assert not policy.can(tove, "view_case", two_courses["olle"])


def test_a_learner_launch_in_a_course_does_not_make_its_pupils_reachable(world, two_courses):
    """Only launching as Instructor makes a course one's own: a Learner in course 8 reaches nobody there."""
    launch = world.launch("3", [INSTRUCTOR], name="Tove Lärare")
    world.launch("3", [LEARNER], context=OTHER_COURSE, name="Tove Lärare")

    tove = world.actor(launch)

    assert not policy.can(tove, "log_adaptation", two_courses["olle"])


def test_a_principal_grant_reaches_the_whole_unit(world, two_courses):
    petra = people.person_for(world.deployment, ISSUER, "31", "Petra Rektor")
    world.grant(petra, "principal", world.unit)

    launch = world.launch("31", [INSTRUCTOR], context=STAFF_COURSE, name="Petra Rektor")
    actor = world.actor(launch)

    assert actor.roles == {"principal", "subject_teacher"}
    for case in two_courses.values():
        assert policy.can(actor, "view_case", case)
        assert policy.can(actor, "decide_level_2", case)
        assert policy.can(actor, "read_audit_log", case)


def test_a_principal_launching_as_instructor_gets_no_subject_teacher_reach_over_the_unit(world, two_courses):
    """The principal teaches nobody: the subject-teacher role of the launch reaches only pupils taught,
    never the unit the principal's grant covers (log_adaptation is no principal action)."""
    petra = people.person_for(world.deployment, ISSUER, "31", "Petra Rektor")
    world.grant(petra, "principal", world.unit)

    actor = world.actor(world.launch("31", [INSTRUCTOR], context=STAFF_COURSE, name="Petra Rektor"))

    for case in two_courses.values():
        assert not policy.can(actor, "log_adaptation", case)
        assert not policy.can(actor, "draft_plan", case)


def test_grants_at_another_unit_do_not_leak(world, two_courses):
    """Principal at unit A, special teacher at unit B: decides at A only; at B does what a special
    teacher may, nothing more."""
    unit_a, unit_b = world.unit, world.other_unit
    pia = people.person_for(world.deployment, ISSUER, "32", "Pia Rektor")
    world.grant(pia, "principal", unit_a)
    world.grant(pia, "special_teacher", unit_b)
    at_b = case_for(Pupil.objects.get(person__sub="5"), unit_b)  # Elsa's case at the other unit
    olle_person = world.person("11")
    Pupil.objects.filter(person=olle_person).update(unit=unit_b)
    olle_at_b = case_for(Pupil.objects.get(person=olle_person), unit_b)

    actor = world.actor(world.launch("32", [INSTRUCTOR], context=STAFF_COURSE, name="Pia Rektor"))

    assert actor.role_units["principal"] == {unit_a.pk}
    assert actor.role_units["special_teacher"] == {unit_b.pk}
    assert policy.can(actor, "decide_level_2", two_courses["elsa"])
    assert policy.can(actor, "read_audit_log", two_courses["olle"])
    for case in (at_b, olle_at_b):
        assert policy.can(actor, "view_case", case)
        assert policy.can(actor, "request_investigation", case)
        for action in ("decide_level_2", "decide_close_plan", "decide_special_group", "read_audit_log"):
            assert not policy.can(actor, action, case), action
        assert policy.acting_roles(actor, "view_case", case) == ["special_teacher"]
    # at A the principal logs no adaptations (no subject teacher reach through the grants)
    assert not policy.can(actor, "log_adaptation", two_courses["elsa"])


def test_a_revoked_grant_no_longer_reaches_the_unit(world, two_courses):
    petra = people.person_for(world.deployment, ISSUER, "31", "Petra Rektor")
    grant = world.grant(petra, "principal", world.unit)
    launch = world.launch("31", [INSTRUCTOR], context=STAFF_COURSE, name="Petra Rektor")
    StaffGrant.objects.filter(pk=grant.pk).update(revoked_at=grant.granted_at, revoked_by=world.admin)

    actor = world.actor(launch)

    assert actor.roles == {"subject_teacher"}
    assert not any(policy.can(actor, "view_case", case) for case in two_courses.values())


# -- unknown and least roles ----------------------------------------------------------------------------

@pytest.mark.parametrize("roles", [
    ["https://example.com/roles#Chef"],
    ["http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper"],
    ["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"],
    [MENTOR],  # a Mentor without role_scope_mentor is nobody's guardian
    [],
], ids=["unknown", "content-developer", "ta-sub-role", "mentor-without-scope", "none"])
def test_a_launch_with_no_known_role_gets_no_roles_and_a_no_access_page(world, roles):
    world.map(COURSE, world.unit)
    world.launch("5", [LEARNER], name="Elsa Elev")
    case = case_for(Pupil.objects.get(person__sub="5"), world.unit)

    launch = world.launch("50", roles, name="Okänd Person")

    assert launch.tool_role == ToolRole.NONE
    actor = world.actor(launch)
    assert actor.roles == frozenset()
    assert not Pupil.objects.filter(person=world.person("50")).exists()
    assert not GuardianLink.objects.filter(guardian=world.person("50")).exists()
    assert not policy.can(actor, "view_case", case) and not policy.can(actor, "raise_concern", case)

    page_response = world.browsers["50"].get(f"/app/{launch.id}/")
    assert page_response.status_code == 403
    page = read_page(page_response)
    assert "Din roll ger ingen åtkomst till Elevstöd" in page  # the launch's language: sv
    assert "Välkommen" not in page
    assert Case.objects.count() == 1


def test_the_no_access_page_speaks_the_launchs_language(world):
    launch = world.launch("50", ["https://example.com/roles#Chef"], name="Unknown Person", locale="en")

    page_response = world.browsers["50"].get(f"/app/{launch.id}/")

    assert page_response.status_code == 403
    page = read_page(page_response)
    assert "Your role gives no access to Elevstöd" in page
    assert page.testids["lti-role"] == "Chef"


def test_a_roster_guess_with_a_guardian_link_does_not_break_the_teachers_launch(world):
    """The wrong pupil row goes only when nothing points at it; the launch itself never fails on it."""
    world.map(COURSE, world.unit)
    world.sync(roster())
    world.launch("g-41", [MENTOR], name="Anna Förälder", role_scope_mentor=["4"])

    launch = world.launch("4", [INSTRUCTOR], name="Sara Speciallärare")

    assert world.actor(launch).roles == {"subject_teacher"}
    assert people.is_staff(world.member("4"))
    assert GuardianLink.objects.filter(guardian=world.person("g-41"), pupil__person__sub="4").exists()


def test_a_teacher_of_the_course_marks_a_roster_member_as_staff(db):
    from lti_plugin.lti.models import Deployment
    from lti_plugin.support.actor import Actor
    from lti_plugin.support.errors import NotAllowed
    from lti_plugin.support.models import CourseMember, Organisation, Person, Pupil
    from lti_plugin.support.services.people import is_staff, mark_as_staff, sync_roster
    from lti_plugin.lti.registration import register_manually

    registration = register_manually(issuer="https://moodle.example.edu", client_id="c", auth_login_url="https://moodle.example.edu/a",
                                     auth_token_url="https://moodle.example.edu/t", key_set={"keys": []}, deployment_ids=["3"])
    deployment = Deployment.objects.get(registration=registration)
    Organisation.objects.update(pack="se")
    members = sync_roster(deployment=deployment, issuer=registration.issuer, context_id="2",
                          members=[{"user_id": "3", "roles": ["Instructor"], "name": "Tove Lärare"},
                                   {"user_id": "4", "roles": ["Learner"], "name": "Sara Speciallärare"}])
    tove, sara = members
    tove.launched_as_instructor = True
    tove.save()
    assert Pupil.objects.filter(person=sara.person).exists()  # the roster's guess
    outsider = Actor(person=Person.objects.create(organisation=deployment.organisation, issuer=registration.issuer,
                                                  sub="99"), organisation=deployment.organisation,
                     roles=frozenset({"subject_teacher"}))
    with pytest.raises(NotAllowed):
        mark_as_staff(actor=outsider, member=sara)
    teacher = Actor(person=tove.person, organisation=deployment.organisation, roles=frozenset({"subject_teacher"}))

    mark_as_staff(actor=teacher, member=sara)

    assert is_staff(CourseMember.objects.get(pk=sara.pk))
    assert not Pupil.objects.filter(person=sara.person).exists()
