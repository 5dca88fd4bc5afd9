"""The demo's school world: units, classes, people, staff roles and pupils' support at every stage.

`seed_demo(registration)` builds, for each demo organisation in `data.ORGANISATIONS`, two school units
with their courses mapped, classes, every demo person, the pupils (one with a home municipality
elsewhere), guardians and staff grants; then each demo pupil's support at one stage of the lifecycle
in DESIGN.md, made through the support services as the people named would have made it (never by
writing state rows directly). Dates are relative to today, so "what is due" shows items both overdue
and due soon. The services stamp their own creation and decision times (now); the dates they take
(held on, evaluated on, started on, measure periods) are the story's.

Idempotent: plain rows are looked up before they are created, and a pupil who already has a case is
left as they are, so a second run changes nothing. Every name is made up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from lti_plugin.lti.models import Deployment, Registration
from lti_plugin.support.actor import Actor
from lti_plugin.support.models import (
    AbsenceRecord,
    Case,
    CourseMapping,
    GuardianLink,
    Investigation,
    Organisation,
    Person,
    Plan,
    Pupil,
    SchoolClass,
    SchoolUnit,
    StaffGrant,
)
from lti_plugin.support.services import absence, cases, decisions, plans
from lti_plugin.support.services.plans import MeasureInput

from . import data
from .platform import organisation_of

# --- the school each demo organisation runs -------------------------------------------------------


@dataclass(frozen=True)
class UnitSpec:
    name: str
    municipality: str
    principal: str  # sub
    courses: tuple[str, ...]


@dataclass(frozen=True)
class ClassSpec:
    name: str
    grade: int
    class_teacher: str  # sub
    pupils: tuple[str, ...]  # subs
    unit: int = 0  # index into SchoolSpec.units


@dataclass(frozen=True)
class SchoolSpec:
    units: tuple[UnitSpec, ...]
    classes: tuple[ClassSpec, ...]
    organisation_admin: str
    special_teacher: str  # works at every unit of the organisation
    health_team: str
    education_chief: str | None = None
    home_municipality: dict[str, str] = field(default_factory=dict)  # pupils living elsewhere


SCHOOLS: dict[str, SchoolSpec] = {
    "solbacka": SchoolSpec(
        units=(UnitSpec("Solbackaskolan", "Solbacka", "s-13", ("101", "102")),
               UnitSpec("Ekbackaskolan", "Solbacka", "s-16", ("103",))),
        classes=(ClassSpec("7A", 7, "s-11", ("s-21", "s-22", "s-23", "s-61", "s-62", "s-63", "s-64", "s-65",
                                             "s-66", "s-67", "s-68", "s-69")),),
        organisation_admin="s-15", special_teacher="s-12", health_team="s-14",
        home_municipality={"s-68": "Ekdala"},
    ),
    "aland": SchoolSpec(
        # Fictional schools: the seed's Åland demo owner is made up, so are its schools.
        units=(UnitSpec("Demonäs skola", "Mariehamn", "a-13", ("201", "202")),
               UnitSpec("Provviks skola", "Mariehamn", "a-17", ("203",))),
        classes=(ClassSpec("5B", 5, "a-11", ("a-21", "a-22", "a-61", "a-62", "a-63", "a-64", "a-65", "a-66",
                                             "a-68", "a-69")),
                 ClassSpec("6A", 6, "a-18", ("a-67",))),
        organisation_admin="a-15", special_teacher="a-12", health_team="a-14", education_chief="a-16",
    ),
}


# The words the stories use in `se`, and Åland's for the same thing (level names from ax.toml).
AX_WORDS = (
    ("Anmälan till rektor: ", ""),
    ("Utredningen visar", "Den pedagogiska bedömningen visar"),
    ("särskilt stöd", "specialpedagogiskt stöd"),
    ("Extra anpassningar", "Differentierad undervisning"),
    ("extra anpassningar", "differentierad undervisning"),
    ("kunskapskraven", "målen"),
    ("Mentor och speciallärare", "Klassläraren och specialläraren"),
    ("Mentor ", "Klassläraren "),
    (" mentor ", " klassläraren "),
    ("elevhälsan", "elevhälsogruppen"),
)


# --- the world a story is told in ----------------------------------------------------------------


@dataclass
class World:
    """One demo organisation's rows, its staff as actors, and today."""

    org: data.DemoOrganisation
    spec: SchoolSpec
    organisation: Organisation
    units: list[SchoolUnit]
    classes: dict[str, SchoolClass]
    people: dict[str, Person]
    pupils: dict[str, Pupil]
    today: dt.date

    # dates
    def ago(self, days: int) -> dt.date:
        return self.today - dt.timedelta(days=days)

    def ahead(self, days: int) -> dt.date:
        return self.today + dt.timedelta(days=days)

    # actors, as their grants make them
    def actor(self, sub: str, role: str, *units: SchoolUnit) -> Actor:
        return Actor(person=self.people[sub], organisation=self.organisation, roles=frozenset({role}),
                     units=frozenset(unit.pk for unit in units))

    def class_teacher(self, pupil: Pupil) -> Actor:
        """The class teacher (mentor) of the class the pupil started the story in."""
        spec = next(c for c in self.spec.classes if pupil.person.sub in c.pupils)
        return Actor(person=self.people[spec.class_teacher], organisation=self.organisation,
                     roles=frozenset({"class_teacher"}), units=frozenset({self.units[spec.unit].pk}),
                     classes=frozenset({self.classes[spec.name].pk}))

    @property
    def special_teacher(self) -> Actor:
        return self.actor(self.spec.special_teacher, "special_teacher", *self.units)

    @property
    def health(self) -> Actor:
        return self.actor(self.spec.health_team, "health_team_member", self.units[0])

    def principal(self, unit: int = 0) -> Actor:
        return self.actor(self.spec.units[unit].principal, "principal", self.units[unit])

    @property
    def education_chief(self) -> Actor:
        assert self.spec.education_chief
        return self.actor(self.spec.education_chief, "education_chief")

    def as_pupil(self, pupil: Pupil) -> Actor:
        return Actor(person=pupil.person, organisation=self.organisation, roles=frozenset({"pupil"}))

    def as_guardian(self, sub: str) -> Actor:
        return Actor(person=self.people[sub], organisation=self.organisation, roles=frozenset({"guardian"}))

    @property
    def is_se(self) -> bool:
        return self.organisation.pack == "se"

    def local(self, text: str) -> str:
        """The stories are told in Swedish-school words; on Åland the same story uses Åland's."""
        if self.is_se:
            return text
        for swedish, aland in AX_WORDS:
            text = text.replace(swedish, aland)
        return text

    # the steps every story is made of
    def case(self, pupil: Pupil, unit: int = 0) -> Case:
        return cases.case_for(pupil, self.units[unit])

    def concern(self, case: Case, text: str) -> None:
        cases.raise_concern(actor=self.class_teacher(case.pupil), case=case, text=self.local(text))

    def report(self, case: Case, text: str) -> None:
        """`se`: the class teacher's report to the principal; elsewhere a concern."""
        if self.is_se:
            cases.report_to_principal(actor=self.class_teacher(case.pupil), case=case, text=text)
        else:
            self.concern(case, text)  # local() drops the "report to the principal" words

    def adapt(self, case: Case, text: str, *, started: int, follow_ups: tuple[tuple[int, str], ...] = (),
              course: str = "", remedial: bool = False, record: AbsenceRecord | None = None) -> None:
        # Remedial teaching, and anything at the second unit, is the special teacher's (who works at both).
        by = self.special_teacher if remedial or case.unit_id != self.units[0].pk else self.class_teacher(case.pupil)
        kind = "remedial_teaching" if remedial else "adaptation"
        adaptation = cases.log_adaptation(actor=by, case=case, description=self.local(text),
                                          started_on=self.ago(started), course=course, kind=kind,
                                          absence_record=record)
        for days, follow_up in follow_ups:
            cases.add_adaptation_follow_up(actor=by, adaptation=adaptation, text=self.local(follow_up),
                                           held_on=self.ago(days))

    def assess(self, case: Case, text: str, recommendation: str) -> None:
        assessment = cases.start_assessment(actor=self.class_teacher(case.pupil), case=case, text=self.local(text))
        cases.process_assessment(actor=self.health, assessment=assessment, recommendation=self.local(recommendation))

    def investigate(self, case: Case, mapping: str, assessment: str) -> Investigation:
        """The principal requests it (`se`, after the report) or the special teacher takes the initiative."""
        requested_by = self.principal() if self.is_se else self.special_teacher
        investigation = cases.request_investigation(actor=requested_by, case=case)
        return cases.conduct_investigation(actor=self.special_teacher, investigation=investigation,
                                           mapping=self.local(mapping), assessment=self.local(assessment),
                                           conclude=True)

    def measures(self, *items: tuple[str, str, int, int]) -> list[MeasureInput]:
        """(text, responsible sub, starts: days from today, ends: days from today)."""
        return [MeasureInput(self.local(text), self.people[sub], self.ahead(starts), self.ahead(ends))
                for text, sub, starts, ends in items]

    def draft(self, case: Case, *, needs: list[str], measures: list[MeasureInput],
              investigation: Investigation | None = None, document: str = "action_plan", by: Actor | None = None,
              follow_up_method: str = "Mentor och speciallärare följer upp varannan vecka.",
              evaluation_method: str = "Utvärdering när åtgärdsperioden är slut: elevsamtal, prov och "
                                       "lärarnas iakttagelser.") -> Plan:
        return plans.draft_plan(actor=by or self.class_teacher(case.pupil), case=case, document=document,
                                investigation=investigation, needs=[self.local(n) for n in needs],
                                measures=measures, follow_up_method=self.local(follow_up_method),
                                evaluation_method=self.local(evaluation_method))

    def hear(self, case: Case, plan: Plan | None, *, days: int, summary: str) -> None:
        plans.record_hearing(actor=self.principal(), case=case, plan=plan, held_on=self.ago(days),
                             pupil_heard=True, guardians_heard=True, summary=self.local(summary))

    def adopt(self, plan: Plan, grounds: str, by: Actor | None = None) -> None:
        decisions.decide_new_plan(actor=by or self.principal(), plan=plan, grounds=self.local(grounds))

    def follow_up(self, plan: Plan, *entries: tuple[int, str]) -> None:
        for index, (days, text) in enumerate(entries):
            by = self.special_teacher if index % 2 else self.class_teacher(plan.case.pupil)
            plans.add_follow_up(actor=by, plan=plan, text=self.local(text), held_on=self.ago(days))

    def evaluate(self, plan: Plan, *, days: int, text: str) -> None:
        plans.record_evaluation(actor=self.class_teacher(plan.case.pupil), plan=plan, text=self.local(text),
                                evaluated_on=self.ago(days))

    def active_plan(self, case: Case, *, report: str, mapping: str, assessment: str, needs: list[str],
                    measures: list[MeasureInput], heard: int, hearing: str, grounds: str,
                    follow_ups: tuple[tuple[int, str], ...] = ()) -> Plan:
        """Report or concern, investigation (`se`) or processed assessment (`ax`), plan, hearing, decision."""
        self.report(case, report)
        investigation = None
        if self.is_se:
            investigation = self.investigate(case, mapping, assessment)
        else:
            self.assess(case, mapping, assessment)
        plan = self.draft(case, needs=needs, measures=measures, investigation=investigation)
        self.hear(case, plan, days=heard, summary=hearing)
        self.adopt(plan, grounds)
        self.follow_up(plan, *follow_ups)
        return plan

    def ladder(self, case: Case, steps: tuple[tuple[int, int, tuple[str, ...], tuple[int, str] | None], ...],
               ) -> AbsenceRecord:
        """Climb the absence ladder: (step, started days ago, items ticked, follow-up (days ago, text)).
        The mentor (class teacher) starts steps 1–2, the principal steps 3–4."""
        record = None
        for step, started, items, follow_up in steps:
            starter = self.principal() if step >= 3 else self.class_teacher(case.pupil)
            record = absence.start_absence_step(actor=starter, case=case, step=step, started_on=self.ago(started))
            for item in items:
                actor = self.health if item in ("investigate_high_absence", "in_depth_analysis",
                                                "health_team_consulted") else starter
                absence.check_absence_action(actor=actor, record=record, item=item)
            if follow_up:
                absence.add_absence_follow_up(actor=self.class_teacher(case.pupil), record=record,
                                              text=self.local(follow_up[1]), held_on=self.ago(follow_up[0]))
        assert record is not None
        return record


# --- the stories: one pupil each, at one stage -----------------------------------------------------

Story = Callable[[World, Pupil], None]


def only_a_concern(text: str) -> Story:
    def story(w: World, pupil: Pupil) -> None:
        w.concern(w.case(pupil), text)
    return story


def se_adaptations(w: World, pupil: Pupil) -> None:
    case = w.case(pupil)
    w.concern(case, "Noah tappar fokus vid längre genomgångar och blir sällan klar med uppgifterna.")
    w.adapt(case, "Lektionens delar på tavlan med en bock för varje del; genomgången delas i två korta pass.",
            started=45, course="101", follow_ups=(
                (31, "Noah använder bockarna och kommer oftare igång på egen hand."),
                (10, "Fungerar bra i matematik. Vi fortsätter.")))
    w.adapt(case, "Kortare textavsnitt och möjlighet att lyssna på texten före klassdiskussionen.",
            started=24, course="102", follow_ups=(
                (8, "Noah har lyssnat på två av tre texter och deltar mer i diskussionerna."),))
    w.adapt(case, "Stödundervisning i matematik med speciallärare, två pass om 30 minuter i veckan.",
            started=14, course="101", remedial=True, follow_ups=(
                (3, "Har arbetat med bråk och procent; Noah vill fortsätta."),))


def ax_adaptations(w: World, pupil: Pupil) -> None:
    case = w.case(pupil)
    w.concern(case, "Viggo blandar ihop räknesätten och ger lätt upp vid textuppgifter.")
    w.adapt(case, "Differentierade uppgifter i matematik: samma område, färre och tydligare steg.",
            started=40, course="201", follow_ups=(
                (26, "Viggo arbetar längre stunder utan att ge upp."),
                (5, "Textuppgifterna går bättre när han får rita först. Fortsätter.")))
    w.adapt(case, "Stödundervisning i matematik med speciallärare en gång i veckan.", started=20, course="201",
            remedial=True, follow_ups=((6, "Har övat multiplikation med konkret material; säkrare nu."),))


def se_assessment(w: World, pupil: Pupil) -> None:
    case = w.case(pupil)
    w.concern(case, "Hugo läser långsamt och har svårt att återberätta det han läst, också i andra ämnen.")
    w.adapt(case, "Inlästa läromedel och stödfrågor till varje kapitel.", started=60, course="102",
            follow_ups=((30, "Viss förbättring, men Hugo hinner fortfarande inte läsa klart."),))
    w.assess(case, "Hugo har haft extra anpassningar i läsning sedan terminsstarten. Räcker de, eller är "
                   "behovet större?",
             "Elevhälsoteamet: anpassningarna ger viss effekt. Fortsätt med inlästa läromedel och lägg till "
             "lästräning med speciallärare två gånger i veckan. Följ upp om sex veckor och anmäl till rektor "
             "om Hugo inte når målen.")


def ax_assessment(w: World, pupil: Pupil) -> None:
    case = w.case(pupil)
    w.concern(case, "Elias har svårt med taluppfattningen och hänger inte med i de nya momenten.")
    w.adapt(case, "Konkret material och differentierade uppgifter i matematik.", started=56, course="201",
            follow_ups=((35, "Liten effekt; Elias behöver mycket stöd för att komma igång."),))
    w.assess(case, "Elias har haft differentierad undervisning och stödundervisning i matematik i åtta veckor "
                   "utan tydlig effekt.",
             "Elevhälsogruppen har behandlat bedömningen och rekommenderar specialpedagogiskt stöd med "
             "åtgärdsprogram. Underlaget lämnas till rektor.")


def drafted_plan_awaiting_hearing(w: World, pupil: Pupil) -> None:
    case = w.case(pupil)
    name = pupil.person.name.split()[0]
    w.adapt(case, "Skrivmall och ordbank vid skrivuppgifter.", started=90,
            follow_ups=((50, f"{name} använder mallen men texterna blir fortfarande korta."),))
    if w.is_se:
        w.report(case, f"Anmälan till rektor: {name} riskerar att inte nå kunskapskraven i svenska trots extra "
                       "anpassningar under hela terminen.")
    else:
        w.concern(case, f"{name} läser och skriver betydligt långsammare än klasskamraterna.")
        w.assess(case, f"{name} har haft differentierad undervisning i läsning och skrivning sedan terminsstarten.",
                 "Elevhälsogruppen rekommenderar specialpedagogiskt stöd och en pedagogisk utredning av "
                 "speciallärare.")
    investigation = w.investigate(
        case, f"Samtal med {name} och vårdnadshavarna, läs- och skrivtest och observation på två lektioner. "
              f"{name} läser på en nivå två år under årskursen och undviker att skriva.",
        f"{name} behöver särskilt stöd i läs- och skrivutveckling: regelbunden lästräning enskilt och stöd i "
        "skrivprocessen. Extra anpassningar räcker inte.")
    w.draft(case, investigation=investigation, by=w.special_teacher if w.is_se else None,
            needs=["Utveckla läsflyt och läsförståelse.", "Komma igång med och fullfölja skrivuppgifter."],
            measures=w.measures(
                ("Lästräning enskilt med speciallärare, tre pass om 20 minuter i veckan.", w.spec.special_teacher,
                 7, 90),
                ("Skrivstöd med tankekarta och talsyntes vid alla skrivuppgifter.",
                 w.class_teacher(pupil).person.sub, 7, 90)))


def active_plan_with_follow_ups(w: World, pupil: Pupil) -> None:
    case = w.case(pupil)
    name = pupil.person.name.split()[0]
    teacher = w.class_teacher(pupil).person.sub
    w.adapt(case, "Konkret material och färre uppgifter per sida i matematik.", started=120,
            follow_ups=((100, f"Hjälper något, men {name} behöver mer stöd."),))
    last = 20 if w.is_se else 34  # se: a follow-up due in ten days; ax: one overdue
    plan = w.active_plan(
        case, report=f"Anmälan till rektor: {name} har stora svårigheter i matematik och har inte nått målen på de "
                     "två senaste proven, trots extra anpassningar.",
        mapping=f"Diagnos i taluppfattning, samtal med {name} och vårdnadshavaren, observation på lektioner.",
        assessment=f"{name} behöver särskilt stöd i matematik, främst i taluppfattning och problemlösning.",
        needs=["Säkrare taluppfattning och huvudräkning.", "Strategier för problemlösning i flera steg."],
        measures=w.measures(
            ("Undervisning i liten grupp med speciallärare, två pass om 40 minuter i veckan.",
             w.spec.special_teacher, -70, 25),
            ("Bildstöd och konkret material vid genomgångar; färre uppgifter med fler lösta exempel.", teacher,
             -70, 25)),
        heard=72, hearing=f"{name} och vårdnadshavaren har tagit del av förslaget. {name} vill ha stödet i liten "
                          "grupp men inte gå ifrån mer än två lektioner i veckan.",
        grounds=f"Utredningen visar att {name} behöver särskilt stöd i matematik som inte kan ges med extra "
                "anpassningar.",
        follow_ups=((last + 28, f"{name} deltar i alla gruppass och räknar säkrare inom 0–100."),
                    (last, "Fortsatta framsteg; problemlösning i flera steg är fortfarande svår.")))
    plans.add_own_view(actor=w.as_pupil(pupil), case=case, plan=plan,
                       text="Jag tycker att gruppen hjälper. Men jag vill inte missa idrotten.")
    guardian = next((p.sub for p in w.org.people if pupil.person.sub in p.guardian_of), None)
    if guardian:
        plans.add_own_view(actor=w.as_guardian(guardian), case=case, plan=plan,
                           text=f"Vi märker att {name} är gladare efter mattelektionerna. Bra att stödet fortsätter.")


def evaluated_plan_awaiting_decision(w: World, pupil: Pupil) -> None:
    case = w.case(pupil)
    name = pupil.person.name.split()[0]
    teacher = w.class_teacher(pupil).person.sub
    evaluated = 20 if w.is_se else 4  # se: the decision is overdue; ax: due in ten days
    plan = w.active_plan(
        case, report=f"Anmälan till rektor: {name} har svårt att koncentrera sig och blir sällan klar med uppgifter "
                     "i flera ämnen.",
        mapping=f"Observation i tre ämnen, samtal med {name} och vårdnadshavarna, skattning tillsammans med "
                "elevhälsan.",
        assessment=f"{name} behöver särskilt stöd för att planera och slutföra arbete: en vuxen som stöttar vid "
                   "lektionsstart och ett tydligt veckoschema.",
        needs=["Komma igång med och slutföra uppgifter.", "Planera veckans arbete."],
        measures=w.measures(
            ("Startstöd av elevassistent de första tio minuterna av varje lektion.", teacher, -140, -evaluated - 5),
            ("Veckoschema med delmål som går igenom med mentor varje måndag.", teacher, -140, -evaluated - 5)),
        heard=142, hearing=f"{name} och vårdnadshavarna är positiva till startstöd och veckoschema.",
        grounds=f"Utredningen visar att {name} behöver särskilt stöd för att planera och slutföra skolarbetet.",
        follow_ups=((110, f"{name} kommer igång snabbare med stöd."),
                    (75, "Veckoschemat används varje vecka."),
                    (40, f"{name} slutför de flesta uppgifter; startstödet behövs mindre.")))
    w.evaluate(plan, days=evaluated,
               text=f"{name} slutför nu de flesta uppgifter och behöver mindre startstöd. Behovet av veckoschemat "
                    "kvarstår. Förslag: nytt åtgärdsprogram med färre åtgärder.")


def continued_in_new_plan(w: World, pupil: Pupil) -> None:
    case = w.case(pupil)
    name = pupil.person.name.split()[0]
    teacher = w.class_teacher(pupil).person.sub
    plan = w.active_plan(
        case, report=f"Anmälan till rektor: {name} har svårt med skrivuppgifter och mycket stress inför prov.",
        mapping=f"Samtal med {name}, vårdnadshavarna och ämneslärarna; genomgång av skrivuppgifter.",
        assessment=f"{name} behöver särskilt stöd i skriftlig framställning och andra sätt att visa sina kunskaper.",
        needs=["Utveckla skriftlig framställning.", "Visa kunskaper utan skriftliga prov."],
        measures=w.measures(
            ("Muntliga redovisningar som alternativ till skriftliga prov.", teacher, -170, -45),
            ("Skrivstöd med speciallärare en gång i veckan.", w.spec.special_teacher, -170, -45)),
        heard=172, hearing=f"{name} och vårdnadshavarna har hörts och vill pröva muntliga redovisningar.",
        grounds=f"Utredningen visar att {name} behöver särskilt stöd i skriftlig framställning.",
        follow_ups=((140, "Två muntliga redovisningar genomförda med gott resultat."),
                    (95, f"{name} skriver längre texter med stöd av skrivmall.")))
    w.evaluate(plan, days=40, text=f"{name} har nått målen för muntlig redovisning. Skrivandet har utvecklats men "
                                   "behöver fortsatt stöd. Stressen inför prov har minskat.")
    new = decisions.continue_in_new_plan(actor=w.principal(), plan=plan)
    new = plans.update_draft(
        actor=w.special_teacher, plan=new, expected_version=new.version,
        needs=["Utveckla skriftlig framställning i längre texter."],
        measures=w.measures(("Skrivstöd med speciallärare en gång i veckan.", w.spec.special_teacher, -30, 60),
                            ("Prov i mindre rum med förlängd skrivtid.", teacher, -30, 60)))
    w.hear(case, new, days=33, summary=f"{name} och vårdnadshavarna vill fortsätta med skrivstödet; muntliga "
                                        "redovisningar behövs inte längre.")
    w.adopt(new, f"Utvärderingen visar att {name} fortfarande behöver särskilt stöd i skrivande. Åtgärden med "
                 "muntliga redovisningar tas bort.")
    w.follow_up(new, (8, f"{name} har skrivit två längre texter med stöd; god utveckling."))


def closed_plan(w: World, pupil: Pupil) -> None:
    case = w.case(pupil)
    name = pupil.person.name.split()[0]
    plan = w.active_plan(
        case, report=f"Anmälan till rektor: {name} har svårt att hänga med i matematik efter en lång sjukfrånvaro.",
        mapping=f"Diagnos i de moment {name} har missat, samtal med {name} och vårdnadshavarna.",
        assessment=f"{name} behöver särskilt stöd under en begränsad tid för att ta igen missade moment.",
        needs=["Ta igen missade moment i matematik."],
        measures=w.measures(("Enskild undervisning med speciallärare i missade moment, två pass om 30 minuter "
                             "i veckan.", w.spec.special_teacher, -160, -50)),
        heard=162, hearing=f"{name} och vårdnadshavarna är överens om stödet under en termin.",
        grounds=f"Utredningen visar att {name} behöver särskilt stöd för att ta igen missade moment i matematik.",
        follow_ups=((120, f"{name} har tagit igen algebran."), (80, "Geometrin klar; återstår statistik.")))
    w.evaluate(plan, days=48, text=f"{name} har tagit igen de missade momenten och följer nu undervisningen utan "
                                   "särskilt stöd.")
    w.hear(case, plan, days=45, summary=f"{name} och vårdnadshavarna instämmer i att stödet kan avslutas.")
    decisions.decide_close_plan(actor=w.principal(), plan=plan, reason="need_no_longer_remains",
                                grounds=w.local(f"Utvärderingen visar att {name} inte längre har behov av "
                                                "särskilt stöd."))


def se_no_plan(w: World, pupil: Pupil) -> None:
    case = w.case(pupil)
    w.report(case, "Anmälan till rektor: Saga har fått F på två prov i engelska och är ofta ledsen på lektionerna.")
    w.investigate(case, "Samtal med Saga och vårdnadshavarna, genomgång av proven och observation på lektioner.",
                  "Sagas svårigheter gäller främst ordförrådet och kan mötas med extra anpassningar i den "
                  "ordinarie undervisningen. Hon har inte behov av särskilt stöd.")
    decisions.decide_not_to_draw_up_plan(
        actor=w.principal(), case=case,
        grounds="Utredningen visar att Saga inte har behov av särskilt stöd. Hennes behov tillgodoses med extra "
                "anpassningar: ordlistor i förväg och möjlighet att komplettera prov muntligt.")
    w.adapt(case, "Ordlistor inför varje nytt område och muntlig komplettering av prov.", started=10)


def ax_level_3(w: World, pupil: Pupil) -> None:
    """Ålands level 3: principal prepares and hears, the education chief decides, an IP, a grade-6 review."""
    case = w.case(pupil)
    w.concern(case, "Nova har omfattande svårigheter i flera ämnen och behöver stöd av flera yrkesgrupper.")
    w.adapt(case, "Bildstöd, tydligt dagsschema och arbete i lugn miljö.", started=200,
            follow_ups=((170, "Hjälper i lugna stunder, men Nova orkar inte hela dagar i klassen."),))
    w.assess(case, "Nova har haft differentierad undervisning och stödundervisning i flera ämnen sedan åk 5.",
             "Elevhälsogruppen rekommenderar specialpedagogiskt stöd och en pedagogisk utredning.")
    w.hear(case, None, days=160, summary="Nova och vårdnadshavarna har hörts om övergång till specialpedagogiskt "
                                         "stöd och är positiva.")
    decisions.decide_level(actor=w.principal(), case=case, decision_type="decide_level_2",
                           grounds="Den pedagogiska bedömningen visar att Nova behöver specialpedagogiskt stöd.")
    investigation = cases.request_investigation(actor=w.principal(), case=case)
    cases.conduct_investigation(
        actor=w.special_teacher, investigation=investigation, conclude=True,
        mapping="Pedagogisk utredning: tester, observationer, samtal med Nova och vårdnadshavarna; utlåtanden "
                "från skolpsykolog och talpedagog.",
        assessment="Nova behöver mångprofessionellt stöd: undervisning i liten grupp, talpedagog och en "
                   "anpassad lärmiljö.")
    ip = w.draft(case, document="individual_plan", investigation=investigation, by=w.special_teacher,
                 needs=["Utveckla läsning och skrivning i egen takt.", "Trygghet och ork under hela skoldagen."],
                 measures=w.measures(
                     ("Undervisning i liten grupp i svenska och matematik.", "a-12", -90, 200),
                     ("Talpedagog en gång i veckan.", "a-14", -90, 200),
                     ("Anpassad lärmiljö och ett eget arbetsrum med pauser.", "a-18", -90, 200)),
                 follow_up_method="Specialläraren och klassföreståndaren följer upp en gång i månaden.",
                 evaluation_method="Beslutet granskas i slutet av åk 2, 6 och 8 med elevhälsogruppen.")
    w.hear(case, ip, days=95, summary="Rektor har hört Nova och vårdnadshavarna inför beslutet om "
                                      "mångprofessionellt stöd. De vill att Nova får gå kvar i sin klass på "
                                      "praktiskt-estetiska ämnen.")
    w.adopt(ip, "Rektor har berett och föredragit ärendet. Utredningen och elevhälsogruppens bedömning visar att "
                "Nova behöver mångprofessionellt stöd. Rektor verkställer beslutet och begär tilläggsresurser.",
            by=w.education_chief)
    plans.record_review(actor=w.class_teacher(pupil), plan=ip, grade=pupil.grade or 6, held_on=w.ago(10),
                        text="Granskning i åk 6 tillsammans med elevhälsogruppen: Nova har utvecklats i läsning och "
                             "orkar längre dagar. Behovet av mångprofessionellt stöd kvarstår. Underlaget lämnas "
                             "till utbildningschefen.")


def absence_step_2(w: World, pupil: Pupil) -> None:
    case = w.case(pupil)
    name = pupil.person.name.split()[0]
    step_2 = 9 if w.is_se else 20  # se: follow-up due in five days; ax: follow-up overdue, step 3 proposed
    record = w.ladder(case, (
        (1, step_2 + 15, ("call_pupil_and_guardian", "find_cause", "book_follow_up_meeting"),
         (step_2 + 3, f"Uppföljningsmöte: frånvaron fortsätter, orsaken är oklar. {name} säger att hen har "
                      "ont i magen på morgnarna.")),
        (2, step_2, ("meet_pupil_and_guardian", "look_for_patterns"), None),
    ))
    w.adapt(case, f"Mentor möter {name} vid entrén på måndagsmorgnar.", started=step_2 - 1, record=record)


def se_absence_step_4(w: World, pupil: Pupil) -> None:
    case = w.case(pupil)
    w.concern(case, "Stella har varit borta mycket sedan höstlovet, ofta utan anmälan.")
    record = w.ladder(case, (
        (1, 120, ("call_pupil_and_guardian", "find_cause", "book_follow_up_meeting"),
         (108, "Uppföljningsmöte med Stella och mamma: frånvaron har fortsatt.")),
        (2, 105, ("meet_pupil_and_guardian", "look_for_patterns", "simple_mapping", "try_measures"),
         (92, "Kartläggningen visar att frånvaron är störst första lektionen och på idrotten.")),
        (3, 91, ("appoint_investigator", "investigate_high_absence", "report_to_school_owner"),
         (72, "Utredningen är klar: frånvaron är 38 % och har inte minskat.")),
        (4, 70, ("follow_up_meeting", "in_depth_analysis", "report_to_home_municipality", "health_team_consulted",
                 "name_coordinator", "form_of_coordination"), None),
    ))
    absence.record_coordination(actor=w.principal(), record=record, coordinator=w.people[w.spec.health_team],
                                form="sip")
    absence.record_report_to_social_services(
        actor=w.principal(), pupil=pupil, absence_record=record,
        text="Stella har haft över 40 % frånvaro i tre månader trots skolans åtgärder i steg 1–3. Skolan anmäler "
             "oro för hennes skolgång och mående. Stella är folkbokförd i Ekdala.")
    w.adapt(case, "Anpassad skolstart: Stella börjar 09.30 och möts av kuratorn.", started=68, record=record)
    for days, text in ((66, "Månadsuppföljning: SIP-möte med socialtjänsten i Ekdala, vårdnadshavare och "
                            "elevhälsan. Ny plan för skolstarten."),
                       (36, "Månadsuppföljning: närvaron har ökat till tre dagar i veckan. Vi fortsätter.")):
        absence.add_absence_follow_up(actor=w.class_teacher(pupil), record=record, text=text, held_on=w.ago(days))


def transferred(w: World, pupil: Pupil) -> None:
    """An active plan at the first unit; the pupil moves; the old principal must decide on closing it."""
    case = w.case(pupil)
    name = pupil.person.name.split()[0]
    teacher = w.class_teacher(pupil).person.sub
    w.active_plan(
        case, report=f"Anmälan till rektor: {name} har svårt med läsförståelse i alla ämnen.",
        mapping=f"Lästest, samtal med {name} och vårdnadshavarna.",
        assessment=f"{name} behöver särskilt stöd i läsförståelse.",
        needs=["Bättre läsförståelse i faktatexter."],
        measures=w.measures(("Lässtrategier med speciallärare två gånger i veckan.", w.spec.special_teacher,
                             -100, 40),
                            ("Förhandsgenomgång av ord och begrepp inför nya områden.", teacher, -100, 40)),
        heard=102, hearing=f"{name} och vårdnadshavarna har hörts och är positiva.",
        grounds=f"Utredningen visar att {name} behöver särskilt stöd i läsförståelse.",
        follow_ups=((60, f"{name} använder lässtrategierna i so-ämnena."),))
    new_case = cases.move_pupil(actor=w.principal(), pupil=pupil, to_unit=w.units[1])
    w.adapt(new_case, f"Stödet fortsätter som i åtgärdsprogrammet från {w.units[0].name} tills ett nytt "
                      "åtgärdsprogram har upprättats här.", started=2)


SE_STORIES: dict[str, Story] = {
    "s-23": only_a_concern("Alva kommer sällan igång med uppgifterna på mattelektionerna och ber inte om hjälp. "
                           "Hon säger att hon inte förstår någonting. Behöver vi se över stödet?"),
    "s-22": se_adaptations,
    "s-61": se_assessment,
    "s-62": drafted_plan_awaiting_hearing,
    "s-21": active_plan_with_follow_ups,
    "s-63": evaluated_plan_awaiting_decision,
    "s-64": continued_in_new_plan,
    "s-65": closed_plan,
    "s-66": se_no_plan,
    "s-67": absence_step_2,
    "s-68": se_absence_step_4,
    "s-69": transferred,
}

AX_STORIES: dict[str, Story] = {
    "a-61": only_a_concern("Ines verkar trött och orkar sällan hela lektionen. Hennes mamma har hört av sig om att "
                           "Ines inte vill gå till skolan."),
    "a-22": ax_adaptations,
    "a-62": ax_assessment,
    "a-63": drafted_plan_awaiting_hearing,
    "a-21": active_plan_with_follow_ups,
    "a-64": evaluated_plan_awaiting_decision,
    "a-65": continued_in_new_plan,
    "a-66": closed_plan,
    "a-67": ax_level_3,
    "a-68": absence_step_2,
    "a-69": transferred,
}

STORIES: dict[str, dict[str, Story]] = {"solbacka": SE_STORIES, "aland": AX_STORIES}


# --- plain rows ------------------------------------------------------------------------------------


def _person(organisation: Organisation, issuer: str, person: data.Person) -> Person:
    row, created = Person.objects.get_or_create(organisation=organisation, issuer=issuer, sub=person.sub,
                                                defaults={"name": person.name})
    if not created and not row.name:
        row.name = person.name
        row.save(update_fields=["name"])
    return row


def _grant(person: Person, role: str, organisation: Organisation, *, granted_by: Person | None,
           unit: SchoolUnit | None = None, school_class: SchoolClass | None = None) -> None:
    assert granted_by is None or granted_by.pk != person.pk, "a staff role is never self-granted"
    exists = StaffGrant.objects.filter(person=person, role=role, organisation=organisation, unit=unit,
                                       school_class=school_class, revoked_at__isnull=True).exists()
    if not exists:
        StaffGrant.objects.create(person=person, role=role, organisation=organisation, unit=unit,
                                  school_class=school_class, granted_by=granted_by)


def _world(registration: Registration, org: data.DemoOrganisation, today: dt.date) -> World:
    spec = SCHOOLS[org.key]
    organisation = organisation_of(org)
    deployment = Deployment.objects.get(registration=registration, deployment_id=org.deployment_id)
    units = [SchoolUnit.objects.get_or_create(organisation=organisation, name=u.name,
                                              defaults={"municipality": u.municipality})[0] for u in spec.units]
    titles = {course.id: course.title for course in org.courses}
    for unit, unit_spec in zip(units, spec.units, strict=True):
        for course_id in unit_spec.courses:
            CourseMapping.objects.get_or_create(deployment=deployment, context_id=course_id,
                                                defaults={"unit": unit, "title": titles[course_id]})
    classes = {c.name: SchoolClass.objects.get_or_create(unit=units[c.unit], name=c.name,
                                                         defaults={"grade": c.grade})[0] for c in spec.classes}
    people = {p.sub: _person(organisation, registration.issuer, p) for p in org.people}
    pupils: dict[str, Pupil] = {}
    for class_spec in spec.classes:
        for sub in class_spec.pupils:
            pupils[sub] = Pupil.objects.get_or_create(person=people[sub], defaults={
                "unit": units[class_spec.unit], "school_class": classes[class_spec.name],
                "grade": class_spec.grade, "home_municipality": spec.home_municipality.get(sub, "")})[0]
    for person in org.people:
        for ward in person.guardian_of:
            GuardianLink.objects.get_or_create(guardian=people[person.sub], pupil=pupils[ward])

    admin = people[spec.organisation_admin]
    _grant(admin, "organisation_admin", organisation, granted_by=None)  # named by the operator
    if spec.education_chief:
        _grant(people[spec.education_chief], "education_chief", organisation, granted_by=admin)
    for unit, unit_spec in zip(units, spec.units, strict=True):
        principal = people[unit_spec.principal]
        _grant(principal, "principal", organisation, unit=unit, granted_by=admin)
        _grant(people[spec.special_teacher], "special_teacher", organisation, unit=unit, granted_by=principal)
    first_principal = people[spec.units[0].principal]
    _grant(people[spec.health_team], "health_team_member", organisation, unit=units[0], granted_by=first_principal)
    for class_spec in spec.classes:
        _grant(people[class_spec.class_teacher], "class_teacher", organisation, unit=units[class_spec.unit],
               school_class=classes[class_spec.name], granted_by=people[spec.units[class_spec.unit].principal])
    # The courses' rosters as the demo's NRPS lists them, so a course panel has its pupils before the
    # first roster fetch (a launch refreshes them from the demo platform after that).
    from lti_plugin.support.services.people import sync_roster

    for course in org.courses:
        sync_roster(deployment=deployment, issuer=registration.issuer, context_id=course.id, members=[
            {"status": "Active", "roles": p.nrps_roles(), "user_id": p.sub, "name": p.name}
            for p in data.course_members(course.id)])
    return World(org=org, spec=spec, organisation=organisation, units=units, classes=classes, people=people,
                 pupils=pupils, today=today)


# --- the entry point -------------------------------------------------------------------------------


@transaction.atomic
def seed_demo(registration: Registration, *, today: dt.date | None = None) -> int:
    """Build the demo school data for the demo registration; returns how many pupils' stories were told
    (0 on a second run)."""
    today = today or timezone.localdate()  # the tool's day, as services.due counts it
    told = 0
    for org in data.ORGANISATIONS:
        world = _world(registration, org, today)
        for sub, story in STORIES[org.key].items():
            pupil = world.pupils[sub]
            if Case.objects.filter(pupil=pupil).exists():
                continue  # told before (or the pupil's support has started for real): leave it
            story(world, pupil)
            told += 1
    return told
