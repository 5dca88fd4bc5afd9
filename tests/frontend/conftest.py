"""A school per framework pack, reached only through real LTI launches: one browser per person.

Everyone arrives as the LMS sends them (RS256 id_tokens through /lti/login/ and /lti/launch/), each
with their own Django test Client so no session mixes with another's. Staff roles come from grants
given through the grant service by someone else (nobody grants a role to themselves); the first
organisation admin is named by the operator. The schools are built once per module inside one
transaction that is rolled back at the end; every test runs in a savepoint inside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lti_plugin.lti.models import Launch
from lti_plugin.support.actor import Actor
from lti_plugin.support.models import (
    Adaptation,
    Assessment,
    Case,
    CourseMapping,
    Investigation,
    Organisation,
    Person,
    Plan,
    SchoolClass,
    SchoolUnit,
)
from lti_plugin.support.services import absence, cases, grants, plans, welfare
from lti_plugin.support.services.people import actor_for_launch
from tests.lti.platform import INSTRUCTOR, LEARNER, MENTOR, SYSTEM_ADMIN, Lms

PACKS = ("se", "ax", "fi-2025", "fi-2010")


def course(context_id: str, label: str, title: str) -> dict[str, Any]:
    return {"id": context_id, "label": label, "title": title, "type": ["CourseSection"]}


COURSE_7A = course("101", "SV7A", "Svenska 7A")  # the pupil's course, mapped to the unit
COURSE_7B = course("102", "SV7B", "Svenska 7B")  # another class at the same unit
COURSE_EK = course("201", "SV7E", "Svenska 7E")  # a course at the other unit
STAFF_ROOM = course("900", "PERS", "Personalrum")  # where staff launch from; no pupils in it

# Who launches how: (sub, LTI roles, course, extra claims). Staff without a course of the pupil's
# launch from the staff room, so any reach beyond it comes from their grants alone.
LAUNCHES: dict[str, tuple[str, list[str], dict[str, Any], dict[str, Any]]] = {
    "pupil": ("elev-1", [LEARNER], COURSE_7A, {}),
    "pupil_7b": ("elev-2", [LEARNER], COURSE_7B, {}),
    "pupil_elsewhere": ("elev-3", [LEARNER], COURSE_EK, {}),
    "guardian": ("vh-1", [MENTOR], COURSE_7A, {"role_scope_mentor": ["elev-1"]}),
    "guardian_of_other_child": ("vh-2", [MENTOR], COURSE_7B, {"role_scope_mentor": ["elev-2"]}),
    "subject_teacher": ("amneslarare", [INSTRUCTOR], COURSE_7A, {}),
    "class_teacher": ("klasslarare", [INSTRUCTOR], STAFF_ROOM, {}),
    "special_teacher": ("speciallarare", [INSTRUCTOR], STAFF_ROOM, {}),
    "principal": ("rektor", [INSTRUCTOR], STAFF_ROOM, {}),
    "health_team_member": ("elevhalsa", [INSTRUCTOR], STAFF_ROOM, {}),
    "education_chief": ("utbildningschef", [INSTRUCTOR], STAFF_ROOM, {}),
    "principal_delegate": ("delegat", [INSTRUCTOR], STAFF_ROOM, {}),
    "expert_group_member": ("kurator", [INSTRUCTOR], STAFF_ROOM, {}),
    "organisation_admin": ("orgadmin", [INSTRUCTOR], STAFF_ROOM, {}),
    "it_admin": ("itadmin", [SYSTEM_ADMIN, INSTRUCTOR], COURSE_7A, {}),
    "outsider_principal": ("rektor-ek", [INSTRUCTOR], STAFF_ROOM, {}),
}
# Who exists in which pack (DESIGN.md: no education chief in `se`; the ÅP delegate only in `se`;
# the expert group only in `fi`).
ONLY_IN = {"education_chief": ("ax", "fi-2025", "fi-2010"), "principal_delegate": ("se",),
           "expert_group_member": ("fi-2025", "fi-2010")}


@dataclass
class Member:
    """One person at the school: their own browser and the launch it holds."""

    key: str
    person: Person
    client: Client
    launch_id: str

    def post(self, path: str, data: dict[str, Any] | None = None) -> Any:
        return self.client.post(path, data or {})

    def get(self, path: str, data: dict[str, Any] | None = None) -> Any:
        return self.client.get(path, data or {})


@dataclass
class School:
    pack: str
    lms: Lms
    organisation: Organisation
    unit: SchoolUnit
    other_unit: SchoolUnit
    class_7a: SchoolClass
    class_7b: SchoolClass
    people: dict[str, Member] = field(default_factory=dict)
    case: Case | None = None  # the pupil's case at the unit: the one the matrix walks
    case_7b: Case | None = None  # another pupil at the same unit, in another class and course
    case_elsewhere: Case | None = None  # a pupil at the other unit
    adaptation: Adaptation | None = None  # a logged adaptation on `case`, for follow-ups
    # Objects of `case_7b`, to name in a form about `case` (they must be a 404 there).
    foreign: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Member:
        return self.people[key]

    def actor(self, key: str) -> Actor:
        """The person as their launch and standing grants make them now (as the views see them)."""
        member = self.people[key]
        launch = Launch.objects.select_related("registration", "deployment__organisation").get(
            pk=member.launch_id)
        return actor_for_launch(launch, member.person)

    def post(self, key: str, case: Case, action: str, form: dict[str, Any] | None = None) -> Any:
        """`key` posts `form` to the case action's door, with their own browser and launch."""
        return self.people[key].post(self.action_url(key, case, action), form)

    def view(self, key: str, case: Case) -> Any:
        """`key` opens the case's page."""
        return self.people[key].get(self.case_url(key, case))

    def action_url(self, key: str, case: Case, action: str) -> str:
        return reverse("frontend:case-action", args=[self.people[key].launch_id, case.pk, action])

    def case_url(self, key: str, case: Case) -> str:
        return reverse("frontend:case", args=[self.people[key].launch_id, case.pk])

    def list_url(self, key: str) -> str:
        return reverse("frontend:cases", args=[self.people[key].launch_id])

    def audit_url(self, key: str) -> str:
        return reverse("frontend:audit", args=[self.people[key].launch_id])


def _launch(lms: Lms, key: str) -> Member:
    sub, roles, context, extra = LAUNCHES[key]
    client = Client()
    name = f"{key.replace('_', ' ').title()} X"
    response = lms.launch(client, sub=sub, roles=roles, context=context, name=name, **extra)
    assert response.status_code == 302, (key, response.status_code, response.content[:300])
    path = urlsplit(response["Location"]).path
    assert path.startswith("/app/"), (key, path)
    launch_id = path.split("/")[2]
    launch = Launch.objects.get(pk=launch_id)
    person = Person.objects.get(organisation=launch.deployment.organisation, issuer=lms.issuer, sub=sub)
    return Member(key=key, person=person, client=client, launch_id=launch_id)


def build_school(pack: str) -> School:
    """The organisation owns the platform's registration; units, classes, courses; everyone launches."""
    lms = Lms.register(issuer=f"https://moodle-{pack}.kommun.example", client_id=f"elevstod-{pack}",
                       deployment_ids=["1"])
    registration = lms.registration
    organisation = registration.organisation
    organisation.pack = pack
    organisation.name = f"Solbacka kommun ({pack})"
    organisation.save(update_fields=["pack", "name"])
    deployment = registration.deployments.get()
    unit = SchoolUnit.objects.create(organisation=organisation, name="Solbackaskolan", municipality="Sol")
    other_unit = SchoolUnit.objects.create(organisation=organisation, name="Ekskolan", municipality="Ek")
    class_7a = SchoolClass.objects.create(unit=unit, name="7A", grade=7)
    class_7b = SchoolClass.objects.create(unit=unit, name="7B", grade=7)
    for context, where in ((COURSE_7A, unit), (COURSE_7B, unit), (COURSE_EK, other_unit)):
        CourseMapping.objects.create(deployment=deployment, context_id=context["id"], unit=where,
                                     title=context["title"])
    school = School(pack=pack, lms=lms, organisation=organisation, unit=unit, other_unit=other_unit,
                    class_7a=class_7a, class_7b=class_7b)
    for key in LAUNCHES:
        if pack in ONLY_IN.get(key, (pack,)):
            school.people[key] = _launch(lms, key)

    # The pupils' classes (the principal names classes; no service takes a pupil into one yet).
    for key, school_class in (("pupil", class_7a), ("pupil_7b", class_7b)):
        pupil = school[key].person.pupil
        pupil.school_class = school_class
        pupil.grade = 7
        pupil.save(update_fields=["school_class", "grade"])
    assert school["pupil"].person.pupil.unit == unit
    assert school["pupil_elsewhere"].person.pupil.unit == other_unit

    # Grants: the operator names the first organisation admin; the admin names principals and the
    # education chief; the principal names the rest of the unit.
    grants.name_first_organisation_admin(organisation=organisation,
                                         person=school["organisation_admin"].person)
    admin = school.actor("organisation_admin")
    grant = grants.grant_role
    grant(actor=admin, person=school["principal"].person, role="principal", unit=unit)
    grant(actor=admin, person=school["outsider_principal"].person, role="principal", unit=other_unit)
    if "education_chief" in school.people:
        grant(actor=admin, person=school["education_chief"].person, role="education_chief")
    principal = school.actor("principal")
    grant(actor=principal, person=school["class_teacher"].person, role="class_teacher", school_class=class_7a)
    for role in ("special_teacher", "health_team_member", "principal_delegate"):
        if role in school.people:
            grant(actor=principal, person=school[role].person, role=role, unit=unit)

    school.case = cases.case_for(school["pupil"].person.pupil, unit)
    school.case_7b = cases.case_for(school["pupil_7b"].person.pupil, unit)
    school.case_elsewhere = cases.case_for(school["pupil_elsewhere"].person.pupil, other_unit)
    special = school.actor("special_teacher")
    school.adaptation = cases.log_adaptation(actor=special, case=school.case, description="Förlängd skrivtid",
                                             started_on=timezone.localdate())

    if "expert_group_member" in school.people:
        # fi: the expert group is named only after the pupil's or a guardian's consent.
        welfare.record_consent(actor=school.actor("class_teacher"), case=school.case, given_by="Eva (vh)")
        grant(actor=principal, person=school["expert_group_member"].person, role="expert_group_member",
              pupil=school["pupil"].person.pupil)

    # Objects of another pupil's case, to swap into forms about this one.
    other = school.case_7b
    school.foreign = {
        "adaptation": cases.log_adaptation(actor=special, case=other, description="Bildstöd",
                                           started_on=timezone.localdate()),
        "assessment": cases.start_assessment(actor=special, case=other, text="Läsning"),
        "investigation": cases.request_investigation(actor=special, case=other),
        "plan": plans.draft_plan(actor=special, case=other, document=draft_document(pack),
                                 needs=["Läsförståelse"]),
        "record": absence.start_absence_step(actor=principal, case=other, step=1,
                                             started_on=timezone.localdate()),
    }
    assert all(obj.pk for obj in school.foreign.values())
    assert isinstance(school.foreign["plan"], Plan) and isinstance(school.foreign["assessment"], Assessment)
    assert isinstance(school.foreign["investigation"], Investigation)
    return school


def draft_document(pack: str) -> str:
    """The document `draft_plan` drafts in each pack (ÅP; Finnish learning plan / support plan)."""
    return {"se": "action_plan", "ax": "action_plan", "fi-2010": "learning_plan",
            "fi-2025": "support_plan"}[pack]


def schools_built_once(packs: tuple[str, ...], django_db_blocker: Any) -> Iterator[dict[str, School]]:
    """Schools of `packs`, built once inside a transaction rolled back at the end (a module fixture's
    body: every test then runs in a savepoint inside it)."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = {pack: build_school(pack) for pack in packs}
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(scope="module")
def schools(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, School]]:
    """One school per pack, built once for the module inside a transaction rolled back at its end."""
    yield from schools_built_once(PACKS, django_db_blocker)
