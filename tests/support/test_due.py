"""What is due for whom (services.due.due_for): one list for pages, the API and the daily digest.

States come from the services (draft, hearing, decision, follow-up, evaluation, move), dated with
time_machine; the dates checked are the ones a user sees on their list.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine

from lti_plugin.support.actor import Actor
from lti_plugin.support.models import Organisation, Plan
from lti_plugin.support.pack import get_pack
from lti_plugin.support.services import absence, cases, decisions, plans
from lti_plugin.support.services.due import DECIDE_WITHIN_DAYS, FOLLOW_UP_EVERY_DAYS, DueItem, due_for
from lti_plugin.support.services.plans import MeasureInput
from tests.support.conftest import School

DECIDED_ON = date(2026, 1, 12)
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, tzinfo=timezone.utc)


def kinds(items: list[DueItem]) -> list[tuple[str, date]]:
    return [(item.kind, item.due_on) for item in items]


def of_kind(actor: Actor, kind: str, today: date) -> list[date]:
    return [item.due_on for item in due_for(actor, today=today) if item.kind == kind]


def draft(school: School, case, teacher: Actor, *, ends: tuple[date, ...] = (date(2026, 3, 31),),  # type: ignore[no-untyped-def]
          document: str = "action_plan") -> Plan:
    measures = [MeasureInput(f"Åtgärd {n}", teacher.person, DECIDED_ON, end) for n, end in enumerate(ends)]
    return plans.draft_plan(actor=teacher, case=case, document=document, needs=["Läsförståelse"], measures=measures)


def hear(principal: Actor, plan: Plan, *, pupil: bool = True, guardians: bool = True) -> None:
    plans.record_hearing(actor=principal, case=plan.case, plan=plan, held_on=DECIDED_ON, pupil_heard=pupil,
                         guardians_heard=guardians, summary="Elev och vårdnadshavare hörda")


def in_force(school: School, case, teacher: Actor, principal: Actor, *,  # type: ignore[no-untyped-def]
             ends: tuple[date, ...] = (date(2026, 3, 31),), at: datetime | None = None) -> Plan:
    """An ÅP drafted, heard and decided (in force from `at`, noon on DECIDED_ON by default)."""
    with time_machine.travel(at or noon(DECIDED_ON), tick=False):
        plan = draft(school, case, teacher, ends=ends)
        hear(principal, plan)
        decisions.decide_new_plan(actor=principal, plan=plan, grounds="Behov av särskilt stöd")
    plan.refresh_from_db()
    assert plan.status == Plan.Status.ACTIVE
    return plan


@pytest.fixture
def staff(se: School) -> dict[str, Actor]:
    return {role: se.actor(role) for role in ("class_teacher", "subject_teacher", "special_teacher", "principal",
                                              "health_team_member")}


# --- follow-ups and the evaluation ------------------------------------------------------------------------


def test_follow_up_is_due_30_days_after_the_plan_comes_into_force_then_after_the_last_one(se, staff):
    teacher, principal = staff["class_teacher"], staff["principal"]
    plan = in_force(se, se.case(), teacher, principal)
    assert FOLLOW_UP_EVERY_DAYS == 30
    assert of_kind(teacher, "follow_up", DECIDED_ON) == [DECIDED_ON + timedelta(days=30)]
    plans.add_follow_up(actor=teacher, plan=plan, text="Läser med stöd", held_on=date(2026, 2, 20))
    assert of_kind(teacher, "follow_up", DECIDED_ON) == [date(2026, 3, 22)]
    # An earlier-dated follow-up recorded later does not move the date back.
    plans.add_follow_up(actor=staff["subject_teacher"], plan=plan, text="Efterregistrerad", held_on=date(2026, 2, 1))
    assert of_kind(teacher, "follow_up", DECIDED_ON) == [date(2026, 3, 22)]
    for role in ("subject_teacher", "special_teacher"):  # everyone who may follow the plan up
        assert of_kind(staff[role], "follow_up", DECIDED_ON) == [date(2026, 3, 22)]
    for role in ("principal", "health_team_member"):
        assert of_kind(staff[role], "follow_up", DECIDED_ON) == []


def test_the_first_follow_up_counts_from_the_school_s_day_of_the_decision(se, staff):
    # Decided at 00:30 in Stockholm on 12 January (still 11 January in UTC): due 30 days from the 12th.
    at = datetime(2026, 1, 12, 0, 30, tzinfo=STOCKHOLM)
    in_force(se, se.case(), staff["class_teacher"], staff["principal"], at=at)
    assert of_kind(staff["class_teacher"], "follow_up", DECIDED_ON) == [date(2026, 2, 11)]


def test_evaluation_is_due_when_the_measures_end(se, staff):
    teacher = staff["class_teacher"]
    in_force(se, se.case(), teacher, staff["principal"], ends=(date(2026, 3, 31), date(2026, 5, 15), date(2026, 4, 1)))
    assert of_kind(teacher, "evaluation", DECIDED_ON) == [date(2026, 5, 15)]
    assert of_kind(staff["health_team_member"], "evaluation", DECIDED_ON) == [date(2026, 5, 15)]
    assert of_kind(staff["principal"], "evaluation", DECIDED_ON) == []


def test_after_the_evaluation_the_principal_decides(se, staff):
    teacher, principal = staff["class_teacher"], staff["principal"]
    case = se.case()
    plan = in_force(se, case, teacher, principal)
    assert of_kind(principal, "decide_after_evaluation", DECIDED_ON) == []
    plans.record_evaluation(actor=teacher, plan=plan, text="Målen delvis nådda", evaluated_on=date(2026, 4, 2))
    today = date(2026, 4, 3)
    assert kinds(due_for(principal, today=today)) == [
        ("decide_after_evaluation", date(2026, 4, 2) + timedelta(days=DECIDE_WITHIN_DAYS))]
    assert due_for(teacher, today=today) == []  # no follow-up or evaluation after the one evaluation
    # Continuing in a new plan takes the item off; the new draft waits for its hearing.
    new = decisions.continue_in_new_plan(actor=principal, plan=plan)
    assert due_for(principal, today=today) == []
    hear(principal, new)
    assert kinds(due_for(principal, today=today)) == [("decide_plan", today)]


def test_closing_after_the_evaluation_leaves_nothing_due(se, staff):
    teacher, principal = staff["class_teacher"], staff["principal"]
    plan = in_force(se, se.case(), teacher, principal)
    plans.record_evaluation(actor=teacher, plan=plan, text="Målen nådda", evaluated_on=date(2026, 4, 2))
    decisions.decide_close_plan(actor=principal, plan=plan, reason="need_no_longer_remains", grounds="Målen nådda")
    for actor in staff.values():
        assert due_for(actor, today=date(2026, 4, 3)) == []


# --- decisions waiting -------------------------------------------------------------------------------------


def test_a_drafted_plan_waits_for_the_principal_once_pupil_and_guardians_are_heard(se, staff):
    teacher, principal = staff["class_teacher"], staff["principal"]
    plan = draft(se, se.case(), teacher)
    assert due_for(principal, today=DECIDED_ON) == []
    hear(principal, plan, guardians=False)
    assert due_for(principal, today=DECIDED_ON) == []
    hear(principal, plan)
    [item] = due_for(principal, today=DECIDED_ON)
    assert (item.kind, item.due_on, item.plan_id) == ("decide_plan", DECIDED_ON, plan.pk)
    # The named delegate may take `se` ÅP decisions, so it is on their list too; a teacher's, not.
    assert kinds(due_for(se.actor("principal_delegate"), today=DECIDED_ON)) == [("decide_plan", DECIDED_ON)]
    assert due_for(teacher, today=DECIDED_ON) == []


def test_an_ax_individual_plan_waits_for_the_education_chief_not_the_principal(ax):
    special, principal, chief = ax.actor("special_teacher"), ax.actor("principal"), ax.actor("education_chief")
    plan = draft(ax, ax.case(ax.pupil(grade=2)), special, document="individual_plan")
    hear(principal, plan)
    assert decisions.adoption_decision(get_pack("ax"), plan) == "decide_level_3"
    assert kinds(due_for(chief, today=DECIDED_ON)) == [("decide_plan", DECIDED_ON)]
    assert due_for(principal, today=DECIDED_ON) == []


# --- transfer ---------------------------------------------------------------------------------------------


def test_a_transfer_puts_closing_on_the_old_unit_s_principal_list(se, staff):
    teacher, principal = staff["class_teacher"], staff["principal"]
    pupil = se.pupil()
    plan = in_force(se, se.case(pupil), teacher, principal)
    new_principal = se.actor("principal", unit=se.other_unit)
    cases.move_pupil(actor=principal, pupil=pupil, to_unit=se.other_unit)
    today = date(2026, 2, 2)
    [item] = due_for(principal, today=today)
    assert (item.kind, item.plan_id, item.due_on) == ("decide_closing_after_transfer", plan.pk, today)
    assert due_for(new_principal, today=today) == []  # the new unit sees no plan in force there
    assert due_for(teacher, today=today) == []  # no follow-up on a plan no longer valid for the pupil
    plan.refresh_from_db()
    assert plan.status == Plan.Status.ACTIVE  # closing is a decision, never automatic
    decisions.decide_close_plan(actor=principal, plan=plan, reason="pupil_leaves_unit", grounds="Eleven har flyttat")
    assert due_for(principal, today=today) == []


# --- Åland: review at the grade points -----------------------------------------------------------------------


def individual_plan_in_force(school: School, case) -> Plan:  # type: ignore[no-untyped-def]
    """An `ax` IP: drafted by the special teacher, heard by the principal, decided by the education chief."""
    plan = draft(school, case, school.actor("special_teacher"), document="individual_plan")
    hear(school.actor("principal"), plan)
    decision = decisions.decide_new_plan(actor=school.actor("education_chief"), plan=plan, grounds="Stora behov")
    assert decision.decision_type == "decide_level_3"
    plan.refresh_from_db()
    return plan


@pytest.mark.parametrize("grade", [2, 6, 8])
def test_review_is_due_for_the_class_teacher_at_grades_2_6_and_8(ax, grade):
    case = ax.case(ax.pupil(grade=grade))
    plan = individual_plan_in_force(ax, case)
    teacher, health = ax.actor("class_teacher"), ax.actor("health_team_member")
    today = date(2026, 3, 2)
    [item] = due_for(teacher, today=today)
    assert (item.kind, item.plan_id, item.due_on) == ("review", plan.pk, date(2026, 6, 10))
    assert kinds(due_for(health, today=today)) == [("review", date(2026, 6, 10))]  # the elevhälsogrupp takes part
    assert due_for(ax.actor("principal"), today=today) == []
    chief = ax.actor("education_chief")
    assert due_for(chief, today=today) == []
    plans.record_review(actor=teacher, plan=plan, grade=grade, text="Stödet fungerar", held_on=date(2026, 5, 20))
    assert due_for(teacher, today=today) == []
    assert kinds(due_for(chief, today=today)) == [
        ("decide_review_outcome", date(2026, 5, 20) + timedelta(days=DECIDE_WITHIN_DAYS))]
    decisions.decide(actor=chief, case=case, decision_type="decide_review_outcome", grounds="Stödet fortsätter",
                     plan=plan, to_level="multiprofessional_support")
    assert due_for(chief, today=today) == []


@pytest.mark.parametrize("grade", [1, 3, 5, 7, 9])
def test_no_review_between_the_grade_points(ax, grade):
    individual_plan_in_force(ax, ax.case(ax.pupil(grade=grade)))
    assert due_for(ax.actor("class_teacher"), today=date(2026, 3, 2)) == []


def test_no_review_without_an_individual_plan_in_force(ax):
    case = ax.case(ax.pupil(grade=6))
    plan = draft(ax, case, ax.actor("special_teacher"), document="individual_plan")
    hear(ax.actor("principal"), plan)
    assert due_for(ax.actor("class_teacher"), today=date(2026, 3, 2)) == []


# --- the absence ladder ----------------------------------------------------------------------------------------


def test_absence_follow_up_and_next_step_fall_due(se, staff):
    case = se.case()
    start = date(2026, 3, 2)
    with time_machine.travel(noon(start), tick=False):
        absence.start_absence_step(actor=staff["class_teacher"], case=case, step=1, started_on=start)
        for role in ("class_teacher", "principal", "health_team_member"):
            assert kinds(due_for(staff[role])) == [("absence_follow_up", start + timedelta(days=14))]
        assert due_for(staff["subject_teacher"]) == []
    with time_machine.travel(noon(start + timedelta(days=13)), tick=False):
        assert [item.kind for item in due_for(staff["class_teacher"])] == ["absence_follow_up"]
    with time_machine.travel(noon(start + timedelta(days=15)), tick=False):
        items = due_for(staff["class_teacher"])
        assert kinds(items) == [("absence_follow_up", start + timedelta(days=14)),
                                ("absence_next_step", start + timedelta(days=14))]
        assert all(item.overdue for item in items)
        assert "2" in items[1].label  # step 2's starting point is met
    # Followed up: only the proposal of step 2 is left.
    absence.add_absence_follow_up(actor=staff["health_team_member"], record=absence.current_record(case),  # type: ignore[arg-type]
                                  text="Uppföljningsmöte hållet", held_on=start + timedelta(days=10))
    assert kinds(due_for(staff["class_teacher"], today=start + timedelta(days=15))) == [
        ("absence_next_step", start + timedelta(days=14))]


def test_a_pupil_with_a_plan_in_force_on_the_ladder_has_both_and_each_names_the_pupil(se, staff):
    teacher, principal = staff["class_teacher"], staff["principal"]
    case = se.case(se.pupil("Dan"))
    in_force(se, case, teacher, principal)
    absence.start_absence_step(actor=teacher, case=case, step=1, started_on=DECIDED_ON)
    on_ladder_only = se.case(se.pupil("Eva"))
    absence.start_absence_step(actor=teacher, case=on_ladder_only, step=1, started_on=DECIDED_ON)
    items = due_for(teacher, today=DECIDED_ON)
    assert sorted((item.pupil_name, item.kind) for item in items) == [
        ("Dan", "absence_follow_up"), ("Dan", "evaluation"), ("Dan", "follow_up"), ("Eva", "absence_follow_up")]
    assert {item.case_id for item in items if item.pupil_name == "Eva"} == {on_ladder_only.pk}


# --- order and reach -----------------------------------------------------------------------------------------


def test_items_come_soonest_first(se, staff):
    teacher, principal = staff["class_teacher"], staff["principal"]
    late = in_force(se, se.case(se.pupil("Ada")), teacher, principal, ends=(date(2026, 6, 1),))
    plans.add_follow_up(actor=teacher, plan=late, text="Bra", held_on=date(2026, 3, 1))
    in_force(se, se.case(se.pupil("Bo")), teacher, principal, ends=(date(2026, 1, 30),))
    absence.start_absence_step(actor=teacher, case=se.case(se.pupil("Cia")), step=1, started_on=date(2026, 2, 1))
    items = due_for(teacher, today=DECIDED_ON)
    assert [item.due_on for item in items] == sorted(item.due_on for item in items)
    assert kinds(items) == [
        ("evaluation", date(2026, 1, 30)),
        ("follow_up", date(2026, 2, 11)),
        ("absence_follow_up", date(2026, 2, 15)),
        ("follow_up", date(2026, 3, 31)),
        ("evaluation", date(2026, 6, 1)),
    ]


def test_someone_with_no_role_at_the_unit_sees_nothing(se, ax, staff):
    teacher, principal = staff["class_teacher"], staff["principal"]
    pupil = se.pupil()
    case = se.case(pupil)
    plan = in_force(se, case, teacher, principal)
    plans.record_evaluation(actor=teacher, plan=plan, text="Utvärderad", evaluated_on=date(2026, 3, 1))
    absence.start_absence_step(actor=teacher, case=case, step=1, started_on=date(2026, 3, 2))
    assert due_for(principal, today=date(2026, 3, 3))  # someone at the unit has things due
    other_org = Organisation.objects.get(pk=ax.organisation.pk)
    outsiders = [
        se.actor("principal", unit=se.other_unit), se.actor("class_teacher", unit=se.other_unit),
        se.actor("health_team_member", unit=se.other_unit), se.actor("organisation_admin"), se.actor("it_admin"),
        Actor(person=se.person("utan roll"), organisation=se.organisation, roles=frozenset()),
        Actor(person=ax.person("rektor i Åland"), organisation=other_org, roles=frozenset({"principal"}),
              units=frozenset({se.unit.pk})),
        se.pupil_actor(pupil), se.guardian_actor(pupil),
    ]
    for outsider in outsiders:
        assert due_for(outsider, today=date(2026, 3, 3)) == [], outsider.roles
