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
    kind: str  # teacher, special_teacher, principal, pupil, guardian, it_admin
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
        return ["Instructor"] if self.kind in ("teacher", "principal") else ["Learner"]


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
}

ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    DemoOrganisation(
        key="solbacka", name="Solbacka kommun (demo)", pack="se", deployment_id="demo-solbacka",
        courses=(Course("101", "MA7A", "Matematik 7A"), Course("102", "SV7A", "Svenska 7A")),
        people=(
            Person("s-11", "Tove", "Lärare", "teacher", ("101", "102")),
            Person("s-12", "Sara", "Speciallärare", "special_teacher", ("101", "102")),
            Person("s-13", "Petra", "Rektor", "principal", ("101", "102")),
            Person("s-21", "Elsa", "Exempelsson", "pupil", ("101", "102")),
            Person("s-22", "Noah", "Påhittad", "pupil", ("101", "102")),
            Person("s-23", "Alva", "Fiktiv", "pupil", ("101",)),
            Person("s-31", "Gustav", "Exempelsson", "guardian", ("101", "102"), guardian_of=("s-21",)),
            Person("s-41", "Ivar", "Admin", "it_admin", ("101", "102")),
        ),
    ),
    DemoOrganisation(
        key="aland", name="Ålands demokommun", pack="ax", deployment_id="demo-aland",
        courses=(Course("201", "MA5B", "Matematik 5B"),),
        people=(
            Person("a-11", "Linnea", "Klasslärare", "teacher", ("201",)),
            Person("a-12", "Oskar", "Speciallärare", "special_teacher", ("201",)),
            Person("a-13", "Maja", "Föreståndare", "principal", ("201",)),
            Person("a-21", "Ella", "Provelev", "pupil", ("201",)),
            Person("a-22", "Viggo", "Testberg", "pupil", ("201",)),
            Person("a-31", "Hanna", "Provelev", "guardian", ("201",), guardian_of=("a-21",)),
            Person("a-41", "Rasmus", "Drift", "it_admin", ("201",)),
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
