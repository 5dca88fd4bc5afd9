"""The demo platform's fictional school owners, courses and people. Every name is made up."""

from __future__ import annotations

from dataclasses import dataclass, field

INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
MENTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"
SYSTEM_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"
INSTITUTION_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"


@dataclass(frozen=True)
class Course:
    id: str
    label: str
    title: str


@dataclass(frozen=True)
class Person:
    sub: str
    given_name: str
    family_name: str
    # teacher, special_teacher, health_team, principal, education_chief, organisation_admin, pupil, guardian,
    # it_admin. People with no course (an organisation admin, an education chief) are in the seeded
    # school data (seed.py) but cannot be launched from the demo page.
    kind: str
    courses: tuple[str, ...] = ()
    guardian_of: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def launch_roles(self) -> list[str]:
        """As Moodle sends them (sorted); guardians as Canvas/Brightspace send a parent."""
        if self.kind == "it_admin":
            return sorted([INSTITUTION_ADMIN, INSTRUCTOR, SYSTEM_ADMIN])
        if self.kind == "pupil":
            return [LEARNER]
        if self.kind == "guardian":
            return [MENTOR]
        return [INSTRUCTOR]

    def nrps_roles(self) -> list[str]:
        """NRPS as Moodle answers it: short names, and a non-editing teacher listed as Learner."""
        return ["Instructor"] if self.kind in ("teacher", "principal", "organisation_admin", "education_chief") \
            else ["Learner"]


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    name: str
    pack: str
    deployment_id: str
    courses: tuple[Course, ...]
    people: tuple[Person, ...] = field(default=())


KIND_LABELS = {
    "teacher": "lärare",
    "special_teacher": "speciallärare (icke-redigerande lärare)",
    "principal": "rektor",
    "pupil": "elev",
    "guardian": "vårdnadshavare",
    "it_admin": "IT-administratör",
    "health_team": "elevhälsan",
    "education_chief": "utbildningschef",
    "organisation_admin": "organisationsadministratör",
}

ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    DemoOrganisation(
        key="solbacka", name="Solbacka kommun (demo)", pack="se", deployment_id="demo-solbacka",
        courses=(Course("101", "MA7A", "Matematik 7A"), Course("102", "SV7A", "Svenska 7A"),
                 Course("103", "MA7B", "Matematik 7B")),
        people=(
            Person("s-11", "Tove", "Lärare", "teacher", ("101", "102")),
            Person("s-12", "Sara", "Speciallärare", "special_teacher", ("101", "102")),
            Person("s-13", "Petra", "Rektor", "principal", ("101", "102")),
            Person("s-21", "Elsa", "Exempelsson", "pupil", ("101", "102")),
            Person("s-22", "Noah", "Påhittad", "pupil", ("101", "102")),
            Person("s-23", "Alva", "Fiktiv", "pupil", ("101",)),
            Person("s-31", "Gustav", "Exempelsson", "guardian", ("101", "102"), guardian_of=("s-21",)),
            Person("s-41", "Ivar", "Admin", "it_admin", ("101", "102")),
            # Added for the seeded school (seed.py). Course 101's roster stays as it was.
            Person("s-14", "Kim", "Kurator", "health_team", ("102",)),
            # Launches from a course so the administration pages are reachable from the demo page.
            Person("s-15", "Greta", "Huvudman", "organisation_admin", ("102",)),
            Person("s-16", "Olle", "Rektorsson", "principal", ("103",)),
            Person("s-61", "Hugo", "Låtsasson", "pupil", ("102",)),
            Person("s-62", "Wilma", "Diktén", "pupil", ("102",)),
            Person("s-63", "Liam", "Skissberg", "pupil", ("102",)),
            Person("s-64", "Ebba", "Utkastsson", "pupil", ("102",)),
            Person("s-65", "Oscar", "Provsson", "pupil", ("102",)),
            Person("s-66", "Saga", "Mallberg", "pupil", ("102",)),
            Person("s-67", "Melvin", "Övningsberg", "pupil", ("102",)),
            Person("s-68", "Stella", "Låtsasdotter", "pupil", ("102",)),
            Person("s-69", "Alfred", "Skenlund", "pupil", ("103",)),
            Person("s-32", "Maria", "Låtsasdotter", "guardian", ("102",), guardian_of=("s-68",)),
        ),
    ),
    DemoOrganisation(
        key="aland", name="Ålands demokommun", pack="ax", deployment_id="demo-aland",
        courses=(Course("201", "MA5B", "Matematik 5B"), Course("202", "SV6A", "Svenska 6A"),
                 Course("203", "MA5C", "Matematik 5C")),
        people=(
            Person("a-11", "Linnea", "Klasslärare", "teacher", ("201",)),
            Person("a-12", "Oskar", "Speciallärare", "special_teacher", ("201",)),
            Person("a-13", "Maja", "Föreståndare", "principal", ("201",)),
            Person("a-21", "Ella", "Provelev", "pupil", ("201",)),
            Person("a-22", "Viggo", "Testberg", "pupil", ("201",)),
            Person("a-31", "Hanna", "Provelev", "guardian", ("201",), guardian_of=("a-21",)),
            Person("a-41", "Rasmus", "Drift", "it_admin", ("201",)),
            # Added for the seeded school (seed.py).
            Person("a-14", "Mira", "Hälsovårdare", "health_team", ("201", "202")),
            Person("a-15", "Karl", "Huvudman", "organisation_admin"),
            Person("a-16", "Birgitta", "Utbildningschef", "education_chief", ("202",)),
            Person("a-17", "Jonas", "Föreståndarsson", "principal", ("203",)),
            Person("a-18", "Stina", "Klassföreståndare", "teacher", ("202",)),
            Person("a-61", "Ines", "Påhittsdotter", "pupil", ("201",)),
            Person("a-62", "Elias", "Exempelberg", "pupil", ("201",)),
            Person("a-63", "Tyra", "Låtsasberg", "pupil", ("201",)),
            Person("a-64", "Malte", "Provander", "pupil", ("201",)),
            Person("a-65", "Signe", "Skissdotter", "pupil", ("201",)),
            Person("a-66", "Algot", "Fiktivsson", "pupil", ("201",)),
            Person("a-67", "Nova", "Testlund", "pupil", ("202",)),
            Person("a-68", "Hjalmar", "Diktsson", "pupil", ("201",)),
            Person("a-69", "Juni", "Mallsson", "pupil", ("203",)),
        ),
    ),
)


def find(org_key: str, course_id: str, sub: str) -> tuple[DemoOrganisation, Course, Person] | None:
    for org in ORGANISATIONS:
        if org.key != org_key:
            continue
        course = next((c for c in org.courses if c.id == course_id), None)
        person = next((p for p in org.people if p.sub == sub), None)
        if course and person and course.id in person.courses:
            return org, course, person
    return None


def course_members(course_id: str) -> list[Person]:
    return [p for org in ORGANISATIONS for p in org.people
            if course_id in p.courses and p.kind not in ("guardian", "it_admin")]
