"""How a drafted plan comes into force: with the decision the pack names, or with none where it needs none."""

from __future__ import annotations

from datetime import date

import pytest

from lti_plugin.support.errors import NotAllowed, RuleBroken
from lti_plugin.support.models import Decision, LevelChange
from lti_plugin.support.services import decisions, plans
from lti_plugin.support.services.plans import MeasureInput

from .conftest import make_school


def draft(school, case, document, by):
    return plans.draft_plan(actor=by, case=case, document=document, needs=["Läsförståelse"],
                            measures=[MeasureInput("Lässtöd", by.person, date(2026, 1, 1), date(2026, 5, 1))])


def test_an_aland_action_plan_at_general_support_is_put_in_force_by_the_class_teacher(ax):
    teacher = ax.actor("class_teacher")
    case = ax.case()
    plan = draft(ax, case, "action_plan", teacher)
    plans_before = Decision.objects.count()

    decisions.put_in_force(actor=teacher, plan=plan)

    plan.refresh_from_db()
    case.refresh_from_db()
    assert plan.status == "active" and case.level == "general_support"
    assert Decision.objects.count() == plans_before  # no decision: allmänpedagogiskt stöd needs none


def test_a_swedish_action_plan_needs_the_principals_decision(se):
    teacher = se.actor("class_teacher")
    plan = draft(se, se.case(), "action_plan", teacher)
    with pytest.raises(RuleBroken) as refused:
        decisions.put_in_force(actor=teacher, plan=plan)
    assert refused.value.code == "decision_needed"
    plan.refresh_from_db()
    assert plan.status == "draft"


def test_a_finnish_learning_plan_comes_into_force_without_a_decision_and_raises_the_level(db):
    school = make_school("fi-2010")
    teacher = school.actor("class_teacher")
    case = school.case()
    plan = draft(school, case, "learning_plan", teacher)
    with pytest.raises(RuleBroken) as refused:
        decisions.decide_new_plan(actor=school.actor("principal"), plan=plan, grounds="-")
    assert refused.value.code == "no_decision_needed"

    decisions.put_in_force(actor=teacher, plan=plan)

    case.refresh_from_db()
    assert case.level == "intensified_support"
    assert LevelChange.objects.get(case=case).decision is None


def test_only_those_who_draft_the_plan_put_it_in_force(ax):
    plan = draft(ax, ax.case(), "action_plan", ax.actor("class_teacher"))
    with pytest.raises(NotAllowed):
        decisions.put_in_force(actor=ax.actor("principal"), plan=plan)


def test_a_finnish_support_decision_sets_the_level_the_decider_chooses(db):
    school = make_school("fi-2025")
    case = school.case()
    principal = school.actor("principal")
    with pytest.raises(RuleBroken) as refused:
        decisions.decide(actor=principal, case=case, decision_type="decide_support", grounds="Behov",
                         to_level="group_support_typo")
    assert refused.value.code == "level_choice_missing"
    plans.record_hearing(actor=principal, case=case, plan=None, held_on=date(2026, 2, 1), pupil_heard=True,
                         guardians_heard=True, summary="Eleven och vårdnadshavarna hörda")
    decisions.decide(actor=principal, case=case, decision_type="decide_support", grounds="Behov",
                     to_level="pupil_specific_support")
    case.refresh_from_db()
    assert case.level == "pupil_specific_support"


def test_decisions_and_the_audit_trail_refuse_bulk_changes_and_deletion(se):
    from lti_plugin.support.models import AuditEntry

    case = se.case()
    principal = se.actor("principal")
    decision = decisions.decide_not_to_draw_up_plan(actor=principal, case=case, grounds="Utredningen visar inget behov")
    for queryset in (Decision.objects.filter(pk=decision.pk), AuditEntry.objects.all()):
        with pytest.raises(ValueError):
            queryset.update(grounds="ändrat") if queryset.model is Decision else queryset.update(action="x")
        with pytest.raises(ValueError):
            queryset.delete()
    decision.refresh_from_db()
    assert decision.grounds == "Utredningen visar inget behov"
    assert AuditEntry.objects.filter(action="decision.decide_not_to_draw_up_plan").count() == 1
