"""A pupil's record across units and time: concerns, a move to another unit, and the archive.

Seed unikum-atgardsprogram-uppfoljning: an ÅP is valid only at the unit where it was drawn up;
closing it when the pupil leaves is a tip, so a decision and never automatic; the new school decides
on its own ÅP and may start from the existing investigation; everything stays in the archive and
follows the pupil. DESIGN.md: closed plans are read-only; nothing is deleted. Seed
ansvarsfordelning-stod-for-larande: the pupil and the guardians may raise a need for support.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import pytest
from django.db.models import ProtectedError

from lti_plugin.support import history
from lti_plugin.support.errors import NotAllowed, RuleBroken
from lti_plugin.support.models import Concern, Decision, Investigation, Plan, SchoolUnit
from lti_plugin.support.services import cases, decisions, due, plans
from lti_plugin.support.services.plans import MeasureInput

from .helpers import refused, rows

if TYPE_CHECKING:
    from lti_plugin.support.actor import Actor
    from lti_plugin.support.models import Case
    from tests.support.conftest import School

STAFF = ("class_teacher", "subject_teacher", "special_teacher", "principal", "health_team_member")


def draft(teacher: Actor, case: Case, *, document: str = "action_plan",
          investigation: Investigation | None = None) -> Plan:
    return plans.draft_plan(actor=teacher, case=case, document=document, investigation=investigation,
                            needs=["Läsförståelse"],
                            measures=[MeasureInput("Läsning med stöd", teacher.person, date(2026, 1, 12),
                                                   date(2026, 3, 13))])


def decided(principal: Actor, plan: Plan, *, decider: Actor | None = None) -> Plan:
    plans.record_hearing(actor=principal, case=plan.case, plan=plan, held_on=date(2026, 1, 8), pupil_heard=True,
                         guardians_heard=True, summary="Elev och vårdnadshavare hörda")
    decisions.decide_new_plan(actor=decider or principal, plan=plan, grounds="Utredningen visar behov")
    plan.refresh_from_db()
    return plan


def closed(school: School) -> Plan:
    """An ÅP that went its whole way: drafted, decided, followed up, evaluated, closed."""
    teacher, principal = school.actor("class_teacher"), school.actor("principal")
    plan = decided(principal, draft(teacher, school.case()))
    plans.add_follow_up(actor=teacher, plan=plan, text="Går framåt", held_on=date(2026, 2, 2))
    plans.record_evaluation(actor=teacher, plan=plan, text="Målen nådda", evaluated_on=date(2026, 3, 16))
    decisions.decide_close_plan(actor=principal, plan=plan, reason="need_no_longer_remains", grounds="Målen nådda")
    plan.refresh_from_db()
    return plan


# --- transfer -------------------------------------------------------------------------------------------


def test_after_a_move_the_old_plan_stays_until_the_old_principal_decides_and_the_new_unit_starts_afresh(se):
    old_principal, special_teacher = se.actor("principal"), se.actor("special_teacher")
    case = se.case()
    pupil = case.pupil
    investigation = cases.request_investigation(actor=old_principal, case=case)
    cases.conduct_investigation(actor=special_teacher, investigation=investigation, mapping="Kartläggning av läsning",
                                assessment="Behöver särskilt stöd i läsning", conclude=True)
    old_plan = decided(old_principal, draft(se.actor("class_teacher"), case, investigation=investigation))

    new_case = cases.move_pupil(actor=old_principal, pupil=pupil, to_unit=se.other_unit)

    pupil.refresh_from_db()
    old_plan.refresh_from_db()
    assert (pupil.unit, new_case.unit, new_case.pupil) == (se.other_unit, se.other_unit, pupil)
    assert old_plan.status == Plan.Status.ACTIVE  # no automatic close
    assert not new_case.plans.filter(status=Plan.Status.ACTIVE).exists()  # not in force at the new unit

    items = [item for item in due.due_for(old_principal, today=date(2026, 4, 1))
             if item.kind == "decide_closing_after_transfer"]
    assert [(item.case_id, item.plan_id) for item in items] == [(case.pk, old_plan.pk)]
    new_principal = se.actor("principal", unit=se.other_unit)
    assert not [item for item in due.due_for(new_principal, today=date(2026, 4, 1))
                if item.kind == "decide_closing_after_transfer"]

    closing = decisions.decide_close_plan(actor=old_principal, plan=old_plan, reason="pupil_leaves_unit",
                                          grounds="Eleven har bytt skola")
    old_plan.refresh_from_db()
    assert old_plan.status == Plan.Status.CLOSED and closing.close_reason == "pupil_leaves_unit" and closing.appealable
    assert not [item for item in due.due_for(old_principal, today=date(2026, 4, 1))
                if item.kind == "decide_closing_after_transfer"]

    # The new unit draws up its own ÅP from the existing investigation, and decides on it.
    new_plan = draft(se.actor("class_teacher", unit=se.other_unit), new_case, investigation=investigation)
    assert (new_plan.investigation, new_plan.previous, new_plan.case) == (investigation, None, new_case)
    adopted = decided(new_principal, new_plan).decisions.get()
    assert (adopted.case, adopted.decided_by, new_plan.status) == (new_case, new_principal.person, "active")

    # The whole history follows the pupil.
    assert set(pupil.cases.all()) == {case, new_case}
    assert set(Plan.objects.filter(case__pupil=pupil)) == {old_plan, new_plan}
    assert {(d.case_id, d.decision_type) for d in Decision.objects.filter(case__pupil=pupil)} == {
        (case.pk, "decide_level_2"), (case.pk, "decide_close_plan"), (new_case.pk, "decide_level_2")}
    assert list(pupil.investigations.all()) == [investigation]
    assert list(Plan.objects.filter(case__pupil=pupil, status=Plan.Status.CLOSED)) == [old_plan]  # the archive


def test_the_old_unit_starts_no_new_plan_for_a_pupil_who_has_left(se):
    principal, teacher = se.actor("principal"), se.actor("class_teacher")
    plan = decided(principal, draft(teacher, se.case()))
    plans.record_evaluation(actor=teacher, plan=plan, text="Delvis", evaluated_on=date(2026, 3, 16))
    cases.move_pupil(actor=principal, pupil=plan.case.pupil, to_unit=se.other_unit)

    with refused("not_at_unit"):
        decisions.continue_in_new_plan(actor=principal, plan=plan)
    with refused("not_at_unit"):  # plan.case still holds the pupil as it was before the move
        draft(teacher, plan.case)


def test_the_new_unit_cannot_start_from_another_pupils_investigation(se):
    moving, other = se.case(), se.case(se.pupil("Ture Annansson"))
    others_investigation = cases.request_investigation(actor=se.actor("special_teacher"), case=other)
    new_case = cases.move_pupil(actor=se.actor("principal"), pupil=moving.pupil, to_unit=se.other_unit)
    teacher = se.actor("class_teacher", unit=se.other_unit)
    with refused("other_pupil"):
        draft(teacher, new_case, investigation=others_investigation)


def test_only_a_principal_of_either_unit_records_a_move(se):
    pupil = se.pupil()
    third_unit = SchoolUnit.objects.create(organisation=se.organisation, name="Björkskolan")
    for actor in (se.actor("class_teacher"), se.actor("special_teacher"), se.actor("principal_delegate"),
                  se.actor("principal", unit=third_unit)):
        with refused("not_allowed:move_pupil", NotAllowed):
            cases.move_pupil(actor=actor, pupil=pupil, to_unit=se.other_unit)
    principal = se.actor("principal")
    with refused("same_unit"):
        cases.move_pupil(actor=principal, pupil=pupil, to_unit=se.unit)


# --- the archive ----------------------------------------------------------------------------------------


def archive_writes(school: School, plan: Plan) -> dict[str, Callable[[], object]]:
    """Every write that names a plan, by someone who could make it on a plan in force."""
    teacher, principal = school.actor("class_teacher"), school.actor("principal")
    pupil = school.pupil_actor(plan.case.pupil)
    return {
        "update_draft": lambda: plans.update_draft(actor=teacher, plan=plan, expected_version=plan.version,
                                                   needs=["Nytt behov"]),
        "add_follow_up": lambda: plans.add_follow_up(actor=teacher, plan=plan, text="Sent", held_on=date(2026, 4, 1)),
        "record_evaluation": lambda: plans.record_evaluation(actor=teacher, plan=plan, text="Igen",
                                                             evaluated_on=date(2026, 4, 1)),
        "record_hearing": lambda: plans.record_hearing(actor=principal, case=plan.case, plan=plan,
                                                       held_on=date(2026, 4, 1), pupil_heard=True,
                                                       guardians_heard=True, summary="Efteråt"),
        "add_own_view": lambda: plans.add_own_view(actor=pupil, case=plan.case, plan=plan, text="Min syn"),
        "record_guardian_view": lambda: plans.record_guardian_view(actor=teacher, case=plan.case, plan=plan,
                                                                   guardian_name="Elsas mamma", text="Hennes syn"),
        "decide_close_plan": lambda: decisions.decide_close_plan(actor=principal, plan=plan,
                                                                 reason="fresh_investigation_wanted", grounds="Igen"),
        "decide_new_plan": lambda: decisions.decide_new_plan(actor=principal, plan=plan, grounds="Igen"),
        "continue_in_new_plan": lambda: decisions.continue_in_new_plan(actor=principal, plan=plan),
        "decide": lambda: decisions.decide(actor=principal, case=plan.case, plan=plan,
                                           decision_type="decide_adapted_studies", grounds="Igen"),
    }


@pytest.mark.parametrize("write", ["update_draft", "add_follow_up", "record_evaluation", "record_hearing",
                                   "add_own_view", "record_guardian_view", "decide_close_plan", "decide_new_plan",
                                   "continue_in_new_plan", "decide"])
def test_a_closed_plan_is_read_only_everywhere(se, write):
    plan = closed(se)
    attempt = archive_writes(se, plan)[write]
    with refused("plan_closed"):
        attempt()


def test_a_closed_ip_gets_no_review(ax):
    principal = ax.actor("principal")
    plan = decided(principal, draft(ax.actor("special_teacher"), ax.case(), document="individual_plan"),
                   decider=ax.actor("education_chief"))
    decisions.decide_close_plan(actor=principal, plan=plan, reason="need_no_longer_remains", grounds="Klart")
    teacher = ax.actor("class_teacher")
    with refused("plan_closed"):
        plans.record_review(actor=teacher, plan=plan, grade=8, text="Granskning", held_on=date(2026, 6, 5))


def test_a_closed_plan_keeps_everything_it_said_and_nothing_is_deleted(se):
    plan = closed(se)
    assert plans.content(plan)["status"] == "closed"
    assert [n["text"] for n in history.as_of(plan, 1)["needs"]] == ["Läsförståelse"]
    assert plan.follow_ups.count() == 1 and plan.evaluation.text == "Målen nådda"
    assert [d.decision_type for d in plan.decisions.order_by("decided_at")] == ["decide_level_2", "decide_close_plan"]
    for row in (plan.case.pupil, plan.case, plan):
        with pytest.raises(ProtectedError):
            row.delete()
    for decision in plan.decisions.all():
        with pytest.raises(ValueError):
            decision.delete()


# --- concerns -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pack_id", ["se", "ax"])
def test_the_pupil_a_guardian_and_staff_raise_concerns(request, pack_id):
    school = request.getfixturevalue(pack_id)
    case = school.case()
    pupil, guardian = school.pupil_actor(case.pupil), school.guardian_actor(case.pupil)
    raisers = [pupil, guardian] + [school.actor(role) for role in STAFF]

    for actor in raisers:
        cases.raise_concern(actor=actor, case=case, text="Jag är orolig för läsningen")

    assert [(c.raised_by_id, c.raised_as, c.kind) for c in Concern.objects.filter(case=case).order_by("pk")] == [
        (actor.person.pk, role, Concern.Kind.CONCERN) for actor, role in zip(raisers, ("pupil", "guardian") + STAFF)]


def test_a_guardian_or_pupil_raises_concerns_only_about_their_own(se):
    case = se.case()
    someone_else = se.pupil("Ture Annansson")
    for actor in (se.guardian_actor(someone_else), se.pupil_actor(someone_else)):
        with refused("not_allowed:raise_concern", NotAllowed):
            cases.raise_concern(actor=actor, case=case, text="Om någon annans barn")


@pytest.mark.parametrize("role", ["organisation_admin", "it_admin", "communal_welfare_group_member"])
def test_admins_reach_no_pupil_to_raise_a_concern_about(se, role):
    case, admin = se.case(), se.actor(role)
    with refused("not_allowed:raise_concern", NotAllowed):
        cases.raise_concern(actor=admin, case=case, text="Oro")


def test_staff_of_another_unit_raise_no_concern_here(se):
    case, teacher = se.case(), se.actor("class_teacher", unit=se.other_unit)
    with refused("not_allowed:raise_concern", NotAllowed):
        cases.raise_concern(actor=teacher, case=case, text="Oro")


def test_a_concern_says_something(se):
    case, teacher = se.case(), se.actor("class_teacher")
    with refused("empty"):
        cases.raise_concern(actor=teacher, case=case, text=" ")


@pytest.mark.parametrize("role", STAFF + ("principal_delegate",))
def test_in_sweden_every_staff_role_reports_to_the_principal(se, role):
    case, actor = se.case(), se.actor(role)
    report = cases.report_to_principal(actor=actor, case=case, text="Eleven kan behöva särskilt stöd")
    assert (report.kind, report.raised_as, report.raised_by) == (Concern.Kind.REPORT_TO_PRINCIPAL, role, actor.person)


def test_pupils_and_guardians_raise_concerns_rather_than_report_to_the_principal(se):
    case = se.case()
    for actor in (se.pupil_actor(case.pupil), se.guardian_actor(case.pupil)):
        with refused("not_allowed:report_to_principal", NotAllowed):
            cases.report_to_principal(actor=actor, case=case, text="Anmälan")


def test_aland_has_no_report_to_the_principal(ax):
    case, teacher = ax.case(), ax.actor("class_teacher")
    with refused("not_allowed:report_to_principal", NotAllowed):
        cases.report_to_principal(actor=teacher, case=case, text="Anmälan")
