from datetime import date

from lti_plugin.support.services import decisions, plans
from lti_plugin.support.services.plans import MeasureInput


def test_se_plan_lifecycle_smoke(se):
    teacher, principal = se.actor("class_teacher"), se.actor("principal")
    case = se.case()
    plan = plans.draft_plan(actor=teacher, case=case, document="action_plan", needs=["Läsförståelse"],
                            measures=[MeasureInput("Läsning med stöd", teacher.person, date(2026, 1, 1), date(2026, 3, 1))])
    plans.record_hearing(actor=principal, case=case, plan=plan, held_on=date(2026, 1, 5), pupil_heard=True,
                         guardians_heard=True, summary="Hörda")
    decision = decisions.decide_new_plan(actor=principal, plan=plan, grounds="Behov finns")
    assert decision.decision_type == "decide_level_2"
    plans.add_follow_up(actor=teacher, plan=plan, text="Går bra", held_on=date(2026, 2, 1))
    plans.record_evaluation(actor=teacher, plan=plan, text="Mål delvis nådda", evaluated_on=date(2026, 3, 1))
    new = decisions.continue_in_new_plan(actor=principal, plan=plan)
    plans.record_hearing(actor=principal, case=case, plan=new, held_on=date(2026, 3, 5), pupil_heard=True,
                         guardians_heard=True, summary="Hörda igen")
    d2 = decisions.decide_new_plan(actor=principal, plan=new, grounds="Fortsatt behov")
    assert d2.decision_type == "decide_new_plan" and d2.appeal_text_sv
    plan.refresh_from_db()
    assert plan.status == "closed"
