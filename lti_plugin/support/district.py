"""A district-sized fictional data set for benchmarks: `manage.py generate_district`.

One organisation (pack `se`) of a made-up municipality, Norrvik: school units with classes, pupils and
their guardians, staff with their grants (a principal per unit, one of them an area principal over
several units, a special teacher and an elevhälsa member per unit, a class teacher per class, subject
teachers), the courses of every class mapped to its unit with their rosters as NRPS would have listed
them, and pupils' support at every stage of DESIGN.md's lifecycle: concerns, extra adaptations with
follow-ups, investigations, decisions not to draw up a plan, drafts, plans in force with follow-ups,
evaluated plans waiting for the principal, plans continued in new plans (the archive), closed plans,
and plans left behind by a pupil who moved to another unit.

Unlike the demo seed (lti_plugin/lti/demo/seed.py) this writes rows directly with bulk_create: telling
5,000 stories through the services would take far longer than a benchmark's set-up should. The rows
keep the invariants the services keep (checked by tests/support/test_generate_district.py): one
evaluation per plan, one plan in force per case, a closed plan closed by a decision (its own, or the
decision that put the plan continuing it in force), each decision on a plan after a hearing on it,
plan versions matching their revisions, measures that end after they start, follow-ups only while a
plan is in force. Decisions are immutable: they are only ever created.

The platform the district launches from is registered with an RSA key of its own; the private key and
a manifest naming who to launch as (bench/panels.py reads both) are written to an output directory.
Every name is made up: given names and family names are drawn independently from short lists.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils import timezone

from lti_plugin.lti import keys
from lti_plugin.lti.models import Deployment, Registration
from lti_plugin.lti.registration import register_manually

from .models import (
    Adaptation,
    AdaptationFollowUp,
    Case,
    Concern,
    CourseMapping,
    CourseMember,
    Decision,
    Evaluation,
    GuardianLink,
    Hearing,
    Investigation,
    LevelChange,
    Measure,
    Need,
    Organisation,
    Person,
    Plan,
    PlanFollowUp,
    PlanRevision,
    Pupil,
    SchoolClass,
    SchoolUnit,
    StaffGrant,
    View,
)
from .pack import get_pack

ORGANISATION_NAME = "Norrviks kommun (genererad)"
MUNICIPALITY = "Norrvik"
ISSUER = "https://lms.norrvik.example"
CLIENT_ID = "elevstod-district"
DEPLOYMENT_ID = "norrvik-1"
PACK = "se"
PUPILS_PER_CLASS = 26
CLASSES_PER_SUBJECT_TEACHER = 6
CASELOAD_TARGET = 1000  # the area principal's reach: the caseload the benchmark measures
BATCH = 1000

SUBJECTS = (("sv", "Svenska"), ("ma", "Matematik"), ("en", "Engelska"))

GIVEN = ("Alva", "Astrid", "Agnes", "Alice", "Ebba", "Elsa", "Ella", "Ellen", "Freja", "Greta", "Hedda", "Ida",
         "Ines", "Juni", "Klara", "Lova", "Maja", "Moa", "Nora", "Saga", "Selma", "Signe", "Stina", "Tilda",
         "Tuva", "Vera", "Wilma", "Alfred", "Algot", "Arvid", "Axel", "Elis", "Elton", "Gustav", "Hampus", "Harry",
         "Hugo", "Isak", "Ivar", "Jack", "Leo", "Liam", "Loke", "Love", "Melker", "Nils", "Noah", "Olle", "Otto",
         "Sixten", "Sam", "Tage", "Ture", "Viggo", "Vidar", "Malte", "Edvin", "Folke")
FAMILY_HEADS = ("Björk", "Ek", "Lind", "Berg", "Sjö", "Ask", "Al", "Gran", "Hag", "Löv", "Sand", "Ström", "Fjäll",
                "Mo", "Rönn", "Hassel", "Ljung", "Säl", "Tall", "Vass", "Mal", "Ny", "Norr", "Söder")
FAMILY_TAILS = ("berg", "dal", "lund", "ström", "kvist", "gren", "vik", "holm", "mark", "by", "näs", "sten", "å")
UNIT_HEADS = ("Björk", "Ek", "Lind", "Sjö", "Ask", "Gran", "Hassel", "Ljung", "Tall", "Rönn", "Sol", "Mån", "Stjärn",
              "Kvarn", "Bäck", "Åker", "Äng", "Hav", "Skogs", "Berg", "Dal", "Myr", "Strand", "Kulla")
UNIT_TAILS = ("backa", "dala", "gärde", "hage", "lunda", "vik", "ängen", "torp", "höjden")
ELSEWHERE = ("Ekdala", "Sjöby", "Fjällåsen")

CONCERNS = (
    "{name} kommer sällan igång med uppgifterna och ber inte om hjälp.",
    "{name} har svårt att läsa längre texter och tappar fokus vid genomgångar.",
    "{name} är ofta ledsen på lektionerna och har hög frånvaro på morgnarna.",
    "{name} når inte målen i matematik trots extra anpassningar.",
    "{name} har svårt att komma till ro och störs av ljud i klassrummet.",
)
ADAPTATIONS = (
    "Lektionens delar på tavlan med en bock för varje del.",
    "Kortare textavsnitt och möjlighet att lyssna på texten i förväg.",
    "Placering nära läraren och hörselkåpor vid eget arbete.",
    "Förhandsgenomgång av ord och begrepp inför nya områden.",
    "Muntlig komplettering av prov.",
)
ADAPTATION_FOLLOW_UPS = (
    "{name} använder stödet och kommer oftare igång på egen hand.",
    "Fungerar bra; vi fortsätter som planerat.",
    "Ingen tydlig skillnad än; vi prövar två veckor till.",
)
NEEDS = (
    "{name} behöver utveckla sin läsförståelse i faktatexter.",
    "{name} behöver stöd för att planera och slutföra skoluppgifter.",
    "{name} behöver trygghet och struktur under skoldagen.",
    "{name} behöver befästa taluppfattning och de fyra räknesätten.",
)
MEASURES = (
    "Lässtrategier med speciallärare två gånger i veckan.",
    "Undervisning i liten grupp i matematik tre pass i veckan.",
    "Veckoplanering med mentor varje måndag.",
    "Anpassad skolstart och en vuxen som möter upp vid entrén.",
    "Digitala hjälpmedel: talsyntes och rättstavning.",
)
FOLLOW_UPS = (
    "{name} arbetar med lässtrategierna och läser längre pass.",
    "Genomgång med {name}: planeringen hjälper, uppgifterna blir klara oftare.",
    "{name} har missat två pass; vi hör av oss hem.",
    "Tydlig framgång i matematik; {name} vill fortsätta i liten grupp.",
    "Samtal med vårdnadshavare: stödet fungerar hemma också.",
    "{name} är tröttare i veckan; vi följer upp närvaron.",
    "Åtgärderna fortsätter som planerat.",
)
EVALUATIONS = (
    "Utvärdering: {name} har nått flera av målen; behovet av särskilt stöd kvarstår delvis.",
    "Utvärdering: åtgärderna har haft effekt och {name} följer nu undervisningen.",
    "Utvärdering: effekten är liten; en ny utredning kan behövas.",
)

T = TypeVar("T", bound=models.Model)


@dataclass(frozen=True)
class Sizes:
    pupils: int
    cases: int
    follow_ups: int
    units: int


DISTRICT = Sizes(pupils=20_000, cases=5_000, follow_ups=100_000, units=30)
SMALL = Sizes(pupils=2_000, cases=500, follow_ups=10_000, units=6)

# Stage of each pupil's support, with its share of the cases.
STAGES = (
    ("concern", 0.10), ("adaptations", 0.25), ("investigation", 0.07), ("no_plan", 0.04), ("draft", 0.08),
    ("active", 0.22), ("evaluated", 0.06), ("continued", 0.09), ("continuing_draft", 0.03), ("closed", 0.05),
    ("transferred", 0.01),
)


class AlreadyGenerated(Exception):
    """The district is in this database already: nothing was changed."""


@dataclass
class Result:
    organisation: Organisation
    counts: dict[str, int]
    manifest: dict[str, Any]
    manifest_path: Path


@dataclass
class _Unit:
    row: SchoolUnit
    code: str
    principal: Person
    special_teacher: Person
    health: Person
    classes: list[SchoolClass] = field(default_factory=list)
    class_teachers: dict[int, Person] = field(default_factory=dict)  # class pk -> teacher


@dataclass
class _PupilSpec:
    index: int
    person: Person | None = None
    unit: int = 0
    klass: int = 0  # index into the unit's classes
    row: Pupil | None = None


def _bulk(model: type[T], rows: Sequence[T]) -> list[T]:
    created = model._default_manager.bulk_create(rows, batch_size=BATCH)
    assert not created or created[0].pk is not None, f"{model.__name__}: bulk_create returned no ids"
    return created


def _name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(GIVEN), rng.choice(FAMILY_HEADS) + rng.choice(FAMILY_TAILS)


class _Clock:
    """Dates counted back from today; times at 10:00 in the tool's time zone."""

    def __init__(self, today: dt.date) -> None:
        self.today = today

    def day(self, days_ago: int) -> dt.date:
        return self.today - dt.timedelta(days=days_ago)

    def at(self, days_ago: int, minute: int = 0) -> dt.datetime:
        moment = dt.datetime.combine(self.day(days_ago), dt.time(10, 0)) + dt.timedelta(minutes=minute)
        return timezone.make_aware(moment)


def existing(organisation_name: str = ORGANISATION_NAME) -> Organisation | None:
    return Organisation.objects.filter(name=organisation_name).first()


def generate(sizes: Sizes, *, seed: int, out_dir: Path, today: dt.date | None = None,
             log: Any = None) -> Result:
    """Write the district; refuses (AlreadyGenerated) when it exists. One transaction: all or nothing."""
    if existing() is not None or Registration.objects.filter(issuer=ISSUER, client_id=CLIENT_ID).exists():
        raise AlreadyGenerated(ORGANISATION_NAME)
    if sizes.cases > sizes.pupils:
        raise ValueError("There cannot be more cases than pupils (one case per pupil here).")
    if sizes.units < 2:
        raise ValueError("At least two units (a transferred pupil moves to another unit).")
    with transaction.atomic():
        return _Generator(sizes, seed, out_dir, today or timezone.localdate(), log).run()


class _Generator:
    def __init__(self, sizes: Sizes, seed: int, out_dir: Path, today: dt.date, log: Any) -> None:
        self.sizes = sizes
        self.rng = random.Random(seed)
        self.seed = seed
        self.out_dir = out_dir
        self.clock = _Clock(today)
        self.log = log or (lambda message: None)
        self.pack = get_pack(PACK)
        self.counts: dict[str, int] = {}
        self._subs: dict[str, int] = {}

    # -- the school world ------------------------------------------------------------------------

    def run(self) -> Result:
        self.organisation = Organisation.objects.create(name=ORGANISATION_NAME, pack=PACK)
        private_pem = keys.generate_rsa_pem()
        kid = "norrvik-" + secrets.token_hex(6)
        self.registration = register_manually(
            issuer=ISSUER, client_id=CLIENT_ID, auth_login_url=ISSUER + "/mod/lti/auth.php",
            auth_token_url=ISSUER + "/mod/lti/token.php", key_set={"keys": [keys.public_jwk_of(private_pem, kid)]},
            deployment_ids=[DEPLOYMENT_ID], organisation=self.organisation, name="Norrviks lärplattform (genererad)")
        self.deployment = Deployment.objects.get(registration=self.registration, deployment_id=DEPLOYMENT_ID)
        self._staff_and_units()
        self._pupils()
        self._courses()
        self._support()
        manifest = self._manifest(kid)
        path = self._write(private_pem, manifest)
        return Result(self.organisation, self.counts, manifest, path)

    def _people(self, prefix: str, count: int) -> list[Person]:
        start = self._subs.get(prefix, 0)
        rows = []
        for n in range(start, start + count):
            given, family = _name(self.rng)
            rows.append(Person(organisation=self.organisation, issuer=ISSUER, sub=f"{prefix}-{n + 1:06d}",
                               name=f"{given} {family}"))
        self._subs[prefix] = start + count
        return _bulk(Person, rows)

    def _staff_and_units(self) -> None:
        sizes, rng = self.sizes, self.rng
        names = [head + tail for head in UNIT_HEADS for tail in UNIT_TAILS]
        rng.shuffle(names)
        units = _bulk(SchoolUnit, [SchoolUnit(organisation=self.organisation, name=f"{names[i]}skolan",
                                              municipality=MUNICIPALITY) for i in range(sizes.units)])
        # The area principal leads as many units as make up about CASELOAD_TARGET cases.
        self.area_units = max(1, min(sizes.units, round(CASELOAD_TARGET * sizes.units / max(sizes.cases, 1))))
        principals = self._people("staff", sizes.units - self.area_units + 1)
        specials = self._people("staff", sizes.units)
        health = self._people("staff", sizes.units)
        self.admin = self._people("staff", 1)[0]
        self.units = [
            _Unit(row=unit, code=f"u{i + 1:02d}",
                  principal=principals[0] if i < self.area_units else principals[i - self.area_units + 1],
                  special_teacher=specials[i], health=health[i])
            for i, unit in enumerate(units)
        ]
        # Pupils spread evenly over the units, in classes of about PUPILS_PER_CLASS across grades 1–9.
        self.unit_sizes = [sizes.pupils // sizes.units + (1 if i < sizes.pupils % sizes.units else 0)
                           for i in range(sizes.units)]
        classes = []
        for unit, size in zip(self.units, self.unit_sizes, strict=True):
            for i in range(max(1, math.ceil(size / PUPILS_PER_CLASS))):
                grade, letter = 1 + i % 9, "ABCDEFGHIJ"[i // 9]
                classes.append(SchoolClass(unit=unit.row, name=f"{grade}{letter}", grade=grade))
        classes = _bulk(SchoolClass, classes)
        by_unit: dict[int, list[SchoolClass]] = {}
        for klass in classes:
            by_unit.setdefault(klass.unit_id, []).append(klass)
        teachers = iter(self._people("staff", len(classes)))
        for unit in self.units:
            unit.classes = by_unit[unit.row.pk]
            unit.class_teachers = {klass.pk: next(teachers) for klass in unit.classes}
        self.subject_teachers = {
            unit.row.pk: self._people("staff", math.ceil(len(unit.classes) / CLASSES_PER_SUBJECT_TEACHER))
            for unit in self.units}

        at = self.clock.at(400)
        grants = [StaffGrant(person=self.admin, role="organisation_admin", organisation=self.organisation,
                             granted_at=at)]
        for unit in self.units:
            grants.append(StaffGrant(person=unit.principal, role="principal", organisation=self.organisation,
                                     unit=unit.row, granted_by=self.admin, granted_at=at))
            for person, role in ((unit.special_teacher, "special_teacher"), (unit.health, "health_team_member")):
                grants.append(StaffGrant(person=person, role=role, organisation=self.organisation, unit=unit.row,
                                         granted_by=unit.principal, granted_at=at))
            for klass in unit.classes:
                grants.append(StaffGrant(person=unit.class_teachers[klass.pk], role="class_teacher",
                                         organisation=self.organisation, unit=unit.row, school_class=klass,
                                         granted_by=unit.principal, granted_at=at))
        _bulk(StaffGrant, grants)
        self.counts.update(units=len(units), classes=len(classes), staff_grants=len(grants))
        self.log(f"{len(units)} units, {len(classes)} classes, {len(grants)} staff grants")

    # -- pupils, guardians, courses ------------------------------------------------------------------

    def _pupils(self) -> None:
        sizes, rng = self.sizes, self.rng
        specs: list[_PupilSpec] = []
        for u, size in enumerate(self.unit_sizes):
            n_classes = len(self.units[u].classes)
            specs += [_PupilSpec(index=len(specs) + i, unit=u, klass=i % n_classes) for i in range(size)]
        self.pupil_specs = specs
        # Who has a case, at which stage; spread evenly over the units (so the area principal's reach
        # is close to CASELOAD_TARGET).
        chosen: list[_PupilSpec] = []
        for u in range(sizes.units):
            in_unit = [s for s in specs if s.unit == u]
            chosen += rng.sample(in_unit, sizes.cases * len(in_unit) // sizes.pupils)
        taken = {s.index for s in chosen}
        chosen += rng.sample([s for s in specs if s.index not in taken], sizes.cases - len(chosen))
        stages = [name for name, share in STAGES for _ in range(round(share * sizes.cases))]
        stages = (stages + ["adaptations"] * sizes.cases)[:sizes.cases]
        rng.shuffle(stages)
        self.case_specs = list(zip(chosen, stages, strict=True))
        # A transferred pupil's case stays at the old unit; the pupil is now at the next one.
        self.case_units = {}
        for spec, stage in self.case_specs:
            self.case_units[spec.index] = spec.unit
            if stage == "transferred":
                spec.unit = (spec.unit + 1) % sizes.units
                spec.klass = rng.randrange(len(self.units[spec.unit].classes))

        people = self._people("pupil", len(specs))
        pupils = []
        for spec, person in zip(specs, people, strict=True):
            spec.person = person
            klass = self.units[spec.unit].classes[spec.klass]
            home = rng.choice(ELSEWHERE) if rng.random() < 0.03 else MUNICIPALITY
            pupils.append(Pupil(person=person, unit=self.units[spec.unit].row, school_class=klass, grade=klass.grade,
                                home_municipality=home))
        for spec, row in zip(specs, _bulk(Pupil, pupils), strict=True):
            spec.row = row
        # A guardian (sometimes two) for every pupil with support: they are heard and add their views.
        with_case = [spec for spec, _ in self.case_specs]
        two = [spec for spec in with_case if rng.random() < 0.3]
        guardians = self._people("guardian", len(with_case) + len(two))
        self.guardian_of: dict[int, Person] = {}
        links = []
        for spec, guardian in zip(with_case + two, guardians, strict=True):
            family = spec.person.name.split(" ", 1)[1]  # type: ignore[union-attr]
            guardian.name = f"{guardian.name.split(' ')[0]} {family}"
            self.guardian_of.setdefault(spec.index, guardian)
            links.append(GuardianLink(guardian=guardian, pupil=spec.row))
        Person.objects.bulk_update(guardians, ["name"], batch_size=BATCH)
        _bulk(GuardianLink, links)
        self.counts.update(pupils=len(pupils), guardians=len(guardians))
        self.log(f"{len(pupils)} pupils, {len(guardians)} guardians")

    def _courses(self) -> None:
        mappings, members = [], []
        refreshed = self.clock.at(1)
        pupils_by_class: dict[int, list[_PupilSpec]] = {}
        for spec in self.pupil_specs:
            pupils_by_class.setdefault(self.units[spec.unit].classes[spec.klass].pk, []).append(spec)
        self.first_course: dict[str, Any] = {}
        for unit in self.units:
            subject_teachers = self.subject_teachers[unit.row.pk]
            staff_course = f"{unit.code}-personal"
            mappings.append(CourseMapping(deployment=self.deployment, context_id=staff_course, unit=unit.row,
                                          title=f"Personalrum {unit.row.name}"))
            staff = [unit.principal, unit.special_teacher, unit.health, *unit.class_teachers.values(),
                     *subject_teachers]
            for person in dict.fromkeys(staff):  # the area principal once per unit
                members.append(CourseMember(deployment=self.deployment, context_id=staff_course, person=person,
                                            roster_roles=["Instructor"], launched_as_instructor=True,
                                            refreshed_at=refreshed))
            for i, klass in enumerate(unit.classes):
                roster = pupils_by_class.get(klass.pk, [])
                for code, subject in SUBJECTS:
                    context_id = f"{unit.code}-{klass.name}-{code}"
                    teacher = (subject_teachers[i // CLASSES_PER_SUBJECT_TEACHER] if code == "en"
                               else unit.class_teachers[klass.pk])
                    mappings.append(CourseMapping(deployment=self.deployment, context_id=context_id, unit=unit.row,
                                                  title=f"{subject} {klass.name}"))
                    members.append(CourseMember(deployment=self.deployment, context_id=context_id, person=teacher,
                                                roster_roles=["Instructor"], launched_as_instructor=True,
                                                refreshed_at=refreshed))
                    members += [CourseMember(deployment=self.deployment, context_id=context_id, person=spec.person,
                                             roster_roles=["Learner"], refreshed_at=refreshed) for spec in roster]
                    if not self.first_course and roster:
                        self.first_course = {"id": context_id, "label": f"{code.upper()}{klass.name}",
                                             "title": f"{subject} {klass.name}", "teacher": teacher,
                                             "roster": len(roster)}
        _bulk(CourseMapping, mappings)
        _bulk(CourseMember, members)
        self.counts.update(courses=len(mappings), course_members=len(members))
        self.log(f"{len(mappings)} courses, {len(members)} course members")

    # -- support ---------------------------------------------------------------------------------------

    def _support(self) -> None:
        rng, clock, pack = self.rng, self.clock, self.pack
        cases = []
        for spec, stage in self.case_specs:
            unit = self.units[self.case_units[spec.index]]
            opened = {"concern": rng.randint(5, 200), "adaptations": rng.randint(30, 400)}.get(stage, 0)
            cases.append(Case(pupil=spec.row, unit=unit.row, pack_id=pack.id, pack_version=pack.version,
                              level="extra_adaptations", opened_at=clock.at(opened)))
        cases = _bulk(Case, cases)
        self.cases = cases
        # Each case's story is planned first (as plain dicts), then written table by table.
        self.stories = []
        for case, (spec, stage) in zip(cases, self.case_specs, strict=True):
            unit = self.units[self.case_units[spec.index]]
            self.stories.append(self._story(case, spec, stage, unit))
        self._write_stories()

    def _story(self, case: Case, spec: _PupilSpec, stage: str, unit: _Unit) -> dict[str, Any]:
        """What happened in one case, as days ago; plans are lists of events written later."""
        rng = self.rng
        name = spec.person.name.split(" ")[0]  # type: ignore[union-attr]
        klass = unit.classes[spec.klass] if self.case_units[spec.index] == spec.unit else unit.classes[0]
        teacher = unit.class_teachers[klass.pk]
        story: dict[str, Any] = {"case": case, "stage": stage, "unit": unit, "name": name, "teacher": teacher,
                                 "spec": spec, "plans": [], "course": f"{unit.code}-{klass.name}-ma"}
        # When the current plan came into force (or was drafted), counting back from today.
        if stage in ("concern", "adaptations"):
            story["opened"] = int((self.clock.today - case.opened_at.date()).days) if case.opened_at else 30
            return story
        chain = 1
        if stage in ("continued", "continuing_draft") or (stage == "closed" and rng.random() < 0.4):
            chain = 2 + (stage == "continued" and rng.random() < 0.25)
        # Plans back to back: each runs `length` days from its decision to its evaluation.
        plans: list[dict[str, Any]] = []
        cursor = rng.randint(3, 40)  # days ago of the last event
        for position in range(chain, 0, -1):
            last = position == chain
            length = rng.randint(120, 220)
            plan: dict[str, Any] = {"needs": rng.sample(NEEDS, rng.randint(1, 3)),
                                    "measures": rng.sample(MEASURES, rng.randint(2, 3))}
            if last and stage in ("draft", "investigation", "no_plan"):
                plan["status"] = "draft"
                plan["drafted"] = cursor
            elif last and stage == "continuing_draft":
                plan["status"] = "draft"
                plan["drafted"] = cursor
                plan["copy"] = True
            elif last and stage in ("active", "transferred"):
                plan["status"] = "active"
                plan["decided"] = cursor + rng.randint(10, 250)
            elif last and stage == "evaluated":
                plan["status"] = "active"
                plan["evaluated"] = cursor
                plan["decided"] = cursor + length
            elif last and stage == "continued":
                plan["status"] = "active"
                plan["decided"] = cursor + rng.randint(10, 150)
            elif last and stage == "closed":
                plan["status"] = "closed"
                plan["closed"] = cursor
                plan["close_reason"] = rng.choice(tuple(self.pack.close_reasons))
                plan["evaluated"] = cursor + rng.randint(5, 20)
                plan["decided"] = plan["evaluated"] + length
            elif stage == "continuing_draft":  # in force and evaluated; the draft continuing it awaits a decision
                plan["status"] = "active"
                plan["evaluated"] = cursor
                plan["decided"] = cursor + length
            else:  # an earlier plan, continued in the next one
                plan["status"] = "closed"
                plan["evaluated"] = cursor
                plan["decided"] = cursor + length
            if "decided" in plan:
                plan["drafted"] = plan["decided"] + rng.randint(7, 20)
                plan["measure_days"] = length
                cursor = plan["drafted"] + rng.randint(5, 15)
            else:
                cursor = plan["drafted"] + rng.randint(5, 15)
            plans.insert(0, plan)
        if stage in ("investigation", "no_plan"):
            story["investigation"] = {"requested": plans[0]["drafted"] + 10,
                                      "concluded": plans[0]["drafted"] if stage == "no_plan" or rng.random() < 0.5
                                      else None}
            if stage == "no_plan":
                story["not_drawn_up"] = plans[0]["drafted"] - 3 if plans[0]["drafted"] > 3 else 0
            plans = []
        else:
            story["investigation"] = {"requested": cursor + 25, "concluded": cursor + 3}
            cursor += 25
        story["plans"] = plans
        story["opened"] = cursor + rng.randint(5, 30)
        return story

    def _write_stories(self) -> None:
        rng, clock = self.rng, self.clock
        concerns, adaptations, adaptation_follow_ups = [], [], []
        for story in self.stories:
            case, unit, name = story["case"], story["unit"], story["name"]
            opened = story["opened"]
            case.opened_at = clock.at(opened)
            kind = "concern" if story["stage"] in ("concern", "adaptations") else "report_to_principal"
            concerns.append(Concern(case=case, kind=kind, raised_by=story["teacher"],
                                    raised_as="class_teacher", text=rng.choice(CONCERNS).format(name=name),
                                    created_at=clock.at(opened)))
            if story["stage"] == "concern":
                continue
            for _ in range(rng.randint(1, 3)):
                started = rng.randint(max(1, opened - 60), max(1, opened))
                adaptation = Adaptation(case=case, description=rng.choice(ADAPTATIONS), course=story["course"],
                                        started_on=clock.day(started), created_by=story["teacher"],
                                        created_at=clock.at(started))
                adaptations.append(adaptation)
                story.setdefault("adaptations", []).append((adaptation, started))
        Case.objects.bulk_update(self.cases, ["opened_at"], batch_size=BATCH)
        _bulk(Concern, concerns)
        _bulk(Adaptation, adaptations)
        for story in self.stories:
            for adaptation, started in story.get("adaptations", []):
                for days in sorted(rng.sample(range(0, started), min(started, rng.randint(0, 3))), reverse=True):
                    adaptation_follow_ups.append(AdaptationFollowUp(
                        adaptation=adaptation, text=rng.choice(ADAPTATION_FOLLOW_UPS).format(name=story["name"]),
                        held_on=clock.day(days), signed_by=story["teacher"], created_at=clock.at(days, 30)))
        _bulk(AdaptationFollowUp, adaptation_follow_ups)

        investigations = []
        for story in self.stories:
            spec = story.get("investigation")
            if spec is None:
                continue
            unit = story["unit"]
            concluded = spec["concluded"]
            row = Investigation(
                pupil=story["case"].pupil, case=story["case"], requested_by=unit.principal,
                requested_at=clock.at(spec["requested"]), conducted_by=unit.special_teacher,
                mapping=f"Kartläggning: samtal med {story['name']} och vårdnadshavarna, observation på lektioner.",
                assessment="Pedagogisk bedömning: behov av särskilt stöd." if concluded is not None else "",
                concluded_at=clock.at(concluded) if concluded is not None else None)
            investigations.append(row)
            story["investigation_row"] = row
        _bulk(Investigation, investigations)
        self.counts.update(concerns=len(concerns), adaptations=len(adaptations),
                           adaptation_follow_ups=len(adaptation_follow_ups), investigations=len(investigations))
        self._write_plans()

    def _write_plans(self) -> None:
        clock, pack = self.clock, self.pack
        plans: list[Plan] = []
        for story in self.stories:
            previous = None
            for spec in story["plans"]:
                unit = story["unit"]
                status = spec["status"]
                row = Plan(case=story["case"], document="action_plan", pack_id=pack.id, pack_version=pack.version,
                           status=status, investigation=story.get("investigation_row"),
                           follow_up_method="Mentor och speciallärare följer upp varannan vecka.",
                           evaluation_method="Utvärdering när åtgärdsperioden är slut.",
                           created_by=unit.special_teacher if spec.get("copy") else story["teacher"],
                           created_at=clock.at(spec["drafted"]),
                           activated_at=clock.at(spec["decided"], 5) if "decided" in spec else None,
                           closed_at=clock.at(spec["closed"], 5) if "closed" in spec else None,
                           version={"draft": 1, "active": 2, "closed": 3}[status])
                spec["row"] = row
                spec["previous"] = previous
                if previous is not None and "decided" in spec and "closed" not in previous:
                    # Continued in this plan: the earlier one closed when this one came into force.
                    previous["row"].closed_at = row.activated_at
                plans.append(row)
                previous = spec
        # The previous plan must exist before the one that points at it: write in chain order.
        depth = 0
        while True:
            layer = [spec for story in self.stories for i, spec in enumerate(story["plans"]) if i == depth]
            if not layer:
                break
            for spec in layer:
                if spec["previous"] is not None:
                    spec["row"].previous = spec["previous"]["row"]
            _bulk(Plan, [spec["row"] for spec in layer])
            depth += 1

        needs, measures = [], []
        for story in self.stories:
            unit = story["unit"]
            for spec in story["plans"]:
                spec["needs_rows"] = [Need(plan=spec["row"], text=text.format(name=story["name"]), order=order)
                                      for order, text in enumerate(spec["needs"])]
                starts = spec.get("decided", spec["drafted"])
                ends = starts - spec.get("measure_days", 180)
                responsible = (unit.special_teacher, story["teacher"])
                spec["measure_rows"] = [
                    Measure(plan=spec["row"], text=text, responsible=responsible[order % 2],
                            starts_on=clock.day(starts), ends_on=clock.day(ends), order=order)
                    for order, text in enumerate(spec["measures"])]
                needs += spec["needs_rows"]
                measures += spec["measure_rows"]
        _bulk(Need, needs)
        _bulk(Measure, measures)
        self._write_decisions()
        self._write_revisions()
        self._write_follow_ups()
        self.counts.update(plans=len(plans), needs=len(needs), measures=len(measures))
        self.log(f"{len(plans)} plans ({sum(p.status == 'closed' for p in plans)} closed, "
                 f"{sum(p.status == 'active' for p in plans)} in force, {sum(p.status == 'draft' for p in plans)} "
                 f"drafts)")

    def _decision(self, story: dict[str, Any], decision_type: str, days: int, *, plan: Plan | None,
                  outcome: str, hearing: Hearing | None, close_reason: str = "") -> Decision:
        spec = self.pack.decision(decision_type)
        reasons = {
            "decide_level_2": "Utredningen visar att {name} behöver särskilt stöd. Åtgärdsprogrammet fastställs.",
            "decide_new_plan": "Utvärderingen visar att {name} fortfarande behöver särskilt stöd. Ett nytt "
                               "åtgärdsprogram fastställs.",
            "decide_close_plan": "Utvärderingen visar att åtgärdsprogrammet kan avslutas.",
            "decide_not_to_draw_up_plan": "Utredningen visar att {name} inte har behov av särskilt stöd; behoven "
                                          "tillgodoses med extra anpassningar.",
        }
        return Decision(case=story["case"], plan=plan, decision_type=decision_type, outcome=outcome,
                        close_reason=close_reason, grounds=reasons[decision_type].format(name=story["name"]),
                        decided_by=story["unit"].principal, decided_as="principal",
                        decided_at=self.clock.at(days, 5), pack_id=self.pack.id, pack_version=self.pack.version,
                        appealable=spec.appealable,
                        appeal_text_sv=(self.pack.appeal_text(decision_type, "sv") or "") if spec.appealable else "",
                        appeal_text_en=(self.pack.appeal_text(decision_type, "en") or "") if spec.appealable else "",
                        hearing=hearing)

    def _write_decisions(self) -> None:
        rng, clock = self.rng, self.clock
        hearings, evaluations, views = [], [], []
        for story in self.stories:
            case, unit = story["case"], story["unit"]
            guardian = self.guardian_of.get(story["spec"].index)
            for spec in story["plans"]:
                plan = spec["row"]
                if "decided" in spec:
                    days = spec["decided"] + 3
                    spec["hearing"] = Hearing(case=case, plan=plan, held_on=clock.day(days), held_by=unit.principal,
                                              pupil_heard=True, guardians_heard=True,
                                              summary=f"{story['name']} och vårdnadshavarna har hörts och "
                                                      "instämmer i åtgärderna.", created_at=clock.at(days))
                    hearings.append(spec["hearing"])
                if "closed" in spec:
                    days = spec["closed"] + 2
                    spec["close_hearing"] = Hearing(case=case, plan=plan, held_on=clock.day(days),
                                                    held_by=unit.principal, pupil_heard=True, guardians_heard=True,
                                                    summary="Eleven och vårdnadshavarna har hörts inför beslutet att "
                                                            "avsluta åtgärdsprogrammet.", created_at=clock.at(days))
                    hearings.append(spec["close_hearing"])
                if "evaluated" in spec:
                    evaluations.append(Evaluation(plan=plan, text=rng.choice(EVALUATIONS).format(name=story["name"]),
                                                  evaluated_on=clock.day(spec["evaluated"]),
                                                  signed_by=story["teacher"], created_at=clock.at(spec["evaluated"])))
                when = spec.get("decided", spec["drafted"]) + 4
                if rng.random() < 0.4:
                    views.append(View(case=case, plan=plan, whose="pupil", author=case.pupil.person,
                                      text="Jag vill ha lugn och ro när jag läser.", created_at=clock.at(when)))
                if guardian is not None and rng.random() < 0.4:
                    views.append(View(case=case, plan=plan, whose="guardian", author=guardian,
                                      text="Vi ser att stödet hjälper hemma också.", created_at=clock.at(when, 30)))
        _bulk(Hearing, hearings)
        _bulk(Evaluation, evaluations)
        _bulk(View, views)

        decisions, level_changes = [], []
        for story in self.stories:
            case = story["case"]
            if "not_drawn_up" in story:
                decisions.append(self._decision(story, "decide_not_to_draw_up_plan", story["not_drawn_up"], plan=None,
                                                outcome="no_plan", hearing=None))
            for spec in story["plans"]:
                if "decided" in spec:
                    kind = "decide_new_plan" if spec["previous"] is not None else "decide_level_2"
                    decision = self._decision(story, kind, spec["decided"], plan=spec["row"], outcome="adopted",
                                              hearing=spec["hearing"])
                    decisions.append(decision)
                    if kind == "decide_level_2":
                        level_changes.append((case, decision, spec["decided"]))
                if "closed" in spec:
                    decisions.append(self._decision(story, "decide_close_plan", spec["closed"], plan=spec["row"],
                                                    outcome="closed", hearing=spec["close_hearing"],
                                                    close_reason=spec["close_reason"]))
        _bulk(Decision, decisions)
        changes = []
        for case, decision, days in level_changes:
            changes.append(LevelChange(case=case, from_level="extra_adaptations", to_level="special_support",
                                       decision=decision, changed_by=decision.decided_by,
                                       changed_at=self.clock.at(days, 5)))
            case.level = "special_support"
        _bulk(LevelChange, changes)
        Case.objects.bulk_update([case for case, _, _ in level_changes], ["level"], batch_size=BATCH)
        self.counts.update(hearings=len(hearings), evaluations=len(evaluations), views=len(views),
                           decisions=len(decisions), level_changes=len(changes))
        self.log(f"{len(decisions)} decisions, {len(hearings)} hearings, {len(evaluations)} evaluations")

    def _write_revisions(self) -> None:
        revisions = []
        for story in self.stories:
            for spec in story["plans"]:
                plan = spec["row"]
                snapshot = {
                    "document": plan.document, "investigation": plan.investigation_id,
                    "follow_up_method": plan.follow_up_method, "evaluation_method": plan.evaluation_method,
                    "needs": [{"id": n.pk, "text": n.text} for n in spec["needs_rows"]],
                    "measures": [{"id": m.pk, "text": m.text, "responsible": m.responsible_id,
                                  "starts_on": m.starts_on.isoformat(), "ends_on": m.ends_on.isoformat()}
                                 for m in spec["measure_rows"]],
                }
                steps = [("draft", "copied" if spec["previous"] is not None else "drafted", plan.created_at,
                          plan.created_by)]
                if plan.activated_at:
                    steps.append(("active", "decided", plan.activated_at, story["unit"].principal))
                if plan.closed_at:
                    change = f"closed: {spec['close_reason']}" if "closed" in spec else "continued in a new plan"
                    steps.append(("closed", change, plan.closed_at, story["unit"].principal))
                for version, (status, change, at, by) in enumerate(steps, start=1):
                    revisions.append(PlanRevision(plan=plan, version=version, snapshot={"status": status, **snapshot},
                                                  change=change, changed_by=by, changed_at=at))
        _bulk(PlanRevision, revisions)
        self.counts["plan_revisions"] = len(revisions)

    def _write_follow_ups(self) -> None:
        """Spread the follow-ups over the plans that have been in force, weighted by how long they ran."""
        rng, clock = self.rng, self.clock
        windows = []  # (plan spec, story, first day ago, last day ago)
        for story in self.stories:
            for spec in story["plans"]:
                if "decided" not in spec:
                    continue
                end = spec.get("evaluated", spec.get("closed", 1))  # every closed plan was evaluated
                if spec["decided"] - end >= 1:
                    windows.append((spec, story, spec["decided"] - 1, end))
        total = self.sizes.follow_ups
        weights = [(start - end) * rng.uniform(0.5, 1.5) for _, _, start, end in windows]
        scale = total / sum(weights) if weights else 0
        counts = [int(weight * scale) for weight in weights]
        for i in rng.sample(range(len(windows)), min(len(windows), total - sum(counts))) if windows else []:
            counts[i] += 1
        follow_ups = []
        for (spec, story, start, end), count in zip(windows, counts, strict=True):
            unit = story["unit"]
            for n in range(count):
                days = rng.randint(end, start)
                follow_ups.append(PlanFollowUp(plan=spec["row"], text=rng.choice(FOLLOW_UPS).format(name=story["name"]),
                                               held_on=clock.day(days),
                                               signed_by=unit.special_teacher if n % 2 else story["teacher"],
                                               created_at=clock.at(days, 45)))
                spec["follow_ups"] = spec.get("follow_ups", 0) + 1
        _bulk(PlanFollowUp, follow_ups)
        self.counts["plan_follow_ups"] = len(follow_ups)
        self.log(f"{len(follow_ups)} plan follow-ups")

    # -- what the benchmark launches as ---------------------------------------------------------------

    def _manifest(self, kid: str) -> dict[str, Any]:
        first = self.units[0]
        area_units = [unit.row.pk for unit in self.units[:self.area_units]]
        reach = Case.objects.filter(unit_id__in=area_units).count()
        in_unit = [story for story in self.stories if story["unit"] is first and story["plans"]]
        heaviest = sorted(in_unit, key=lambda s: -sum(p.get("follow_ups", 0) for p in s["plans"]))
        sample = heaviest[:10] + self.rng.sample(heaviest[10:], min(30, len(heaviest[10:])))
        course = self.first_course
        staff_course = {"id": f"{first.code}-personal", "label": "PERSONAL", "title": f"Personalrum {first.row.name}"}

        def person(row: Person, context: dict[str, Any], **extra: Any) -> dict[str, Any]:
            return {"sub": row.sub, "name": row.name, "course": {k: context[k] for k in ("id", "label", "title")},
                    **extra}

        return {
            "organisation": self.organisation.name, "pack": PACK, "seed": self.seed, "first_unit": first.row.pk,
            "generated_on": self.clock.today.isoformat(), "sizes": self.sizes.__dict__, "counts": self.counts,
            "platform": {"issuer": ISSUER, "client_id": CLIENT_ID, "deployment_id": DEPLOYMENT_ID, "kid": kid,
                         "key_file": "platform-key.pem"},
            "people": {
                "teacher": person(course["teacher"], course, roster=course["roster"]),
                "special_teacher": person(first.special_teacher, staff_course,
                                          cases_in_reach=Case.objects.filter(unit=first.row).count()),
                "principal": person(first.principal, staff_course, units=len(area_units), cases_in_reach=reach),
            },
            "cases": [story["case"].pk for story in sample],
        }

    def _write(self, private_pem: str, manifest: dict[str, Any]) -> Path:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        key_path = self.out_dir / "platform-key.pem"
        key_path.write_text(private_pem)
        key_path.chmod(0o600)
        path = self.out_dir / "manifest.json"
        path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        return path

