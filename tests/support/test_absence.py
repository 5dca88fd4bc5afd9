"""The absence ladder (Danderyd's åtgärdstrappan) and reports of concern to social services.

Steps 1–3 and their starting points come from the pack (DESIGN.md's table), step 4 from the seed
shared/seeds/atgardstrappan-steg-4.txt. Each test tries to break one rule and checks the refusal's
code and that nothing was written.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine

from lti_plugin.support.errors import NotAllowed, RuleBroken
from lti_plugin.support.models import (
    AbsenceCheck,
    AbsenceFollowUp,
    AbsenceRecord,
    Adaptation,
    AuditEntry,
    SocialServicesReport,
)
from lti_plugin.support.pack import get_absence_ladder
from lti_plugin.support.services import absence, cases
from lti_plugin.support.services.due import due_for
from tests.support.conftest import make_school

LADDER = get_absence_ladder("absence-danderyd")
START = date(2026, 3, 2)  # a Monday
REASON = "Frånvaron har ökat snabbt och eleven har slutat svara mentor."


def wait(step: int) -> timedelta:
    """How long the pack says the previous step runs before `step`'s starting point is met."""
    return timedelta(days=LADDER.step(step).trigger.after_previous_step_days)


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, tzinfo=timezone.utc)


def written(case) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    """Everything the ladder writes for a case, counted: a refusal leaves all of it unchanged."""
    return (AbsenceRecord.objects.filter(case=case).count(), AbsenceCheck.objects.filter(record__case=case).count(),
            AbsenceFollowUp.objects.filter(record__case=case).count(), AuditEntry.objects.count())


def climb(school, case, to_step: int, *, on: date = START) -> AbsenceRecord:  # type: ignore[no-untyped-def]
    """The principal starts steps 1..to_step on one day (early, with a reason): the quickest way up."""
    principal = school.actor("principal")
    record = None
    for number in range(1, to_step + 1):
        record = absence.start_absence_step(actor=principal, case=case, step=number, started_on=on,
                                            early_reason=REASON)
    assert record is not None
    return record


def climb_on_time(school, case) -> list[AbsenceRecord]:  # type: ignore[no-untyped-def]
    """The class teacher climbs to step 4 as the starting points are met, one after the other."""
    teacher = school.actor("class_teacher")
    figures = {2: {"absence_without_explained_cause": True}, 3: {"absence_percent": 22},
               4: {"previous_step_effective": False}}
    day, records = START, []
    for number in range(1, 5):
        if number > 1:
            day += wait(number)
        records.append(absence.start_absence_step(actor=teacher, case=case, step=number, started_on=day,
                                                  metrics=figures.get(number)))
    return records


# --- climbing the ladder -----------------------------------------------------------------------------


def test_the_ladder_starts_at_step_one(se):
    teacher, case = se.actor("class_teacher"), se.case()
    before = written(case)
    with pytest.raises(RuleBroken) as refused:
        absence.start_absence_step(actor=teacher, case=case, step=2, started_on=START)
    assert refused.value.code == "step_out_of_order"
    assert written(case) == before


@pytest.mark.parametrize("step", [1, 3, 4])
def test_after_step_one_only_step_two_comes_next(se, step):
    teacher, case = se.actor("class_teacher"), se.case()
    first = absence.start_absence_step(actor=teacher, case=case, step=1, started_on=START)
    before = written(case)
    with pytest.raises(RuleBroken) as refused:
        absence.start_absence_step(actor=se.actor("principal"), case=case, step=step, started_on=START + wait(2),
                                   early_reason=REASON)
    assert refused.value.code == "step_out_of_order"
    assert written(case) == before
    first.refresh_from_db()
    assert first.ended_on is None


def test_class_teacher_starts_step_one(se):
    teacher, case = se.actor("class_teacher"), se.case()
    record = absence.start_absence_step(actor=teacher, case=case, step=1, started_on=START)
    assert (record.step, record.started_on, record.started_by, record.early_reason) == (1, START, teacher.person, "")
    assert record.ladder_id == "absence-danderyd"
    assert AuditEntry.objects.filter(action="absence.step_started", object_ids=[record.pk]).count() == 1


@pytest.mark.parametrize("role", ["subject_teacher", "special_teacher", "education_chief", "it_admin",
                                  "organisation_admin"])
def test_roles_outside_the_matrix_start_no_step(ax, role):
    case = ax.case()
    before = written(case)
    with pytest.raises(NotAllowed):
        absence.start_absence_step(actor=ax.actor(role), case=case, step=1, started_on=START)
    assert written(case) == before


def test_pupil_and_guardian_start_no_step(se):
    pupil = se.pupil()
    case = se.case(pupil)
    before = written(case)
    for actor in (se.pupil_actor(pupil), se.guardian_actor(pupil)):
        with pytest.raises(NotAllowed):
            absence.start_absence_step(actor=actor, case=case, step=1, started_on=START)
    assert written(case) == before


def test_class_teacher_of_another_unit_starts_no_step(se):
    case = se.case()
    with pytest.raises(NotAllowed):
        absence.start_absence_step(actor=se.actor("class_teacher", unit=se.other_unit), case=case, step=1,
                                   started_on=START)
    assert not AbsenceRecord.objects.exists()


# --- proposals: the next step's starting point ---------------------------------------------------------


def test_danderyd_waits_are_the_pack_s():
    # DESIGN.md: step 2 "2 more weeks", step 3 "2 weeks after step 2"; seed: step 4 "efter tre veckor".
    assert [LADDER.step(n).trigger.after_previous_step_days for n in (2, 3, 4)] == [14, 14, 21]


def test_step_one_is_proposed_with_no_step_yet(se):
    proposed = absence.proposal(se.case(), today=START)
    assert proposed is not None and proposed.step.number == 1 and proposed.met
    refused = absence.proposal(se.case(), today=START, metrics={"unreported_absences": 0,
                                                                 "recurring_reported_absence_weeks": 2})
    assert refused is not None and not refused.met


@pytest.mark.parametrize("step", [2, 3, 4])
def test_next_step_is_proposed_once_the_previous_step_has_run_its_time(se, step):
    case = se.case()
    previous = climb(se, case, step - 1)
    due = previous.started_on + wait(step)
    early = absence.proposal(case, today=due - timedelta(days=1))
    assert early is not None and early.step.number == step and not early.met and early.since == due
    on_time = absence.proposal(case, today=due)
    assert on_time is not None and on_time.met and on_time.since == due
    assert absence.proposal(case, today=due + timedelta(days=30)).met  # type: ignore[union-attr]


@pytest.mark.parametrize(("percent", "met"), [(0, False), (14, False), (14.9, False), (15, True), (40, True)])
def test_step_three_needs_at_least_15_percent_absence(se, percent, met):
    case = se.case()
    step_2 = climb(se, case, 2)
    day = step_2.started_on + wait(3)
    assert absence.proposal(case, today=day, metrics={"absence_percent": percent}).met is met  # type: ignore[union-attr]


def test_step_three_is_not_proposed_early_however_high_the_absence(se):
    case = se.case()
    step_2 = climb(se, case, 2)
    day = step_2.started_on + wait(3) - timedelta(days=1)
    assert not absence.proposal(case, today=day, metrics={"absence_percent": 90}).met  # type: ignore[union-attr]


def test_step_two_needs_absence_without_explained_cause(se):
    case = se.case()
    step_1 = climb(se, case, 1)
    day = step_1.started_on + wait(2)
    assert not absence.proposal(case, today=day, metrics={"absence_without_explained_cause": False}).met  # type: ignore[union-attr]
    assert absence.proposal(case, today=day, metrics={"absence_without_explained_cause": True}).met  # type: ignore[union-attr]


def test_step_four_is_proposed_when_step_three_gave_no_result_after_three_weeks(se):
    case = se.case()
    step_3 = climb(se, case, 3)
    day = step_3.started_on + wait(4)
    assert not absence.proposal(case, today=day, metrics={"previous_step_effective": True}).met  # type: ignore[union-attr]
    assert absence.proposal(case, today=day, metrics={"previous_step_effective": False}).met  # type: ignore[union-attr]


def test_nothing_is_proposed_after_the_last_step(se):
    case = se.case()
    climb(se, case, 4)
    assert absence.proposal(case, today=START + timedelta(days=365)) is None
    before = written(case)
    with pytest.raises(RuleBroken) as refused:
        absence.start_absence_step(actor=se.actor("principal"), case=case, step=5, started_on=START,
                                   early_reason=REASON)
    assert refused.value.code == "last_step"
    assert written(case) == before


def test_class_teacher_climbs_as_the_starting_points_are_met(se):
    case = se.case()
    records = climb_on_time(se, case)
    assert [r.step for r in records] == [1, 2, 3, 4]
    assert all(r.early_reason == "" for r in records)
    for record, following in zip(records, records[1:], strict=False):
        record.refresh_from_db()
        assert record.ended_on == following.started_on
    assert absence.current_record(case) == records[-1]


# --- starting early ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["class_teacher", "health_team_member"])
def test_only_the_principal_starts_a_step_early(se, role):
    case = se.case()
    step_1 = climb(se, case, 1)
    before = written(case)
    with pytest.raises(NotAllowed) as refused:
        absence.start_absence_step(actor=se.actor(role), case=case, step=2, started_on=START + timedelta(days=5),
                                   early_reason=REASON)
    assert refused.value.code == "not_allowed:start_absence_step_early"
    assert written(case) == before
    step_1.refresh_from_db()
    assert step_1.ended_on is None


def test_class_teacher_cannot_start_step_three_below_15_percent(se):
    case = se.case()
    step_2 = climb(se, case, 2)
    before = written(case)
    with pytest.raises(NotAllowed):
        absence.start_absence_step(actor=se.actor("class_teacher"), case=case, step=3,
                                   started_on=step_2.started_on + wait(3), metrics={"absence_percent": 10})
    assert written(case) == before


def test_a_start_date_ahead_does_not_make_the_starting_point_met(se):
    # Refused: a class teacher who dates step 2 two weeks ahead would otherwise pass the time rule today.
    teacher, case = se.actor("class_teacher"), se.case()
    with time_machine.travel(noon(START), tick=False):
        absence.start_absence_step(actor=teacher, case=case, step=1, started_on=START)
    before = written(case)
    with time_machine.travel(noon(START + timedelta(days=5)), tick=False), pytest.raises(RuleBroken) as refused:
        absence.start_absence_step(actor=teacher, case=case, step=2, started_on=START + wait(2))
    assert refused.value.code == "future_date"
    assert written(case) == before


def test_a_step_cannot_start_before_the_step_before_it(se):
    case = se.case()
    climb(se, case, 1)
    before = written(case)
    with pytest.raises(RuleBroken) as refused:
        absence.start_absence_step(actor=se.actor("principal"), case=case, step=2,
                                   started_on=START - timedelta(days=1), early_reason=REASON)
    assert refused.value.code == "before_previous_step"
    assert written(case) == before


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_principal_starts_early_only_with_a_reason(se, reason):
    case = se.case()
    step_1 = climb(se, case, 1)
    before = written(case)
    with pytest.raises(RuleBroken) as refused:
        absence.start_absence_step(actor=se.actor("principal"), case=case, step=2,
                                   started_on=START + timedelta(days=3), early_reason=reason)
    assert refused.value.code == "early_reason_missing"
    assert written(case) == before
    step_1.refresh_from_db()
    assert step_1.ended_on is None


def test_principal_s_reason_for_starting_early_is_recorded(se):
    case, principal = se.case(), se.actor("principal")
    step_1 = climb(se, case, 1)
    step_2 = absence.start_absence_step(actor=principal, case=case, step=2, started_on=START + timedelta(days=3),
                                        early_reason=f"  {REASON} ")
    step_2.refresh_from_db()
    assert (step_2.early_reason, step_2.started_by) == (REASON, principal.person)
    step_1.refresh_from_db()
    assert step_1.ended_on == START + timedelta(days=3)


# --- step 4: the seed's actions as a checklist ------------------------------------------------------------


# Each action of the seed's step 4, by the key the pack gives it and words the Swedish text keeps.
SEED_STEP_4 = {
    "follow_up_meeting": ["Uppföljningsmöte enligt steg 3"],
    "in_depth_analysis": ["Elevhälsan", "fördjupad analys", "kartläggningar och åtgärder"],
    "coordinate_new_measures": ["nya åtgärder", "externa insatser", "elevhälsan", "samordna"],
    "report_to_social_services": ["Rektor ansvarar", "anmälan till socialtjänsten", "konsultationer"],
    "guardians_responsibility": ["vårdnadshavare", "brustit", "socialtjänsten", "Utbildningsnämnden",
                                 "vitesföreläggande"],
    "monthly_follow_up": ["pröva och följa upp", "varje månad", "delge"],
}


def test_step_four_checklist_holds_every_action_of_the_seed():
    step = LADDER.step(4)
    assert [item.key for item in step.actions] == list(SEED_STEP_4)
    for item in step.actions:
        for words in SEED_STEP_4[item.key]:
            assert words.lower() in item.text.sv.lower(), (item.key, words)
        assert item.text.en
    # "Ansvarig: Mentor, elevhälsa samt rektor": the staff mentor is the class teacher role.
    assert set(step.responsible) == {"class_teacher", "health_team_member", "principal"}
    report = step.item("report_to_social_services")
    assert (report.responsible, report.advisers) == (("principal",), ("health_team_member",))
    assert report.action == "record_report_to_social_services"
    assert report.report_to == "social_services_of_home_municipality"
    assert step.item("coordinate_new_measures").responsible == ("health_team_member",)
    # "Om det framkommer ...": the two conditional actions.
    assert {item.key for item in step.actions if item.conditional} == {"coordinate_new_measures",
                                                                       "guardians_responsibility"}
    assert (step.follow_up.every_months, step.follow_up.due_days) == (1, None)
    # "Dokument för dokumentation": new measures go to the extra adaptations unless an ÅP was decided.
    assert step.documentation is not None
    assert (step.documentation.document, step.documentation.unless_decided) == ("adaptation_log", "action_plan")
    assert "hemkommunen" in step.item("report_to_home_municipality").text.sv
    assert step.coordination is not None and step.coordination.record_coordinator and step.coordination.record_form
    assert {"meetings_with_guardians", "official_meetings", "sip", "network_meetings"} == {
        form.key for form in step.coordination.forms}


def test_each_checklist_action_is_ticked_once(se):
    case = se.case()
    step_4 = climb(se, case, 4)
    teacher = se.actor("class_teacher")
    check = absence.check_absence_action(actor=teacher, record=step_4, item="follow_up_meeting", note="Möte hölls")
    assert (check.item, check.checked_by, check.note) == ("follow_up_meeting", teacher.person, "Möte hölls")
    before = written(case)
    with pytest.raises(RuleBroken) as refused:
        absence.check_absence_action(actor=se.actor("principal"), record=step_4, item="follow_up_meeting")
    assert refused.value.code == "already_checked"
    assert written(case) == before


def test_every_step_four_action_and_consideration_can_be_ticked(se):
    case = se.case()
    step_4 = climb(se, case, 4)
    health = se.actor("health_team_member")
    step = LADDER.step(4)
    for item in step.actions + step.consider:
        absence.check_absence_action(actor=health, record=step_4, item=item.key)
    assert set(step_4.checks.values_list("item", flat=True)) == {i.key for i in step.actions + step.consider}


@pytest.mark.parametrize("item", ["appoint_investigator", "call_the_police", ""])
def test_only_the_step_s_own_actions_are_ticked(se, item):
    case = se.case()
    step_4 = climb(se, case, 4)
    before = written(case)
    with pytest.raises(RuleBroken) as refused:
        absence.check_absence_action(actor=se.actor("class_teacher"), record=step_4, item=item)
    assert refused.value.code == "unknown_item"
    assert written(case) == before


@pytest.mark.parametrize("role", ["subject_teacher", "special_teacher"])
def test_roles_outside_the_matrix_tick_nothing(se, role):
    case = se.case()
    step_4 = climb(se, case, 4)
    before = written(case)
    with pytest.raises(NotAllowed):
        absence.check_absence_action(actor=se.actor(role), record=step_4, item="follow_up_meeting")
    with pytest.raises(NotAllowed):
        absence.add_absence_follow_up(actor=se.actor(role), record=step_4, text="Uppföljning", held_on=START)
    assert written(case) == before


def test_an_ended_step_takes_no_more_ticks_or_follow_ups(se):
    case, teacher = se.case(), se.actor("class_teacher")
    step_3 = climb(se, case, 3)
    absence.start_absence_step(actor=se.actor("principal"), case=case, step=4, started_on=START,
                               early_reason=REASON)
    before = written(case)
    # `step_3` is the caller's copy from before step 4 started: the service reads the row as it is now.
    with pytest.raises(RuleBroken) as refused:
        absence.check_absence_action(actor=teacher, record=step_3, item="appoint_investigator")
    assert refused.value.code == "step_ended"
    with pytest.raises(RuleBroken) as refused:
        absence.add_absence_follow_up(actor=teacher, record=step_3, text="Sent", held_on=START)
    assert refused.value.code == "step_ended"
    assert written(case) == before


# --- step 4: monthly follow-ups -----------------------------------------------------------------------


def absence_follow_ups(actor) -> list[date]:  # type: ignore[no-untyped-def]
    return [item.due_on for item in due_for(actor) if item.kind == "absence_follow_up"]


def test_step_four_is_followed_up_every_month(se):
    case, teacher = se.case(), se.actor("class_teacher")
    with time_machine.travel(noon(date(2026, 3, 2)), tick=False):
        step_4 = climb(se, case, 4, on=date(2026, 3, 2))
        assert absence.follow_up_due_on(step_4) == date(2026, 4, 2)
        assert absence_follow_ups(teacher) == [date(2026, 4, 2)]
    with time_machine.travel(noon(date(2026, 4, 6)), tick=False):
        [item] = [i for i in due_for(teacher) if i.kind == "absence_follow_up"]
        assert item.overdue  # four days late, as of today
        absence.add_absence_follow_up(actor=teacher, record=step_4, text="Ny åtgärd prövad", held_on=date(2026, 4, 6))
        assert absence.follow_up_due_on(step_4) == date(2026, 5, 6)
        assert absence_follow_ups(teacher) == [date(2026, 5, 6)]
    with time_machine.travel(noon(date(2026, 5, 4)), tick=False):
        absence.add_absence_follow_up(actor=teacher, record=step_4, text="Följt upp", held_on=date(2026, 5, 4))
        assert absence_follow_ups(teacher) == [date(2026, 6, 4)]
        assert not due_for(teacher)[0].overdue


def test_a_month_after_the_31st_is_the_month_s_last_day(se):
    case = se.case()
    step_4 = climb(se, case, 4, on=date(2026, 1, 31))
    assert absence.follow_up_due_on(step_4) == date(2026, 2, 28)
    absence.add_absence_follow_up(actor=se.actor("principal"), record=step_4, text="Uppföljning",
                                  held_on=date(2026, 12, 31))
    assert absence.follow_up_due_on(step_4) == date(2027, 1, 31)


def test_steps_one_to_three_have_one_follow_up_within_their_days(se):
    case, teacher = se.case(), se.actor("class_teacher")
    step_1 = climb(se, case, 1)
    assert absence.follow_up_due_on(step_1) == START + timedelta(days=LADDER.step(1).follow_up.due_days)  # type: ignore[operator]
    absence.add_absence_follow_up(actor=teacher, record=step_1, text="Uppföljningsmöte", held_on=START)
    assert absence.follow_up_due_on(step_1) is None


def test_an_empty_follow_up_is_refused(se):
    case = se.case()
    step_4 = climb(se, case, 4)
    before = written(case)
    with pytest.raises(RuleBroken) as refused:
        absence.add_absence_follow_up(actor=se.actor("class_teacher"), record=step_4, text="  ", held_on=START)
    assert refused.value.code == "empty"
    assert written(case) == before


# --- step 4: coordination and documentation --------------------------------------------------------------


def test_coordinator_and_form_of_coordination_are_recorded(se):
    case = se.case()
    step_4 = climb(se, case, 4)
    health = se.actor("health_team_member")
    absence.record_coordination(actor=se.actor("principal"), record=step_4, coordinator=health.person, form="sip")
    step_4.refresh_from_db()
    assert (step_4.coordinator, step_4.coordination_form) == (health.person, "sip")
    assert AuditEntry.objects.filter(action="absence.coordination_recorded").count() == 1


@pytest.mark.parametrize("form", ["", "facebook_group", "SIP"])
def test_an_unknown_form_of_coordination_is_refused(se, form):
    case = se.case()
    step_4 = climb(se, case, 4)
    before = written(case)
    with pytest.raises(RuleBroken) as refused:
        absence.record_coordination(actor=se.actor("principal"), record=step_4,
                                    coordinator=se.actor("health_team_member").person, form=form)
    assert refused.value.code == "unknown_form"
    step_4.refresh_from_db()
    assert (step_4.coordinator, step_4.coordination_form) == (None, "")
    assert written(case) == before


def test_coordination_is_a_step_four_matter(se):
    case = se.case()
    step_3 = climb(se, case, 3)
    with pytest.raises(RuleBroken) as refused:
        absence.record_coordination(actor=se.actor("principal"), record=step_3,
                                    coordinator=se.actor("health_team_member").person, form="sip")
    assert refused.value.code == "no_coordination"
    step_3.refresh_from_db()
    assert step_3.coordinator is None


def test_a_subject_teacher_names_no_coordinator(se):
    case = se.case()
    step_4 = climb(se, case, 4)
    with pytest.raises(NotAllowed):
        absence.record_coordination(actor=se.actor("subject_teacher"), record=step_4,
                                    coordinator=se.actor("health_team_member").person, form="sip")
    step_4.refresh_from_db()
    assert step_4.coordinator is None


def test_new_measures_at_step_four_are_documented_as_extra_adaptations(se):
    case = se.case()
    step_4 = climb(se, case, 4)
    adaptation = cases.log_adaptation(actor=se.actor("class_teacher"), case=case, started_on=START,
                                      description="Anpassad skoldag med start kl. 10", absence_record=step_4)
    assert adaptation.kind == Adaptation.Kind.ADAPTATION
    assert list(step_4.adaptations.all()) == [adaptation]
    assert LADDER.step(4).documentation.document == "adaptation_log"  # type: ignore[union-attr]


def test_an_adaptation_is_not_filed_under_another_pupil_s_absence_step(se):
    case, other = se.case(), se.case(se.pupil("Olle Annansson"))
    other_step = climb(se, other, 4)
    with pytest.raises(RuleBroken) as refused:
        cases.log_adaptation(actor=se.actor("class_teacher"), case=case, started_on=START,
                             description="Anpassning", absence_record=other_step)
    assert refused.value.code == "other_case"
    assert not Adaptation.objects.exists()


# --- reports of concern to social services (orosanmälan) ----------------------------------------------------


def test_report_goes_to_the_home_municipality_when_the_pupil_lives_elsewhere(se):
    pupil = se.pupil(home_municipality="Täby")
    report = absence.record_report_to_social_services(actor=se.actor("class_teacher"), pupil=pupil,
                                                      case=se.case(pupil), text="Oro för elevens hemsituation")
    assert report.municipality == "Täby"


def test_report_goes_to_the_unit_s_municipality_otherwise(se):
    pupil = se.pupil()
    report = absence.record_report_to_social_services(actor=se.actor("class_teacher"), pupil=pupil,
                                                      case=se.case(pupil), text="Oro")
    assert report.municipality == se.unit.municipality == "Solbacka"
    no_case = absence.record_report_to_social_services(actor=se.actor("subject_teacher"), pupil=pupil, text="Oro")
    assert no_case.municipality == "Solbacka"


SE_STAFF = ["class_teacher", "subject_teacher", "special_teacher", "principal", "principal_delegate",
            "health_team_member"]


@pytest.mark.parametrize("role", SE_STAFF)
def test_any_staff_member_reports_at_once_with_no_ladder_step(se, role):
    pupil = se.pupil(home_municipality="Sollentuna")
    case = se.case(pupil)
    actor = se.actor(role)
    report = absence.record_report_to_social_services(actor=actor, pupil=pupil, case=case, text="Oro")
    assert (report.reported_by, report.reported_as, report.municipality) == (actor.person, role, "Sollentuna")
    assert report.absence_record is None
    assert not AbsenceRecord.objects.exists()
    assert AuditEntry.objects.filter(action="social_services.reported", object_ids=[report.pk]).count() == 1


@pytest.mark.parametrize("role", SE_STAFF)
def test_any_staff_member_reports_even_without_a_case(se, role):
    pupil = se.pupil()
    report = absence.record_report_to_social_services(actor=se.actor(role), pupil=pupil, text="Oro")
    assert report.case is None and report.pupil == pupil


def test_the_education_chief_reports_too(ax):
    pupil = ax.pupil()
    report = absence.record_report_to_social_services(actor=ax.actor("education_chief"), pupil=pupil,
                                                      case=ax.case(pupil), text="Oro")
    assert report.reported_as == "education_chief"


@pytest.mark.parametrize("step", [1, 2, 3])
def test_a_report_is_never_held_back_for_a_step(se, step):
    pupil = se.pupil()
    case = se.case(pupil)
    record = climb(se, case, step)
    report = absence.record_report_to_social_services(actor=se.actor("subject_teacher"), pupil=pupil, case=case,
                                                      text="Oro")
    assert report.absence_record == record
    assert not AbsenceCheck.objects.exists()  # steps 1-3 have no report on their checklists


@pytest.mark.parametrize("role", ["it_admin", "organisation_admin"])
def test_admins_report_nothing(se, role):
    pupil = se.pupil()
    for case in (se.case(pupil), None):
        with pytest.raises(NotAllowed):
            absence.record_report_to_social_services(actor=se.actor(role), pupil=pupil, case=case, text="Oro")
    assert not SocialServicesReport.objects.exists()


def test_pupil_and_guardian_record_no_report(se):
    pupil = se.pupil()
    case = se.case(pupil)
    for actor in (se.pupil_actor(pupil), se.guardian_actor(pupil)):
        for on_case in (case, None):
            with pytest.raises(NotAllowed):
                absence.record_report_to_social_services(actor=actor, pupil=pupil, case=on_case, text="Oro")
    assert not SocialServicesReport.objects.exists()


def test_the_communal_welfare_group_records_no_report(db):
    fi = make_school("fi-2025")
    pupil = fi.pupil()
    with pytest.raises(NotAllowed):
        absence.record_report_to_social_services(actor=fi.actor("communal_welfare_group_member"), pupil=pupil,
                                                 case=fi.case(pupil), text="Oro")
    assert not SocialServicesReport.objects.exists()


def test_a_report_about_another_school_owner_s_pupil_is_refused(se, ax):
    pupil = ax.pupil()
    with pytest.raises(NotAllowed) as refused:
        absence.record_report_to_social_services(actor=se.actor("class_teacher"), pupil=pupil, text="Oro")
    assert refused.value.code == "other_organisation"
    assert not SocialServicesReport.objects.exists()


def test_a_report_names_the_case_s_own_pupil(se):
    pupil, other = se.pupil(), se.pupil("Olle Annansson")
    with pytest.raises(RuleBroken) as refused:
        absence.record_report_to_social_services(actor=se.actor("principal"), pupil=other, case=se.case(pupil),
                                                 text="Oro")
    assert refused.value.code == "other_pupil"
    assert not SocialServicesReport.objects.exists()


def test_an_empty_report_is_refused(se):
    pupil = se.pupil()
    with pytest.raises(RuleBroken) as refused:
        absence.record_report_to_social_services(actor=se.actor("principal"), pupil=pupil, text=" ")
    assert refused.value.code == "empty"
    assert not SocialServicesReport.objects.exists()


def test_at_step_four_the_report_ticks_its_action(se):
    pupil = se.pupil(home_municipality="Täby")
    case = se.case(pupil)
    step_4 = climb(se, case, 4)
    teacher = se.actor("special_teacher")
    report = absence.record_report_to_social_services(actor=teacher, pupil=pupil, absence_record=step_4,
                                                      text="Anmälan gjord")
    assert report.case == case and report.absence_record == step_4
    [check] = step_4.checks.all()
    assert (check.item, check.checked_by, check.note) == ("report_to_social_services", teacher.person, "Täby")
    # A second report is recorded too; the action stays ticked once.
    absence.record_report_to_social_services(actor=se.actor("principal"), pupil=pupil, case=case, text="Igen")
    assert SocialServicesReport.objects.filter(pupil=pupil).count() == 2
    assert step_4.checks.count() == 1


def test_a_report_made_from_the_case_at_step_four_ticks_it_too(se):
    pupil = se.pupil()
    case = se.case(pupil)
    step_4 = climb(se, case, 4)
    report = absence.record_report_to_social_services(actor=se.actor("health_team_member"), pupil=pupil, case=case,
                                                      text="Oro")
    assert report.absence_record == step_4
    assert list(step_4.checks.values_list("item", flat=True)) == ["report_to_social_services"]


def test_a_report_cannot_tick_another_pupil_s_checklist(se):
    pupil, other = se.pupil(), se.pupil("Olle Annansson")
    case = se.case(pupil)
    other_step = climb(se, se.case(other), 4)
    with pytest.raises(RuleBroken) as refused:
        absence.record_report_to_social_services(actor=se.actor("principal"), pupil=pupil, case=case,
                                                 absence_record=other_step, text="Oro")
    assert refused.value.code == "other_case"
    assert not SocialServicesReport.objects.exists()
    assert not AbsenceCheck.objects.exists()
