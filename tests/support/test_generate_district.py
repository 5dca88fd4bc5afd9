"""generate_district: the benchmark's fictional district, small, and the invariants a user would notice."""

from __future__ import annotations

import json
import stat
from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.urls import reverse
from jwcrypto import jwk

from lti_plugin.support import district
from lti_plugin.support.actor import actor_from_grants
from lti_plugin.support.errors import RuleBroken
from lti_plugin.support.models import (
    Case,
    CourseMapping,
    CourseMember,
    Decision,
    Evaluation,
    Hearing,
    Organisation,
    Person,
    Plan,
    PlanFollowUp,
    PlanRevision,
    Pupil,
    SchoolUnit,
)
from lti_plugin.support.services import decisions, plans
from lti_plugin.support.services.due import due_for
from tests.lti.platform import INSTRUCTOR, Lms

TINY = ["--pupils", "200", "--cases", "50", "--follow-ups", "300", "--units", "3", "--seed", "7"]


@pytest.fixture
def generated(db, tmp_path: Path) -> tuple[Organisation, dict]:
    call_command("generate_district", *TINY, "--out", str(tmp_path), stdout=open("/dev/null", "w"))
    organisation = Organisation.objects.get(name=district.ORGANISATION_NAME)
    return organisation, json.loads((tmp_path / "manifest.json").read_text())


def test_the_district_has_the_sizes_asked_for(generated):
    organisation, manifest = generated
    assert SchoolUnit.objects.filter(organisation=organisation).count() == 3
    assert Pupil.objects.filter(person__organisation=organisation).count() == 200
    assert Case.objects.filter(pupil__person__organisation=organisation).count() == 50
    assert PlanFollowUp.objects.filter(plan__case__unit__organisation=organisation).count() == 300
    assert organisation.pack == "se"
    assert manifest["counts"]["pupils"] == 200 and manifest["counts"]["plan_follow_ups"] == 300


def test_every_case_is_at_a_unit_of_the_organisation_and_one_per_pupil(generated):
    organisation, _ = generated
    cases = Case.objects.filter(pupil__person__organisation=organisation)
    assert not cases.exclude(unit__organisation=organisation).exists()
    assert cases.values("pupil").distinct().count() == cases.count()
    assert set(cases.values_list("level", flat=True)) <= {"extra_adaptations", "special_support"}


def test_plans_in_every_state_and_an_archive(generated):
    organisation, _ = generated
    plans_here = Plan.objects.filter(case__unit__organisation=organisation)
    assert {"draft", "active", "closed"} <= set(plans_here.values_list("status", flat=True))
    assert plans_here.filter(previous__isnull=False, previous__status="closed").exists()  # continued: archive
    assert plans_here.filter(status="draft", previous__status="active").exists()  # a continuation awaiting decision


def test_each_plan_has_at_most_one_evaluation_and_one_plan_in_force_per_case(generated):
    organisation, _ = generated
    per_plan = Evaluation.objects.filter(plan__case__unit__organisation=organisation).values("plan") \
        .annotate(n=Count("pk"))
    assert all(row["n"] == 1 for row in per_plan) and per_plan
    per_case = Plan.objects.filter(case__unit__organisation=organisation, status="active").values("case") \
        .annotate(n=Count("pk"))
    assert all(row["n"] == 1 for row in per_case)


def test_a_closed_plan_was_closed_by_a_decision_after_its_evaluation(generated):
    organisation, _ = generated
    closed = Plan.objects.filter(case__unit__organisation=organisation, status="closed")
    assert closed.exists()
    for plan in closed:
        own = Decision.objects.filter(plan=plan, decision_type="decide_close_plan")
        by_successor = Decision.objects.filter(plan__previous=plan, decision_type="decide_new_plan")
        assert own.exists() or by_successor.exists(), plan.pk
        assert hasattr(plan, "evaluation") and plan.closed_at is not None
        assert plan.evaluation.evaluated_on <= plan.closed_at.date()


def test_every_decision_on_a_plan_follows_a_hearing_on_it(generated):
    organisation, _ = generated
    for decision in Decision.objects.filter(case__unit__organisation=organisation, plan__isnull=False):
        hearing: Hearing = decision.hearing
        assert hearing.plan_id == decision.plan_id and hearing.pupil_heard and hearing.guardians_heard
        assert hearing.held_on <= decision.decided_at.date()
        assert decision.appealable and decision.appeal_text_sv


def test_plan_versions_match_their_revisions_and_follow_ups_fall_while_in_force(generated):
    organisation, _ = generated
    for plan in Plan.objects.filter(case__unit__organisation=organisation):
        versions = list(PlanRevision.objects.filter(plan=plan).order_by("version").values_list("version", flat=True))
        assert versions == list(range(1, plan.version + 1)), plan.pk
        held = plan.follow_ups.values_list("held_on", flat=True)
        if held:
            assert plan.activated_at is not None
            assert min(held) >= plan.activated_at.date()
            assert max(held) <= (plan.closed_at.date() if plan.closed_at else date.today())


def test_course_rosters_hold_the_pupils_and_their_teacher(generated):
    organisation, manifest = generated
    courses = CourseMapping.objects.filter(unit__organisation=organisation).exclude(context_id__endswith="-personal")
    assert courses.exists()
    for course in courses:
        members = CourseMember.objects.filter(deployment=course.deployment, context_id=course.context_id)
        assert members.filter(launched_as_instructor=True).count() == 1, course.context_id
        assert members.filter(person__pupil__isnull=False).exists(), course.context_id
    teacher = manifest["people"]["teacher"]
    assert teacher["roster"] == CourseMember.objects.filter(context_id=teacher["course"]["id"],
                                                            person__pupil__isnull=False).count()
    assert manifest["people"]["principal"]["cases_in_reach"] == 50  # three units: the area principal has them all


def test_a_second_run_refuses_and_changes_nothing(generated, tmp_path):
    organisation, _ = generated
    before = Person.objects.count()
    with pytest.raises(CommandError, match="already in this database"):
        call_command("generate_district", *TINY, "--out", str(tmp_path / "again"))
    assert Person.objects.count() == before
    assert Organisation.objects.filter(name=district.ORGANISATION_NAME).count() == 1


def test_the_services_carry_on_from_generated_states(generated):
    organisation, _ = generated
    plan = Plan.objects.filter(case__unit__organisation=organisation, status="active",
                               evaluation__isnull=True).select_related("case__unit").first()
    special = actor_from_grants(Person.objects.get(grants__role="special_teacher", grants__unit=plan.case.unit_id))
    plans.add_follow_up(actor=special, plan=plan, text="Uppföljning efter genereringen.", held_on=date.today())
    closed = Plan.objects.filter(case__unit__organisation=organisation, status="closed").first()
    with pytest.raises(RuleBroken):
        plans.add_follow_up(actor=special, plan=closed, text="För sent.", held_on=date.today())
    evaluated = Plan.objects.filter(case__unit__organisation=organisation, status="active", evaluation__isnull=False,
                                    next__isnull=True).select_related("case__unit").first()
    principal = actor_from_grants(Person.objects.get(grants__role="principal", grants__unit=evaluated.case.unit_id))
    assert any(item.plan_id == evaluated.pk and item.kind == "decide_after_evaluation" for item in due_for(principal))
    decisions.decide_close_plan(actor=principal, plan=evaluated, reason="need_no_longer_remains",
                                grounds="Behovet kvarstår inte.")


def test_the_platform_key_it_writes_launches_the_manifests_teacher(generated, client, tmp_path):
    _, manifest = generated
    platform = manifest["platform"]
    key_file = tmp_path / platform["key_file"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = jwk.JWK.from_pem(key_file.read_bytes())
    key = jwk.JWK(**{**key.export_private(as_dict=True), "kid": platform["kid"]})
    lms = Lms(issuer=platform["issuer"], client_id=platform["client_id"], deployment_id=platform["deployment_id"],
              key=key)
    teacher = manifest["people"]["teacher"]
    course = {**teacher["course"], "type": ["CourseSection"]}
    response = lms.launch(client, sub=teacher["sub"], roles=[INSTRUCTOR], context=course, name=teacher["name"])
    assert response.status_code == 302, response.content[:300]
    home = client.get(response["Location"])
    assert home.status_code == 200
    launch_id = response["Location"].rstrip("/").split("/")[-1]
    cases_page = client.get(reverse("frontend:cases", args=[launch_id]))
    assert cases_page.status_code == 200
