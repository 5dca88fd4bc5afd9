"""A small school for the support tests: one owner per pack, a unit, a class, staff by role, pupils.

Plain rows come from here; states with rules (evaluated, decided, closed) come from the services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest

from lti_plugin.support.actor import Actor
from lti_plugin.support.models import GuardianLink, Organisation, Person, Pupil, SchoolClass, SchoolUnit
from lti_plugin.support.services.cases import case_for

ISSUER = "https://moodle.kommun.example"
STAFF_ROLES = ("class_teacher", "subject_teacher", "special_teacher", "principal", "principal_delegate",
               "health_team_member", "education_chief", "expert_group_member", "communal_welfare_group_member",
               "organisation_admin", "it_admin")


@dataclass
class School:
    organisation: Organisation
    unit: SchoolUnit
    other_unit: SchoolUnit
    school_class: SchoolClass
    people: dict[str, Person] = field(default_factory=dict)
    _count: int = 0

    def person(self, name: str) -> Person:
        self._count += 1
        person = Person.objects.create(organisation=self.organisation, issuer=ISSUER, sub=f"u{self._count}",
                                       name=name)
        self.people[name] = person
        return person

    def actor(self, role: str, *, unit: SchoolUnit | None = None, person: Person | None = None) -> Actor:
        """Someone acting in `role`, reaching `unit` (default: the school's unit)."""
        person = person or self.person(f"{role} {self._count + 1}")
        return Actor(person=person, organisation=self.organisation, roles=frozenset({role}),
                     units=frozenset({(unit or self.unit).pk}))

    def pupil(self, name: str = "Elsa Exempelsson", *, grade: int = 7, home_municipality: str = "") -> Pupil:
        person = self.person(name)
        return Pupil.objects.create(person=person, unit=self.unit, school_class=self.school_class, grade=grade,
                                    home_municipality=home_municipality)

    def pupil_actor(self, pupil: Pupil) -> Actor:
        return Actor(person=pupil.person, organisation=self.organisation, roles=frozenset({"pupil"}))

    def guardian_actor(self, pupil: Pupil) -> Actor:
        guardian = self.person(f"guardian of {pupil}")
        GuardianLink.objects.create(guardian=guardian, pupil=pupil)
        return Actor(person=guardian, organisation=self.organisation, roles=frozenset({"guardian"}))

    def case(self, pupil: Pupil | None = None):  # type: ignore[no-untyped-def]
        return case_for(pupil or self.pupil(), self.unit)


def make_school(pack: str) -> School:
    organisation = Organisation.objects.create(name=f"Demokommun ({pack})", pack=pack)
    unit = SchoolUnit.objects.create(organisation=organisation, name="Solbackaskolan", municipality="Solbacka")
    other = SchoolUnit.objects.create(organisation=organisation, name="Ekskolan", municipality="Solbacka")
    school_class = SchoolClass.objects.create(unit=unit, name="7A", grade=7)
    return School(organisation=organisation, unit=unit, other_unit=other, school_class=school_class)


@pytest.fixture
def se(db) -> School:
    return make_school("se")


@pytest.fixture
def ax(db) -> School:
    return make_school("ax")


TODAY = date(2026, 3, 2)
