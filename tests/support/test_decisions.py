"""Decisions: who takes them, what they carry, that they are never changed, and what follows the one
evaluation of an ÅP.

Seeds: unikum-atgardsprogram-uppfoljning (after the evaluation the principal decides: a new ÅP as an
editable copy, same investigation, which needs its own decision even if unchanged because ÅP
decisions are appealable; or closing, also appealable, for the reasons it lists),
ansvarsfordelning-stod-for-larande (Åland: the principal decides level 2, the education chief level
3). DESIGN.md: in `se` a named delegate may take ÅP decisions, never level-3 measures.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pytest
import time_machine

from lti_plugin.support import pack as packs
from lti_plugin.support.errors import NotAllowed, RuleBroken
from lti_plugin.support.models import Decision, Hearing, LevelChange, Plan
from lti_plugin.support.pack import get_pack
from lti_plugin.support.services import cases, decisions, plans
from lti_plugin.support.services.plans import MeasureInput

from .helpers import refused, rows

if TYPE_CHECKING:
    from lti_plugin.support.actor import Actor
    from lti_plugin.support.models import Case, Investigation
    from tests.support.conftest import School

# The seed's three reasons to close an ÅP.
SEED_CLOSE_REASONS = ("need_no_longer_remains", "fresh_investigation_wanted", "pupil_leaves_unit")


def draft(school: School, *, teacher: Actor | None = None, case: Case | None = None, document: str = "action_plan",
          investigation: Investigation | None = None) -> Plan:
    teacher = teacher or school.actor("special_teacher" if document == "individual_plan" else "class_teacher")
    helper = school.actor("special_teacher")
    return plans.draft_plan(
        actor=teacher, case=case or school.case(), document=document, investigation=investigation,
        needs=["Läsförståelse", "Ordförråd"],
        measures=[MeasureInput("Läsning med stöd", teacher.person, date(2026, 1, 12), date(2026, 3, 13)),
                  MeasureInput("Inläsningstjänst", helper.person, date(2026, 1, 19), date(2026, 4, 30))],
        follow_up_method="Varannan vecka", evaluation_method="Läsprov i mars")


def hear(principal: Actor, plan: Plan, *, pupil: bool = True, guardians: bool = True) -> Hearing:
    """The principal's hearing before a decision on `plan`."""
    return plans.record_hearing(actor=principal, case=plan.case, plan=plan, held_on=date(2026, 1, 8),
                                pupil_heard=pupil, guardians_heard=guardians, summary="Elev och vårdnadshavare hörda")


def hear_on_case(principal: Actor, case: Case) -> Hearing:
    """The principal's hearing before a decision on the case's level."""
    return plans.record_hearing(actor=principal, case=case, plan=None, held_on=date(2026, 1, 8), pupil_heard=True,
                                guardians_heard=True, summary="Elev och vårdnadshavare hörda")


def in_force(school: School, principal: Actor | None = None, *, case: Case | None = None,
             investigation: Investigation | None = None) -> Plan:
    plan = draft(school, case=case, investigation=investigation)
    principal = principal or school.actor("principal")
    hear(principal, plan)
    decisions.decide_new_plan(actor=principal, plan=plan, grounds="Utredningen visar behov av särskilt stöd")
    plan.refresh_from_db()
    return plan


def evaluated(school: School, principal: Actor | None = None, *, case: Case | None = None,
              investigation: Investigation | None = None) -> Plan:
    plan = in_force(school, principal, case=case, investigation=investigation)
    plans.record_evaluation(actor=school.actor("class_teacher"), plan=plan, text="Målen delvis nådda",
                            evaluated_on=date(2026, 3, 16))
    plan.refresh_from_db()
    return plan


def content(plan: Plan) -> tuple[list[str], list[tuple[str, int, date, date]]]:
    return ([need.text for need in plan.needs.order_by("order")],
            [(m.text, m.responsible_id, m.starts_on, m.ends_on) for m in plan.measures.order_by("order")])


# --- what a decision carries --------------------------------------------------------------------------


def test_a_decision_says_who_decided_as_what_when_why_under_which_pack_and_how_to_appeal(se):
    principal = se.actor("principal")
    plan = draft(se)
    hearing = hear(principal, plan)
    with time_machine.travel(datetime(2026, 1, 9, 10, 30, tzinfo=UTC), tick=False):
        decision = decisions.decide_new_plan(actor=principal, plan=plan, grounds="Utredningen visar behov")

    decision.refresh_from_db()
    assert (decision.decided_by, decision.decided_as) == (principal.person, "principal")
    assert decision.decided_at == datetime(2026, 1, 9, 10, 30, tzinfo=UTC)
    assert decision.grounds == "Utredningen visar behov"
    assert (decision.case, decision.plan, decision.hearing) == (plan.case, plan, hearing)
    assert (decision.pack_id, decision.pack_version) == ("se", get_pack("se").version)
    assert decision.appealable
    # DESIGN.md: to Skolväsendets överklagandenämnd, in writing, via the school owner, within 3 weeks.
    assert "Skolväsendets överklagandenämnd" in decision.appeal_text_sv and "tre veckor" in decision.appeal_text_sv
    assert "in writing" in decision.appeal_text_en and "three weeks" in decision.appeal_text_en


def test_a_decision_is_never_changed_nor_deleted(se):
    plan = in_force(se)
    decision = Decision.objects.get(plan=plan)
    before = rows()

    decision.grounds = "Något annat"
    with pytest.raises(ValueError, match="immutable"):
        decision.save()
    with pytest.raises(ValueError, match="never deleted"):
        decision.delete()

    assert Decision.objects.get(pk=decision.pk).grounds == "Utredningen visar behov av särskilt stöd"
    assert rows() == before


def test_a_correction_is_a_new_decision_that_points_at_the_old(se):
    principal = se.actor("principal")
    plan = in_force(se, principal=principal)
    old = Decision.objects.get(plan=plan)

    correction = decisions.correct_decision(actor=principal, decision=old, grounds="Rättelse: fel datum i underlaget")

    assert correction.pk != old.pk and correction.corrects == old
    assert list(old.corrections.all()) == [correction]
    assert (correction.decision_type, correction.plan, correction.outcome) == (old.decision_type, plan, old.outcome)
    assert correction.appealable and correction.appeal_text_sv
    old.refresh_from_db()
    assert old.grounds == "Utredningen visar behov av särskilt stöd" and old.corrects is None


def test_only_a_decider_corrects_a_decision(se):
    plan = in_force(se)
    old = Decision.objects.get(plan=plan)
    teacher = se.actor("class_teacher")
    with refused("not_allowed:decide_level_2", NotAllowed):
        decisions.correct_decision(actor=teacher, decision=old, grounds="Jag vill ändra")


# --- the hearing comes first --------------------------------------------------------------------------


def test_no_decision_on_an_action_plan_without_a_recorded_hearing(se):
    plan, principal = draft(se), se.actor("principal")
    with refused("hearing_missing"):
        decisions.decide_new_plan(actor=principal, plan=plan, grounds="Behov finns")
    plan.refresh_from_db()
    assert plan.status == Plan.Status.DRAFT


@pytest.mark.parametrize(("pupil", "guardians"), [(True, False), (False, True), (False, False)])
def test_a_hearing_where_someone_was_not_heard_does_not_count(se, pupil, guardians):
    plan, principal = draft(se), se.actor("principal")
    hear(principal, plan, pupil=pupil, guardians=guardians)
    with refused("hearing_missing"):
        decisions.decide_new_plan(actor=principal, plan=plan, grounds="Behov finns")


def test_a_hearing_on_another_plan_does_not_count(se):
    principal = se.actor("principal")
    first = draft(se)
    hear(principal, first)
    second = draft(se, case=first.case)
    with refused("hearing_missing"):
        decisions.decide_new_plan(actor=principal, plan=second, grounds="Behov finns")


def test_no_ip_is_adopted_without_a_hearing(ax):
    plan, chief = draft(ax, document="individual_plan"), ax.actor("education_chief")
    with refused("hearing_missing"):
        decisions.decide_new_plan(actor=chief, plan=plan, grounds="Behov av mångprofessionellt stöd")
    hear(ax.actor("principal"), plan, guardians=False)
    with refused("hearing_missing"):
        decisions.decide_new_plan(actor=chief, plan=plan, grounds="Behov av mångprofessionellt stöd")


def test_the_aland_level_2_decision_needs_the_parties_heard(ax):
    case, principal = ax.case(), ax.actor("principal")
    with refused("hearing_missing"):
        decisions.decide_level(actor=principal, case=case, decision_type="decide_level_2", grounds="Bedömningen")


# --- after the one evaluation: a new plan ---------------------------------------------------------------


def test_continuing_makes_an_editable_copy_and_the_old_plan_stays_in_force_until_the_copy_is_decided(se):
    principal, special_teacher = se.actor("principal"), se.actor("special_teacher")
    case = se.case()
    investigation = cases.request_investigation(actor=special_teacher, case=case)
    old = evaluated(se, principal=principal, case=case, investigation=investigation)

    copy = decisions.continue_in_new_plan(actor=principal, plan=old)

    assert (copy.status, copy.previous, copy.investigation, copy.case) == ("draft", old, investigation, case)
    assert content(copy) == content(old)
    assert (copy.follow_up_method, copy.evaluation_method) == (old.follow_up_method, old.evaluation_method)
    old.refresh_from_db()
    assert old.status == Plan.Status.ACTIVE  # support goes on until the new plan is decided

    # Editable: one measure changes hands (the seed's "person som står som ansvarig ... ändras").
    decided_content = content(old)
    teacher = se.actor("class_teacher")
    plans.update_draft(actor=teacher, plan=copy, expected_version=copy.version,
                       measures=[MeasureInput("Läsning med stöd", special_teacher.person, date(2026, 3, 23),
                                              date(2026, 6, 12))])
    assert content(copy)[1] == [("Läsning med stöd", special_teacher.person.pk, date(2026, 3, 23), date(2026, 6, 12))]
    assert content(old) == decided_content  # the plan in force keeps what was decided

    hear(principal, copy)
    decision = decisions.decide_new_plan(actor=principal, plan=copy, grounds="Fortsatt behov")

    old.refresh_from_db()
    copy.refresh_from_db()
    assert (old.status, copy.status) == (Plan.Status.CLOSED, Plan.Status.ACTIVE)
    assert old.closed_at is not None and copy.activated_at is not None
    assert list(case.plans.filter(status="active")) == [copy]
    assert decision.decision_type == "decide_new_plan" and decision.plan == copy


def test_an_unchanged_copy_still_needs_its_own_appealable_decision(se):
    principal = se.actor("principal")
    old = evaluated(se, principal=principal)
    copy = decisions.continue_in_new_plan(actor=principal, plan=old)

    # Not in force by being a copy: no follow-ups, and the old hearing does not carry over.
    teacher = se.actor("class_teacher")
    with refused("plan_not_active"):
        plans.add_follow_up(actor=teacher, plan=copy, text="Går bra", held_on=date(2026, 3, 20))
    with refused("hearing_missing"):
        decisions.decide_new_plan(actor=principal, plan=copy, grounds="Samma som förut")

    hear(principal, copy)
    decision = decisions.decide_new_plan(actor=principal, plan=copy, grounds="Samma som förut")
    assert decision.decision_type == "decide_new_plan"
    assert decision.appealable
    assert decision.appeal_text_sv and decision.appeal_text_en and decision.appeal_text_sv != decision.appeal_text_en
    assert (decision.appeal_text_sv, decision.appeal_text_en) == (
        get_pack("se").appeal_text("decide_new_plan", "sv"), get_pack("se").appeal_text("decide_new_plan", "en"))


def test_no_new_plan_before_the_evaluation(se):
    plan, principal = in_force(se), se.actor("principal")
    with refused("not_evaluated"):
        decisions.continue_in_new_plan(actor=principal, plan=plan)


def test_a_plan_is_continued_once(se):
    principal = se.actor("principal")
    plan = evaluated(se, principal=principal)
    decisions.continue_in_new_plan(actor=principal, plan=plan)
    with refused("already_continued"):
        decisions.continue_in_new_plan(actor=principal, plan=plan)


def test_a_second_fresh_plan_does_not_displace_the_one_in_force(se):
    """Only a copy made through continue_in_new_plan replaces a plan in force; a fresh draft next to it
    is refused at the decision instead of failing on the database's one-active-plan constraint."""
    principal = se.actor("principal")
    first = in_force(se, principal=principal)
    second = draft(se, case=first.case)
    hear(principal, second)
    with refused("plan_in_force"):
        decisions.decide_new_plan(actor=principal, plan=second, grounds="Ett till")


# --- after the one evaluation: closing ------------------------------------------------------------------


def test_the_packs_give_the_seeds_reasons_to_close():
    assert set(get_pack("se").close_reasons) == set(SEED_CLOSE_REASONS)
    assert set(get_pack("ax").close_reasons) == set(SEED_CLOSE_REASONS)


@pytest.mark.parametrize("pack_id", ["se", "ax"])
@pytest.mark.parametrize("reason", SEED_CLOSE_REASONS)
def test_closing_is_an_appealable_decision_for_each_reason(request, pack_id, reason):
    school = request.getfixturevalue(pack_id)
    principal = school.actor("principal")
    plan = evaluated(school, principal=principal)

    decision = decisions.decide_close_plan(actor=principal, plan=plan, reason=reason, grounds="Se utvärderingen")

    plan.refresh_from_db()
    assert plan.status == Plan.Status.CLOSED and plan.closed_at is not None
    assert (decision.decision_type, decision.outcome, decision.close_reason) == ("decide_close_plan", "closed", reason)
    assert (decision.plan, decision.decided_as, decision.pack_id) == (plan, "principal", pack_id)
    assert decision.appealable and decision.appeal_text_sv and decision.appeal_text_en
    assert plan.revisions.order_by("-version").first().change == f"closed: {reason}"


def test_an_unknown_reason_to_close_is_refused(se):
    plan, principal = evaluated(se), se.actor("principal")
    with refused("bad_close_reason"):
        decisions.decide_close_plan(actor=principal, plan=plan, reason="principal_felt_like_it", grounds="Därför")
    plan.refresh_from_db()
    assert plan.status == Plan.Status.ACTIVE


def test_a_draft_is_not_closed_but_left_undecided(se):
    plan, principal = draft(se), se.actor("principal")
    with refused("plan_not_active"):
        decisions.decide_close_plan(actor=principal, plan=plan, reason="need_no_longer_remains", grounds="Inget behov")


# --- who decides: Sweden ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["class_teacher", "subject_teacher", "special_teacher", "health_team_member"])
def test_in_sweden_teachers_and_the_health_team_do_not_decide(se, role):
    principal = se.actor("principal")
    first = draft(se)
    hear(principal, first)
    evaluated_plan = evaluated(se, principal=principal)
    actor = se.actor(role)

    with refused("not_allowed:decide_level_2", NotAllowed):
        decisions.decide_new_plan(actor=actor, plan=first, grounds="Behov finns")
    with refused("not_allowed:decide_new_plan", NotAllowed):
        decisions.continue_in_new_plan(actor=actor, plan=evaluated_plan)
    with refused("not_allowed:decide_close_plan", NotAllowed):
        decisions.decide_close_plan(actor=actor, plan=evaluated_plan, reason="need_no_longer_remains", grounds="Klart")
    with refused("not_allowed:decide_special_group", NotAllowed):
        decisions.decide(actor=actor, case=first.case, decision_type="decide_special_group", grounds="Behov",
                         outcome="special_teaching_group")


def test_in_sweden_the_named_delegate_takes_action_plan_decisions(se):
    principal, delegate = se.actor("principal"), se.actor("principal_delegate")
    first = draft(se)
    hear(principal, first)
    adopted = decisions.decide_new_plan(actor=delegate, plan=first, grounds="Behov finns")
    assert (adopted.decision_type, adopted.decided_as, adopted.decided_by) == (
        "decide_level_2", "principal_delegate", delegate.person)

    plans.record_evaluation(actor=se.actor("class_teacher"), plan=first, text="Delvis", evaluated_on=date(2026, 3, 16))
    copy = decisions.continue_in_new_plan(actor=delegate, plan=first)
    hear(principal, copy)
    continued = decisions.decide_new_plan(actor=delegate, plan=copy, grounds="Fortsatt behov")
    assert (continued.decision_type, continued.decided_as) == ("decide_new_plan", "principal_delegate")

    plans.record_evaluation(actor=se.actor("class_teacher"), plan=copy, text="Nått", evaluated_on=date(2026, 6, 1))
    closed = decisions.decide_close_plan(actor=delegate, plan=copy, reason="need_no_longer_remains", grounds="Klart")
    assert (closed.decision_type, closed.decided_as) == ("decide_close_plan", "principal_delegate")

    not_drawn_up = decisions.decide_not_to_draw_up_plan(actor=delegate, case=se.case(), grounds="Inget behov")
    assert not_drawn_up.decided_as == "principal_delegate" and not_drawn_up.appealable


@pytest.mark.parametrize(("decision_type", "outcome"), [("decide_special_group", "special_teaching_group"),
                                                         ("decide_special_group", "individual_teaching"),
                                                         ("decide_adapted_studies", "")])
def test_level_3_measures_are_the_principals_alone_never_a_delegates(se, decision_type, outcome):
    case, delegate, principal = se.case(), se.actor("principal_delegate"), se.actor("principal")
    with refused(f"not_allowed:{decision_type}", NotAllowed):
        decisions.decide(actor=delegate, case=case, decision_type=decision_type, grounds="Behov", outcome=outcome)

    decision = decisions.decide(actor=principal, case=case, decision_type=decision_type, grounds="Behov",
                                outcome=outcome)
    case.refresh_from_db()
    assert (decision.decided_as, decision.outcome, decision.appealable) == (
        "principal", outcome or "special_measures", True)
    assert case.level == "special_measures"
    assert LevelChange.objects.filter(case=case, to_level="special_measures", decision=decision).exists()


def test_a_level_3_measure_says_which_measure_was_decided(se):
    case, principal = se.case(), se.actor("principal")
    for outcome in ("", "boarding_school"):
        with refused("option_missing"):
            decisions.decide(actor=principal, case=case, decision_type="decide_special_group", grounds="Behov",
                             outcome=outcome)


def test_a_principal_of_another_unit_does_not_decide_here(se):
    plan = draft(se)
    hear(se.actor("principal"), plan)
    elsewhere = se.actor("principal", unit=se.other_unit)
    with refused("not_allowed:decide_level_2", NotAllowed):
        decisions.decide_new_plan(actor=elsewhere, plan=plan, grounds="Behov finns")


def test_a_decision_on_a_plan_is_about_that_plans_case(se):
    theirs = in_force(se)
    mine, principal = se.case(), se.actor("principal")
    with refused("other_case"):
        decisions.decide(actor=principal, case=mine, plan=theirs, decision_type="decide_adapted_studies",
                         grounds="Fel plan")


def test_unknown_decisions_and_decisions_that_set_no_level(se):
    case, principal = se.case(), se.actor("principal")
    with refused("unknown_decision"):
        decisions.decide(actor=principal, case=case, decision_type="decide_level_3", grounds="Finns inte i Sverige")
    with refused("not_a_level_decision"):
        decisions.decide_level(actor=principal, case=case, decision_type="decide_close_plan", grounds="Ingen nivå")


# --- who decides: Åland ---------------------------------------------------------------------------------


def test_in_aland_the_principal_decides_level_2_but_not_level_3(ax):
    case, principal = ax.case(), ax.actor("principal")
    hear_on_case(principal, case)
    decision = decisions.decide_level(actor=principal, case=case, decision_type="decide_level_2",
                                      grounds="Den pedagogiska bedömningen visar behov")
    case.refresh_from_db()
    assert (decision.decided_as, case.level) == ("principal", "special_needs_support")

    with refused("not_allowed:decide_level_3", NotAllowed):
        decisions.decide_level(actor=principal, case=case, decision_type="decide_level_3", grounds="Mer stöd")


def test_in_aland_the_education_chief_decides_level_3_and_not_level_2(ax):
    case, chief = ax.case(), ax.actor("education_chief")
    hear_on_case(ax.actor("principal"), case)
    with refused("not_allowed:decide_level_2", NotAllowed):
        decisions.decide_level(actor=chief, case=case, decision_type="decide_level_2", grounds="Bedömningen")

    decision = decisions.decide_level(actor=chief, case=case, decision_type="decide_level_3",
                                      grounds="Utredningen visar behov av mångprofessionellt stöd")
    case.refresh_from_db()
    assert (decision.decided_as, decision.decided_by, case.level) == (
        "education_chief", chief.person, "multiprofessional_support")
    assert decision.appealable and decision.appeal_text_sv and decision.appeal_text_en


def test_in_aland_the_education_chief_adopts_the_ip_and_the_principal_cannot(ax):
    principal, chief = ax.actor("principal"), ax.actor("education_chief")
    plan = draft(ax, document="individual_plan")
    hear(principal, plan)
    with refused("not_allowed:decide_level_3", NotAllowed):
        decisions.decide_new_plan(actor=principal, plan=plan, grounds="Behov av mångprofessionellt stöd")

    decision = decisions.decide_new_plan(actor=chief, plan=plan, grounds="Behov av mångprofessionellt stöd")

    plan.refresh_from_db()
    plan.case.refresh_from_db()
    assert (decision.decision_type, decision.decided_as, decision.plan) == ("decide_level_3", "education_chief", plan)
    assert plan.status == Plan.Status.ACTIVE and plan.case.level == "multiprofessional_support"


def test_in_aland_the_review_outcome_is_the_education_chiefs(ax):
    case = ax.case()
    hear_on_case(ax.actor("principal"), case)
    principal, chief = ax.actor("principal"), ax.actor("education_chief")
    with refused("not_allowed:decide_review_outcome", NotAllowed):
        decisions.decide(actor=principal, case=case, decision_type="decide_review_outcome", grounds="Granskat")
    decision = decisions.decide(actor=chief, case=case, decision_type="decide_review_outcome", grounds="Granskat",
                                to_level="multiprofessional_support")
    case.refresh_from_db()
    assert (decision.decided_as, case.level) == ("education_chief", "multiprofessional_support")


def test_aland_has_no_delegate_for_plan_decisions(ax):
    plan = draft(ax)
    hear(ax.actor("principal"), plan)
    delegate = ax.actor("principal_delegate")
    with refused("not_allowed:decide_level_2", NotAllowed):
        decisions.decide_new_plan(actor=delegate, plan=plan, grounds="Behov finns")


# --- the pack version a case and a decision were made under ----------------------------------------


@pytest.fixture
def new_pack_version(tmp_path) -> Iterator[Callable[[str, str], None]]:
    """Ship a new version of a pack (the law changed): a copy of its file with another version."""
    shipped = packs.PACKS_DIR

    def ship(pack_id: str, version: str) -> None:
        text = (shipped / f"{pack_id}.toml").read_text(encoding="utf-8")
        (tmp_path / f"{pack_id}.toml").write_text(
            re.sub(r'^version = ".*"$', f'version = "{version}"', text, count=1, flags=re.M), encoding="utf-8")
        packs.PACKS_DIR = tmp_path
        packs.available_packs.cache_clear()
        packs.get_pack.cache_clear()

    yield ship
    packs.PACKS_DIR = shipped
    packs.available_packs.cache_clear()
    packs.get_pack.cache_clear()


def test_a_case_and_a_decision_keep_the_pack_version_they_were_made_under(se, new_pack_version):
    was = get_pack("se").version
    principal = se.actor("principal")
    plan = evaluated(se, principal=principal)
    old_case, old_decision = plan.case, Decision.objects.get(plan=plan)

    new_pack_version("se", "2026-07-01")
    assert get_pack("se").version == "2026-07-01"
    closing = decisions.decide_close_plan(actor=principal, plan=plan, reason="need_no_longer_remains", grounds="Klart")
    new_case = se.case()

    old_case.refresh_from_db()
    old_decision.refresh_from_db()
    plan.refresh_from_db()
    assert (old_case.pack_id, old_case.pack_version) == ("se", was)
    assert (old_decision.pack_id, old_decision.pack_version) == ("se", was)
    assert plan.pack_version == was
    assert (closing.pack_id, closing.pack_version) == ("se", "2026-07-01")  # decided under the new text
    assert new_case.pack_version == "2026-07-01"
