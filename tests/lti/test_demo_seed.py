"""The demo school data: every stage of the lifecycle in both demo organisations, built once."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Count

from lti_plugin.lti.demo import data
from lti_plugin.lti.demo.platform import ensure_registered, organisation_of
from lti_plugin.lti.demo.seed import SCHOOLS, STORIES, seed_demo
from lti_plugin.support.actor import Actor
from lti_plugin.support.models import (
    AbsenceRecord,
    Adaptation,
    AdaptationFollowUp,
    Assessment,
    Case,
    Concern,
    CourseMapping,
    Decision,
    Evaluation,
    GuardianLink,
    Hearing,
    Investigation,
    Organisation,
    Person,
    Plan,
    PlanFollowUp,
    Pupil,
    Review,
    SchoolUnit,
    SocialServicesReport,
    StaffGrant,
)
from lti_plugin.support.services.due import due_for

ORIGIN = "http://127.0.0.1:8765"
TODAY = date.today()


def support_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in apps.get_app_config("support").get_models()}


@pytest.fixture
def seeded(db):
    registration = ensure_registered(ORIGIN)
    told = seed_demo(registration, today=TODAY)
    return registration, told


def org(key: str) -> data.DemoOrganisation:
    return next(o for o in data.ORGANISATIONS if o.key == key)


def cases_of(key: str):  # type: ignore[no-untyped-def]
    return Case.objects.filter(unit__organisation=organisation_of(org(key)))


def person(key: str, sub: str) -> Person:
    return Person.objects.get(organisation=organisation_of(org(key)), sub=sub)


def principal_actor(key: str, unit: int = 0) -> Actor:
    spec = SCHOOLS[key]
    unit_row = SchoolUnit.objects.get(organisation=organisation_of(org(key)), name=spec.units[unit].name)
    return Actor(person=person(key, spec.units[unit].principal), organisation=organisation_of(org(key)),
                 roles=frozenset({"principal"}), units=frozenset({unit_row.pk}))


# --- rows ------------------------------------------------------------------------------------------


def test_every_demo_person_course_and_unit_is_in_place(seeded):
    registration, told = seeded
    assert told == sum(len(stories) for stories in STORIES.values())  # one story per demo pupil
    assert told == sum(1 for o in data.ORGANISATIONS for p in o.people if p.kind == "pupil")
    for demo in data.ORGANISATIONS:
        organisation = organisation_of(demo)
        assert Organisation.objects.filter(name=demo.name).count() == 1
        assert organisation.pack == demo.pack
        people = Person.objects.filter(organisation=organisation, issuer=registration.issuer)
        assert set(people.values_list("sub", flat=True)) == {p.sub for p in demo.people}
        assert all(p.name for p in people)
        units = {u.name: u for u in SchoolUnit.objects.filter(organisation=organisation)}
        assert set(units) == {u.name for u in SCHOOLS[demo.key].units}
        mappings = CourseMapping.objects.filter(deployment__registration=registration,
                                                deployment__deployment_id=demo.deployment_id)
        assert set(mappings.values_list("context_id", flat=True)) == {c.id for c in demo.courses}
        pupils = [p for p in demo.people if p.kind == "pupil"]
        for pupil in pupils:
            row = Pupil.objects.get(person__organisation=organisation, person__sub=pupil.sub)
            assert row.grade and row.unit_id in {u.pk for u in units.values()}
        for guardian in (p for p in demo.people if p.guardian_of):
            assert GuardianLink.objects.filter(guardian__sub=guardian.sub, guardian__organisation=organisation,
                                               pupil__person__sub__in=guardian.guardian_of).count() == len(
                guardian.guardian_of)
        grants = StaffGrant.objects.filter(organisation=organisation)
        roles = set(grants.values_list("role", flat=True))
        assert {"principal", "special_teacher", "class_teacher", "health_team_member"} <= roles
        assert grants.filter(role="class_teacher", school_class__isnull=False).exists()
        for grant in grants.exclude(role="organisation_admin"):
            assert grant.granted_by_id is not None and grant.granted_by_id != grant.person_id
    assert StaffGrant.objects.filter(role="education_chief",
                                     organisation=organisation_of(org("aland"))).exists()
    assert not StaffGrant.objects.filter(role="education_chief",
                                         organisation=organisation_of(org("solbacka"))).exists()
    elsewhere = Pupil.objects.exclude(home_municipality="")
    assert elsewhere.exists() and all(p.home_municipality != p.unit.municipality for p in elsewhere)


# --- every stage, in both organisations -------------------------------------------------------------


@pytest.mark.parametrize("key", ["solbacka", "aland"])
def test_every_stage_of_the_lifecycle_is_shown(seeded, key):
    cases = cases_of(key)
    plans = Plan.objects.filter(case__in=cases)

    # Only a concern.
    assert cases.annotate(a=Count("adaptations"), s=Count("assessments"), i=Count("investigations"),
                          p=Count("plans"), d=Count("decisions"), r=Count("absence_steps")).filter(
        a=0, s=0, i=0, p=0, d=0, r=0, concerns__isnull=False).exists()
    # Adaptations with follow-ups, and remedial teaching.
    assert AdaptationFollowUp.objects.filter(adaptation__case__in=cases, adaptation__case__plans__isnull=True).exists()
    assert Adaptation.objects.filter(case__in=cases, kind="remedial_teaching").exists()
    # An assessment processed by the health team.
    assert Assessment.objects.filter(case__in=cases, processed_at__isnull=False).exclude(recommendation="").exists()
    # A concluded investigation behind a drafted ÅP that awaits the hearing.
    draft = plans.get(status=Plan.Status.DRAFT, document="action_plan", investigation__concluded_at__isnull=False)
    assert not Hearing.objects.filter(plan=draft).exists() and draft.needs.exists() and draft.measures.exists()
    # An active ÅP with follow-ups and no evaluation yet.
    assert plans.filter(status=Plan.Status.ACTIVE, document="action_plan", evaluation__isnull=True,
                        previous__isnull=True).annotate(f=Count("follow_ups")).filter(f__gte=2).exists()
    # An evaluated ÅP awaiting the principal's decision.
    evaluated = plans.filter(status=Plan.Status.ACTIVE, evaluation__isnull=False, next__isnull=True)
    assert evaluated.count() == 1
    # An ÅP continued in a new ÅP: the old one archived, the new one decided and in force.
    continued = plans.get(status=Plan.Status.CLOSED, next__isnull=False)
    assert continued.next.status == Plan.Status.ACTIVE and continued.revisions.filter(
        change="continued in a new plan").exists()
    assert Decision.objects.filter(plan=continued.next, decision_type="decide_new_plan").exists()
    assert Evaluation.objects.filter(plan=continued).exists()
    # An ÅP closed after its evaluation, with a reason the pack gives.
    closed = Decision.objects.get(case__in=cases, decision_type="decide_close_plan")
    assert closed.plan.status == Plan.Status.CLOSED and closed.close_reason == "need_no_longer_remains"
    assert not hasattr(closed.plan, "next") or closed.plan.next is None
    # Decisions carry the pack's appeal text in both languages.
    decisions = Decision.objects.filter(case__in=cases)
    assert decisions.filter(appealable=True).count() >= 4
    assert not decisions.filter(appealable=True, appeal_text_sv="").exists()
    assert not decisions.filter(appealable=True, appeal_text_en="").exists()
    assert all(d.hearing_id for d in decisions.filter(plan__isnull=False))
    # Absence ladder at step 2.
    assert AbsenceRecord.objects.filter(case__in=cases, step=2, ended_on__isnull=True).exists()
    # Follow-ups are signed by someone, views of pupil and guardian are recorded.
    assert PlanFollowUp.objects.filter(plan__case__in=cases).count() >= 6
    assert {"pupil", "guardian"} <= set(cases.values_list("views__whose", flat=True))


@pytest.mark.parametrize("key", ["solbacka", "aland"])
def test_a_transfer_leaves_the_old_principal_a_decision_on_closing(seeded, key):
    moved = Pupil.objects.annotate(n=Count("cases")).get(n=2, person__organisation=organisation_of(org(key)))
    old_case = moved.cases.exclude(unit=moved.unit).get()
    assert old_case.plans.get().status == Plan.Status.ACTIVE  # never closed automatically
    assert moved.cases.get(unit=moved.unit).adaptations.exists()  # support goes on at the new unit

    items = due_for(principal_actor(key), today=TODAY)
    assert [i.case_id for i in items if i.kind == "decide_closing_after_transfer"] == [old_case.pk]
    assert not [i for i in due_for(principal_actor(key, unit=1), today=TODAY)
                if i.kind == "decide_closing_after_transfer"]


@pytest.mark.parametrize("key", ["solbacka", "aland"])
def test_what_is_due_has_items_overdue_and_due_soon(seeded, key):
    spec = SCHOOLS[key]
    organisation = organisation_of(org(key))
    unit = SchoolUnit.objects.get(organisation=organisation, name=spec.units[0].name)
    teacher = Actor(person=person(key, spec.classes[0].class_teacher), organisation=organisation,
                    roles=frozenset({"class_teacher"}), units=frozenset({unit.pk}))
    for actor in (teacher, principal_actor(key)):
        items = due_for(actor, today=TODAY)
        assert any(i.due_on < TODAY for i in items), items
        assert any(TODAY <= i.due_on <= date.fromordinal(TODAY.toordinal() + 30) for i in items), items
    kinds = {i.kind for i in due_for(principal_actor(key), today=TODAY)}
    assert {"decide_after_evaluation", "decide_closing_after_transfer", "absence_follow_up"} <= kinds


def test_se_decision_not_to_draw_up_a_plan(seeded):
    decision = Decision.objects.get(case__in=cases_of("solbacka"), decision_type="decide_not_to_draw_up_plan")
    assert decision.appealable and "överklagandenämnd" in decision.appeal_text_sv
    assert decision.decided_as == "principal" and decision.plan is None
    assert Investigation.objects.filter(case=decision.case, concluded_at__isnull=False).exists()
    assert not decision.case.plans.exists()
    assert Concern.objects.filter(case=decision.case, kind="report_to_principal").exists()


def test_se_absence_step_4_with_checklist_follow_ups_and_a_report_to_the_home_municipality(seeded):
    record = AbsenceRecord.objects.get(case__in=cases_of("solbacka"), step=4)
    assert record.ended_on is None
    assert set(record.case.absence_steps.values_list("step", flat=True)) == {1, 2, 3, 4}
    ticked = set(record.checks.values_list("item", flat=True))
    assert {"follow_up_meeting", "in_depth_analysis", "report_to_social_services", "name_coordinator"} <= ticked
    assert record.coordinator is not None and record.coordination_form == "sip"
    follow_ups = list(record.follow_ups.order_by("held_on").values_list("held_on", flat=True))
    assert len(follow_ups) >= 2 and (follow_ups[1] - follow_ups[0]).days >= 28  # monthly
    assert record.adaptations.exists()  # new measures as extra adaptations

    report = SocialServicesReport.objects.get(absence_record=record)
    pupil = record.case.pupil
    assert pupil.home_municipality and report.municipality == pupil.home_municipality
    assert report.municipality != record.case.unit.municipality
    assert report.reported_as == "principal"


def test_ax_level_3_decided_by_the_education_chief_with_an_ip_reviewed_at_the_grade_point(seeded):
    case = cases_of("aland").get(level="multiprofessional_support")
    ip = case.plans.get(document="individual_plan")
    assert ip.status == Plan.Status.ACTIVE
    decision = Decision.objects.get(plan=ip)
    assert decision.decision_type == "decide_level_3" and decision.decided_as == "education_chief"
    assert decision.appealable and decision.appeal_text_sv and decision.hearing.pupil_heard
    review = Review.objects.get(plan=ip)
    assert review.grade == case.pupil.grade and review.grade in (2, 6, 8)
    assert case.level_history.filter(to_level="special_needs_support").exists()

    spec = SCHOOLS["aland"]
    chief = Actor(person=person("aland", spec.education_chief), organisation=organisation_of(org("aland")),
                  roles=frozenset({"education_chief"}))
    assert [i.kind for i in due_for(chief, today=TODAY) if i.case_id == case.pk] == ["decide_review_outcome"]


# --- idempotency, and the command ------------------------------------------------------------------


def test_a_second_run_creates_nothing(seeded):
    registration, told = seeded
    assert told > 0
    before = support_counts()
    assert seed_demo(registration, today=TODAY) == 0
    assert seed_demo(registration) == 0
    assert support_counts() == before


def test_setup_embedded_seeds_the_demo_once(db, settings):
    settings.DEMO_PLATFORM = True
    out = StringIO()
    call_command("setup_embedded", base_url=ORIGIN, stdout=out)
    assert "Demo school data" in out.getvalue()
    assert cases_of("solbacka").exists() and cases_of("aland").exists()
    before = support_counts()

    call_command("setup_embedded", base_url=ORIGIN, stdout=StringIO())
    assert support_counts() == before
