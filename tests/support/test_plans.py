"""Plans: follow-ups, the one evaluation, drafts and their versions, the content history, level-3
reviews, where a plan may be made, and the pupil's and guardians' own views.

Seeds: unikum-atgardsprogram-uppfoljning (follow-ups as often as wanted, exactly one evaluation per
ÅP, an ÅP is valid only at its unit), ansvarsfordelning-stod-for-larande (the class teacher answers
for the level-3 decision being reviewed at the end of grades 2, 6 and 8). Every refusal is checked
for its code and for leaving every row as it was.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest
from django.db.models import ProtectedError

from lti_plugin.support import history
from lti_plugin.support.errors import NotAllowed, RuleBroken, StaleVersion
from lti_plugin.support.models import Plan, PlanRevision, Review, View
from lti_plugin.support.services import cases, decisions, plans
from lti_plugin.support.services.plans import MeasureInput

from .helpers import refused, rows

if TYPE_CHECKING:
    from lti_plugin.support.actor import Actor
    from lti_plugin.support.models import Case, Investigation, Person
    from tests.support.conftest import School


def reading_support(person: Person) -> MeasureInput:
    return MeasureInput("Läsning med stöd tre gånger i veckan", person, date(2026, 1, 12), date(2026, 3, 13))


def draft(school: School, *, teacher: Actor | None = None, case: Case | None = None, document: str = "action_plan",
          investigation: Investigation | None = None) -> Plan:
    teacher = teacher or school.actor("special_teacher" if document == "individual_plan" else "class_teacher")
    return plans.draft_plan(actor=teacher, case=case or school.case(), document=document, investigation=investigation,
                            needs=["Läsförståelse"], measures=[reading_support(teacher.person)],
                            follow_up_method="Varannan vecka", evaluation_method="Läsprov i mars")


def hear(principal: Actor, plan: Plan) -> None:
    plans.record_hearing(actor=principal, case=plan.case, plan=plan, held_on=date(2026, 1, 8), pupil_heard=True,
                         guardians_heard=True, summary="Elsa och hennes vårdnadshavare hörda")


def in_force(school: School) -> Plan:
    """An ÅP the principal has decided on, through the services."""
    plan = draft(school)
    principal = school.actor("principal")
    hear(principal, plan)
    decisions.decide_new_plan(actor=principal, plan=plan, grounds="Utredningen visar behov av särskilt stöd")
    plan.refresh_from_db()
    return plan


def evaluated(school: School) -> Plan:
    plan = in_force(school)
    plans.record_evaluation(actor=school.actor("class_teacher"), plan=plan, text="Målen delvis nådda",
                            evaluated_on=date(2026, 3, 16))
    plan.refresh_from_db()
    return plan


def ip_in_force(ax: School) -> Plan:
    """Åland level 3: the special teacher drafts the IP, the principal hears, the education chief decides."""
    plan = draft(ax, document="individual_plan")
    hear(ax.actor("principal"), plan)
    decisions.decide_new_plan(actor=ax.actor("education_chief"), plan=plan, grounds="Behov av mångprofessionellt stöd")
    plan.refresh_from_db()
    return plan


# --- follow-ups ---------------------------------------------------------------------------------------


def test_follow_ups_are_as_many_as_wanted_on_any_date_each_dated_and_signed(se):
    plan = in_force(se)
    made = [
        (se.actor("class_teacher"), date(2025, 12, 1)),  # before the plan came into force: notes catch up
        (se.actor("subject_teacher"), date(2026, 2, 2)),
        (se.actor("special_teacher"), date(2026, 2, 2)),  # the same day again
        (se.actor("class_teacher"), date(2026, 9, 1)),  # after the measures' period
    ]
    for actor, held_on in made:
        plans.add_follow_up(actor=actor, plan=plan, text=f"Uppföljning {held_on}", held_on=held_on)

    follow_ups = list(plan.follow_ups.order_by("pk"))
    assert [(f.held_on, f.signed_by_id) for f in follow_ups] == [(d, actor.person.pk) for actor, d in made]
    assert all(f.text and f.created_at for f in follow_ups)


def test_a_draft_gets_no_follow_up(se):
    plan = draft(se)
    actor = se.actor("class_teacher")
    with refused("plan_not_active"):
        plans.add_follow_up(actor=actor, plan=plan, text="För tidigt", held_on=date(2026, 1, 20))


def test_no_follow_up_after_the_evaluation(se):
    plan = evaluated(se)
    actor = se.actor("class_teacher")
    with refused("plan_evaluated"):
        plans.add_follow_up(actor=actor, plan=plan, text="Efteråt", held_on=date(2026, 3, 20))


def test_a_closed_plan_gets_no_follow_up(se):
    plan = evaluated(se)
    decisions.decide_close_plan(actor=se.actor("principal"), plan=plan, reason="need_no_longer_remains",
                                grounds="Målen nådda")
    actor = se.actor("class_teacher")
    with refused("plan_closed"):
        plans.add_follow_up(actor=actor, plan=plan, text="Sent", held_on=date(2026, 4, 1))


def test_a_follow_up_says_something(se):
    plan = in_force(se)
    actor = se.actor("class_teacher")
    with refused("empty"):
        plans.add_follow_up(actor=actor, plan=plan, text="   ", held_on=date(2026, 2, 2))


@pytest.mark.parametrize("role", ["principal", "principal_delegate", "health_team_member", "organisation_admin",
                                  "it_admin"])
def test_roles_without_follow_ups_in_the_matrix_are_refused(se, role):
    plan = in_force(se)
    actor = se.actor(role)
    with refused("not_allowed:add_follow_up", NotAllowed):
        plans.add_follow_up(actor=actor, plan=plan, text="Går bra", held_on=date(2026, 2, 2))


def test_a_teacher_of_another_unit_cannot_follow_up(se):
    plan = in_force(se)
    actor = se.actor("class_teacher", unit=se.other_unit)
    with refused("not_allowed:add_follow_up", NotAllowed):
        plans.add_follow_up(actor=actor, plan=plan, text="Går bra",
                            held_on=date(2026, 2, 2))


def test_pupil_and_guardian_do_not_sign_follow_ups(se):
    plan = in_force(se)
    pupil = plan.case.pupil
    for actor in (se.pupil_actor(pupil), se.guardian_actor(pupil)):  # made before the refusals are counted
        with refused("not_allowed:add_follow_up", NotAllowed):
            plans.add_follow_up(actor=actor, plan=plan, text="Går bra", held_on=date(2026, 2, 2))


# --- the one evaluation -------------------------------------------------------------------------------


def test_a_plan_has_exactly_one_evaluation(se):
    plan = in_force(se)
    teacher = se.actor("class_teacher")
    evaluation = plans.record_evaluation(actor=teacher, plan=plan, text="Målen nådda", evaluated_on=date(2026, 3, 16))
    assert (evaluation.signed_by, evaluation.evaluated_on) == (teacher.person, date(2026, 3, 16))

    for second in (teacher, se.actor("special_teacher")):
        with refused("already_evaluated"):
            plans.record_evaluation(actor=second, plan=plan, text="En andra", evaluated_on=date(2026, 3, 17))
    assert plan.evaluation.text == "Målen nådda"


def test_a_draft_is_not_evaluated(se):
    plan = draft(se)
    actor = se.actor("class_teacher")
    with refused("plan_not_active"):
        plans.record_evaluation(actor=actor, plan=plan, text="Tidigt", evaluated_on=date(2026, 1, 9))


def test_the_principal_does_not_evaluate(se):
    plan = in_force(se)
    actor = se.actor("principal")
    with refused("not_allowed:record_evaluation", NotAllowed):
        plans.record_evaluation(actor=actor, plan=plan, text="Bra", evaluated_on=date(2026, 3, 16))


def test_after_the_evaluation_the_plan_itself_is_not_edited(se):
    plan = evaluated(se)
    actor = se.actor("class_teacher")
    with refused("plan_decided"):
        plans.update_draft(actor=actor, plan=plan, expected_version=plan.version,
                           needs=["Något nytt"])


# --- drafts, versions and the content history ------------------------------------------------------


def test_a_stale_version_is_refused_and_the_newer_content_stays(se):
    teacher = se.actor("class_teacher")
    plan = draft(se, teacher=teacher)
    plans.update_draft(actor=teacher, plan=plan, expected_version=1, needs=["Läsförståelse", "Ordförråd"])

    actor = se.actor("special_teacher")
    with refused("stale_version", StaleVersion):
        plans.update_draft(actor=actor, plan=plan, expected_version=1, needs=["Koncentration"])
    plan.refresh_from_db()
    assert plan.version == 2
    assert [need.text for need in plan.needs.order_by("order")] == ["Läsförståelse", "Ordförråd"]


def test_every_change_to_a_plan_appends_a_revision_and_earlier_states_stay_readable(se):
    teacher, other_teacher = se.actor("class_teacher"), se.actor("special_teacher")
    plan = draft(se, teacher=teacher)
    plans.update_draft(actor=teacher, plan=plan, expected_version=1, needs=["Läsförståelse", "Skrivande"],
                       measures=[MeasureInput("Inläsningstjänst", other_teacher.person, date(2026, 1, 19),
                                              date(2026, 4, 30))])
    plans.update_draft(actor=other_teacher, plan=plan, expected_version=2, follow_up_method="Varje vecka")
    principal = se.actor("principal")
    hear(principal, plan)
    decisions.decide_new_plan(actor=principal, plan=plan, grounds="Behov finns")
    plans.record_evaluation(actor=teacher, plan=plan, text="Delvis", evaluated_on=date(2026, 4, 30))
    decisions.decide_close_plan(actor=principal, plan=plan, reason="need_no_longer_remains", grounds="Målen nådda")

    plan.refresh_from_db()
    revisions = list(PlanRevision.objects.filter(plan=plan).order_by("version"))
    assert [(r.version, r.change, r.changed_by_id) for r in revisions] == [
        (1, "drafted", teacher.person.pk),
        (2, "edited", teacher.person.pk),
        (3, "edited", other_teacher.person.pk),
        (4, "decided", principal.person.pk),
        (5, "closed: need_no_longer_remains", principal.person.pk),
    ]
    assert plan.version == 5

    first, second = history.as_of(plan, 1), history.as_of(plan, 2)
    assert [n["text"] for n in first["needs"]] == ["Läsförståelse"]
    assert [(m["text"], m["responsible"]) for m in first["measures"]] == [
        ("Läsning med stöd tre gånger i veckan", teacher.person.pk)]
    assert [n["text"] for n in second["needs"]] == ["Läsförståelse", "Skrivande"]
    assert [(m["text"], m["responsible"], m["ends_on"]) for m in second["measures"]] == [
        ("Inläsningstjänst", other_teacher.person.pk, "2026-04-30")]
    assert (first["follow_up_method"], history.as_of(plan, 3)["follow_up_method"]) == ("Varannan vecka", "Varje vecka")
    assert [history.as_of(plan, v)["status"] for v in (3, 4, 5)] == ["draft", "active", "closed"]
    assert plans.content(plan) == history.as_of(plan, 5)


def test_a_measure_cannot_end_before_it_starts(se):
    teacher = se.actor("class_teacher")
    plan = draft(se, teacher=teacher)
    backwards = MeasureInput("Läsning", teacher.person, date(2026, 3, 1), date(2026, 2, 1))
    with refused("measure_period"):
        plans.update_draft(actor=teacher, plan=plan, expected_version=1, measures=[backwards])


def test_plans_and_their_case_are_never_hard_deleted(se):
    plan = in_force(se)
    with pytest.raises(ProtectedError):
        plan.case.delete()
    with pytest.raises(ProtectedError):
        plan.delete()
    with pytest.raises(ProtectedError):
        plan.case.pupil.delete()
    assert Plan.objects.filter(pk=plan.pk).exists()


# --- level-3 reviews (Åland) --------------------------------------------------------------------------


def test_the_ip_is_reviewed_at_the_end_of_grades_2_6_and_8(ax):
    plan = ip_in_force(ax)
    teacher = ax.actor("class_teacher")
    for grade in (2, 6, 8):
        review = plans.record_review(actor=teacher, plan=plan, grade=grade, text=f"Granskning åk {grade}",
                                     held_on=date(2026, 6, 5))
        assert (review.grade, review.recorded_by) == (grade, teacher.person)
    assert sorted(plan.reviews.values_list("grade", flat=True)) == [2, 6, 8]


@pytest.mark.parametrize("grade", [0, 1, 3, 4, 5, 7, 9, 10])
def test_no_review_at_any_other_grade(ax, grade):
    plan = ip_in_force(ax)
    actor = ax.actor("class_teacher")
    with refused("no_review_point"):
        plans.record_review(actor=actor, plan=plan, grade=grade, text="Granskning",
                            held_on=date(2026, 6, 5))


def test_one_review_per_grade_point(ax):
    plan = ip_in_force(ax)
    plans.record_review(actor=ax.actor("class_teacher"), plan=plan, grade=6, text="Granskad", held_on=date(2026, 6, 5))
    actor = ax.actor("class_teacher")
    with refused("review_exists"):
        plans.record_review(actor=actor, plan=plan, grade=6, text="Igen", held_on=date(2026, 6, 8))
    assert Review.objects.get(plan=plan, grade=6).text == "Granskad"


@pytest.mark.parametrize("role", ["subject_teacher", "special_teacher", "principal", "education_chief",
                                  "organisation_admin", "it_admin"])
def test_the_review_is_recorded_by_the_class_teacher_not_by_others(ax, role):
    plan = ip_in_force(ax)
    actor = ax.actor(role)
    with refused("not_allowed:record_review", NotAllowed):
        plans.record_review(actor=actor, plan=plan, grade=8, text="Granskning", held_on=date(2026, 6, 5))


def test_the_elevhalsogrupp_takes_part_in_the_review(ax):
    # DESIGN.md's matrix gives record_review to the class teacher and the elevhälsa (seed: the
    # elevhälsogrupp "medverkar i granskningen"); the education chief decides any change.
    plan = ip_in_force(ax)
    review = plans.record_review(actor=ax.actor("health_team_member"), plan=plan, grade=8, text="Granskning",
                                 held_on=date(2026, 6, 5))
    assert review.pk


def test_a_draft_ip_has_no_decision_to_review(ax):
    plan = draft(ax, document="individual_plan")
    actor = ax.actor("class_teacher")
    with refused("plan_not_active"):
        plans.record_review(actor=actor, plan=plan, grade=8, text="Granskning",
                            held_on=date(2026, 6, 5))


def test_an_action_plan_is_evaluated_once_not_reviewed_and_an_ip_the_other_way_round(ax):
    action_plan, ip = in_force(ax), ip_in_force(ax)
    actor = ax.actor("class_teacher")
    with refused("no_review_point"):
        plans.record_review(actor=actor, plan=action_plan, grade=8, text="Granskning",
                            held_on=date(2026, 6, 5))
    actor = ax.actor("class_teacher")
    with refused("not_single_evaluation"):
        plans.record_evaluation(actor=actor, plan=ip, text="Utvärdering",
                                evaluated_on=date(2026, 6, 5))


# --- where a plan is valid ----------------------------------------------------------------------------


def test_no_plan_is_drafted_at_a_unit_the_pupil_is_not_at(se):
    pupil = se.pupil()  # at se.unit
    elsewhere = cases.case_for(pupil, se.other_unit)
    actor = se.actor("class_teacher", unit=se.other_unit)
    with refused("not_at_unit"):
        draft(se, teacher=actor, case=elsewhere)


def test_a_draft_is_not_decided_once_the_pupil_has_left_the_unit(se):
    plan = draft(se)
    principal = se.actor("principal")
    hear(principal, plan)
    cases.move_pupil(actor=principal, pupil=plan.case.pupil, to_unit=se.other_unit)
    with refused("not_at_unit"):
        decisions.decide_new_plan(actor=principal, plan=plan, grounds="Behov finns")


def test_a_plan_is_not_drafted_from_another_pupils_investigation(se):
    other_case = se.case(se.pupil("Ture Annansson"))
    investigation = cases.request_investigation(actor=se.actor("special_teacher"), case=other_case)
    teacher, case = se.actor("class_teacher"), se.case()
    with refused("other_pupil"):
        draft(se, teacher=teacher, case=case, investigation=investigation)


def test_the_framework_names_the_documents(se):
    teacher, case = se.actor("special_teacher"), se.case()
    with refused("unknown_document"):
        draft(se, teacher=teacher, case=case, document="individual_plan")  # Sweden has no IP in this sense


# --- own views and hearings ---------------------------------------------------------------------------


def test_pupil_and_guardian_add_their_own_view_to_their_plan(se):
    plan = in_force(se)
    pupil = plan.case.pupil
    own = plans.add_own_view(actor=se.pupil_actor(pupil), case=plan.case, plan=plan, text="Jag vill läsa mer")
    guardian = se.guardian_actor(pupil)
    theirs = plans.add_own_view(actor=guardian, case=plan.case, plan=plan, text="Hon läser hemma")
    assert [(own.whose, own.author), (theirs.whose, theirs.author)] == [
        ("pupil", pupil.person), ("guardian", guardian.person)]


def test_nobody_adds_a_view_to_another_pupils_case(se):
    plan = in_force(se)
    someone_else = se.pupil("Ture Annansson")
    for actor in (se.pupil_actor(someone_else), se.guardian_actor(someone_else)):
        with refused("not_allowed:add_own_view", NotAllowed):
            plans.add_own_view(actor=actor, case=plan.case, plan=plan, text="Inte min plan")


def test_a_view_cannot_be_hung_on_another_pupils_plan_through_ones_own_case(se):
    theirs = in_force(se)
    me = se.pupil("Ture Annansson")
    my_case = se.case(me)
    actor = se.pupil_actor(me)
    with refused("other_case"):
        plans.add_own_view(actor=actor, case=my_case, plan=theirs, text="Smyger in")
    actor = se.actor("class_teacher")
    with refused("other_case"):
        plans.record_guardian_view(actor=actor, case=my_case, plan=theirs,
                                   guardian_name="Tures pappa", text="Smyger in")
    assert not View.objects.filter(plan=theirs).exists()


def test_a_hearing_is_for_a_plan_of_the_same_case(se):
    theirs = draft(se)
    actor, mine = se.actor("principal"), se.case()
    with refused("other_case"):
        plans.record_hearing(actor=actor, case=mine, plan=theirs, held_on=date(2026, 1, 8),
                             pupil_heard=True, guardians_heard=True, summary="Fel ärende")


def test_only_the_principal_holds_the_hearing(se):
    plan = draft(se)
    for role in ("class_teacher", "special_teacher", "principal_delegate"):
        actor = se.actor(role)
        with refused("not_allowed:record_hearing", NotAllowed):
            hear(actor, plan)

