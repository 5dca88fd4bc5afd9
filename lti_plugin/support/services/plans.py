"""Plans (ÅP, IP, plan för lärande): drafting, follow-ups, the one evaluation, reviews, hearings, views.

Rules from the seeds (Unikum; ansvarsfördelning): follow-ups any number, any time, dated and signed,
none on a closed plan; exactly one evaluation per ÅP, after which only the principal's decision
(decisions.py); a plan is valid only at its unit; closed plans are read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .. import audit, history, policy
from ..actor import Actor
from ..errors import NotAllowed, RuleBroken, StaleVersion
from ..models import (
    Case,
    Evaluation,
    Hearing,
    Investigation,
    Measure,
    Need,
    Person,
    Plan,
    PlanFollowUp,
    Pupil,
    Review,
    View,
)
from ..pack import get_pack
from .cases import _require_text


@dataclass(frozen=True)
class MeasureInput:
    text: str
    responsible: Person
    starts_on: date
    ends_on: date


def draft_action(plan_or_document: Plan | str, case: Case) -> str:
    """The pack names who drafts which document (`draft_plan`, `draft_ip`)."""
    key = plan_or_document.document if isinstance(plan_or_document, Plan) else plan_or_document
    return get_pack(case.pack_id).document(key).draft_action


def lock(plan: Plan, expected_version: int | None = None) -> Plan:
    """The plan row, locked for this transaction; a stale `expected_version` is refused, not overwritten."""
    locked = Plan.objects.select_for_update().select_related("case", "case__unit").get(pk=plan.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(_("Someone else changed this plan after you opened it. Reload it and try again."))
    return locked


def _read_only(plan: Plan) -> None:
    if plan.status == Plan.Status.CLOSED:
        raise RuleBroken(_("This plan is closed and in the archive: it cannot be changed."), code="plan_closed")


def _on_case(plan: Plan | None, case: Case) -> None:
    """A hearing, a view or a decision given with a plan is about that plan's case, and the plan not archived."""
    if plan is None:
        return
    if plan.case_id != case.pk:
        raise RuleBroken(_("That plan belongs to another case."), code="other_case")
    _read_only(plan)


def _bump(plan: Plan, actor: Actor, change: str) -> Plan:
    plan.version += 1
    plan.save(update_fields=["version", "follow_up_method", "evaluation_method"])
    history.keep(plan, change=change, by=actor.person)
    return plan


def _write_content(plan: Plan, needs: list[str], measures: list[MeasureInput]) -> None:
    for order, text in enumerate(needs):
        Need.objects.create(plan=plan, text=_require_text(text, _("A need")), order=order)
    for order, measure in enumerate(measures):
        if measure.ends_on < measure.starts_on:
            raise RuleBroken(_("A measure cannot end before it starts."), code="measure_period")
        Measure.objects.create(plan=plan, text=_require_text(measure.text, _("A measure")), order=order,
                               responsible=measure.responsible, starts_on=measure.starts_on, ends_on=measure.ends_on)


@transaction.atomic
def draft_plan(*, actor: Actor, case: Case, document: str, investigation: Investigation | None = None,
               needs: list[str] = (), measures: list[MeasureInput] = (),  # type: ignore[assignment]
               follow_up_method: str = "", evaluation_method: str = "") -> Plan:
    """Draft a plan of one of the pack's documents; it takes effect only with a decision."""
    pack = get_pack(case.pack_id)
    if document not in pack.documents:
        raise RuleBroken(_("The framework has no document of that kind."), code="unknown_document")
    policy.require(actor, draft_action(document, case), case)
    if investigation is not None and investigation.pupil_id != case.pupil_id:
        raise RuleBroken(_("That investigation is about another pupil."), code="other_pupil")
    # Where the pupil is now, not as the caller's copy of the case last saw it; a move waits for us.
    if Pupil.objects.select_for_update().values_list("unit_id", flat=True).get(pk=case.pupil_id) != case.unit_id:
        raise RuleBroken(_("The pupil is not at this unit: a plan here would not be valid."), code="not_at_unit")
    plan = Plan.objects.create(case=case, document=document, pack_id=pack.id, pack_version=pack.version,
                               investigation=investigation, created_by=actor.person,
                               follow_up_method=follow_up_method, evaluation_method=evaluation_method)
    _write_content(plan, list(needs), list(measures))
    history.keep(plan, change="drafted", by=actor.person)
    audit.record(actor, "plan.drafted", plan)
    return plan


@transaction.atomic
def update_draft(*, actor: Actor, plan: Plan, expected_version: int, needs: list[str] | None = None,
                 measures: list[MeasureInput] | None = None, follow_up_method: str | None = None,
                 evaluation_method: str | None = None) -> Plan:
    """Edit a draft. A decided plan's content stands as decided; changing it takes a new plan."""
    plan = lock(plan, expected_version)
    policy.require(actor, draft_action(plan, plan.case), plan.case)
    _read_only(plan)
    if plan.status != Plan.Status.DRAFT:
        raise RuleBroken(_("A decided plan is not edited: continue in a new plan instead."), code="plan_decided")
    if needs is not None:
        plan.needs.all().delete()  # the draft's earlier content is kept in its revisions
        _write_content(plan, needs, [])
    if measures is not None:
        plan.measures.all().delete()
        _write_content(plan, [], measures)
    if follow_up_method is not None:
        plan.follow_up_method = follow_up_method
    if evaluation_method is not None:
        plan.evaluation_method = evaluation_method
    _bump(plan, actor, "edited")
    audit.record(actor, "plan.edited", plan)
    return plan


@transaction.atomic
def add_follow_up(*, actor: Actor, plan: Plan, text: str, held_on: date) -> PlanFollowUp:
    """Record a dated, signed follow-up on an active plan."""
    plan = lock(plan)  # a concurrent close waits or wins
    policy.require(actor, "add_follow_up", plan.case)
    _read_only(plan)
    if plan.status != Plan.Status.ACTIVE:
        raise RuleBroken(_("Follow-ups are made on a plan in force."), code="plan_not_active")
    if hasattr(plan, "evaluation"):
        raise RuleBroken(_("The plan has been evaluated: what remains is the principal's decision."),
                         code="plan_evaluated")
    follow_up = PlanFollowUp.objects.create(plan=plan, held_on=held_on, signed_by=actor.person,
                                            text=_require_text(text, _("The follow-up")))
    audit.record(actor, "plan.followed_up", follow_up)
    return follow_up


@transaction.atomic
def record_evaluation(*, actor: Actor, plan: Plan, text: str, evaluated_on: date) -> Evaluation:
    """The one evaluation of a plan; a second one is refused, also when two arrive at once."""
    plan = lock(plan)
    policy.require(actor, "record_evaluation", plan.case)
    _read_only(plan)
    if plan.status != Plan.Status.ACTIVE:
        raise RuleBroken(_("Only a plan in force is evaluated."), code="plan_not_active")
    if get_pack(plan.pack_id).document(plan.document).review_cycle != "single_evaluation":
        raise RuleBroken(_("This kind of plan is reviewed, not evaluated once."), code="not_single_evaluation")
    if Evaluation.objects.filter(plan=plan).exists():
        raise RuleBroken(_("This plan has already been evaluated: a plan has exactly one evaluation."),
                         code="already_evaluated")
    try:
        with transaction.atomic():
            evaluation = Evaluation.objects.create(plan=plan, evaluated_on=evaluated_on, signed_by=actor.person,
                                                   text=_require_text(text, _("The evaluation")))
    except IntegrityError:  # the database's one-to-one: another request evaluated it first
        raise RuleBroken(_("This plan has already been evaluated: a plan has exactly one evaluation."),
                         code="already_evaluated") from None
    audit.record(actor, "plan.evaluated", evaluation)
    return evaluation


@transaction.atomic
def record_review(*, actor: Actor, plan: Plan, grade: int, text: str, held_on: date) -> Review:
    """A review at a grade point (Åland level 3: end of grades 2, 6 and 8); the class teacher answers for it."""
    plan = lock(plan)
    policy.require(actor, "record_review", plan.case)
    _read_only(plan)
    if plan.status != Plan.Status.ACTIVE:  # a review is of a decision in force; a draft has none yet
        raise RuleBroken(_("Only a plan in force is reviewed."), code="plan_not_active")
    document = get_pack(plan.pack_id).document(plan.document)
    if document.review_cycle != "grade_points" or grade not in document.review_grades:
        raise RuleBroken(_("This plan has no review at that grade."), code="no_review_point")
    try:
        with transaction.atomic():
            review = Review.objects.create(plan=plan, grade=grade, held_on=held_on, recorded_by=actor.person,
                                           text=_require_text(text, _("The review")))
    except IntegrityError:
        raise RuleBroken(_("The review for that grade is already recorded."), code="review_exists") from None
    audit.record(actor, "plan.reviewed", review)
    return review


@transaction.atomic
def record_hearing(*, actor: Actor, case: Case, plan: Plan | None, held_on: date, pupil_heard: bool,
                   guardians_heard: bool, summary: str) -> Hearing:
    """The principal hears the pupil and the guardians before a decision on a plan."""
    policy.require(actor, "record_hearing", case)
    _on_case(plan, case)
    hearing = Hearing.objects.create(case=case, plan=plan, held_on=held_on, held_by=actor.person,
                                     pupil_heard=pupil_heard, guardians_heard=guardians_heard,
                                     summary=_require_text(summary, _("The hearing's summary")))
    audit.record(actor, "hearing.recorded", hearing)
    return hearing


@transaction.atomic
def add_own_view(*, actor: Actor, case: Case, plan: Plan | None, text: str) -> View:
    """The pupil's or a guardian's own view, in their own words."""
    role = policy.require(actor, "add_own_view", case)
    _on_case(plan, case)  # the own case is in scope; a plan of another pupil's case is not
    view = View.objects.create(case=case, plan=plan, whose="pupil" if role == "pupil" else "guardian",
                               author=actor.person, text=_require_text(text, _("Your view")))
    audit.record(actor, "view.added", view)
    return view


@transaction.atomic
def record_guardian_view(*, actor: Actor, case: Case, plan: Plan | None, guardian_name: str, text: str) -> View:
    """Staff record the view of a guardian who has no LMS account (Moodle never sends guardians)."""
    policy.require(actor, "record_guardian_view", case)
    _on_case(plan, case)
    view = View.objects.create(case=case, plan=plan, whose="guardian", author=actor.person,
                               on_behalf_of=_require_text(guardian_name, _("The guardian's name")),
                               text=_require_text(text, _("The view")))
    audit.record(actor, "view.recorded", view)
    return view


def copy_as_draft(plan: Plan, actor: Actor) -> Plan:
    """An editable copy of a plan (needs, measures, responsible people), same investigation behind it."""
    pack = get_pack(plan.case.pack_id)
    copy = Plan.objects.create(case=plan.case, document=plan.document, pack_id=pack.id, pack_version=pack.version,
                               investigation=plan.investigation, previous=plan, created_by=actor.person,
                               follow_up_method=plan.follow_up_method, evaluation_method=plan.evaluation_method)
    for need in plan.needs.order_by("order", "pk"):
        Need.objects.create(plan=copy, text=need.text, order=need.order)
    for measure in plan.measures.order_by("order", "pk"):
        Measure.objects.create(plan=copy, text=measure.text, responsible=measure.responsible,
                               starts_on=measure.starts_on, ends_on=measure.ends_on, order=measure.order)
    history.keep(copy, change="copied", by=actor.person)
    return copy


def content(plan: Plan) -> dict[str, Any]:
    """What the plan says now (for pages and the API)."""
    return history.snapshot(plan)


__all__ = ["MeasureInput", "NotAllowed", "add_follow_up", "add_own_view", "copy_as_draft", "draft_plan",
           "record_evaluation", "record_guardian_view", "record_hearing", "record_review", "update_draft"]
