"""What is due for a person: one answer for pages, the API and the daily digest."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import policy
from ..actor import Actor
from ..errors import RuleBroken
from ..models import (
    AbsenceFollowUp,
    AbsenceRecord,
    Case,
    Decision,
    Hearing,
    Measure,
    Plan,
    PlanFollowUp,
    Review,
    SchoolUnit,
)
from ..pack import get_pack
from ..queries import cases_visible_to
from .absence import current_record, follow_up_due_on, proposal
from .decisions import adoption_decision

FOLLOW_UP_EVERY_DAYS = 30  # how long a plan in force may go without a follow-up before one is due
DECIDE_WITHIN_DAYS = 14  # after an evaluation, the principal's decision (guidance, not law)
REVIEW_DAY = (6, 10)  # a grade point's review falls due towards the end of the school year


@dataclass(frozen=True)
class DueItem:
    kind: str
    due_on: date
    case_id: int
    plan_id: int | None
    label: str

    @property
    def overdue(self) -> bool:
        return self.due_on < date.today()


def _day_in_force(plan: Plan) -> date:
    """The school's day (TIME_ZONE) the plan came into force: a decision at 00:30 counts for that day."""
    return timezone.localdate(plan.activated_at or plan.created_at)


def _plan_items(actor: Actor, case: Case, today: date, plans: list[Plan] | None = None) -> list[DueItem]:
    items: list[DueItem] = []
    pack = get_pack(case.pack_id)
    for plan in case.plans.all() if plans is None else plans:
        document = pack.document(plan.document)
        if plan.status == Plan.Status.ACTIVE and case.pupil.unit_id != case.unit_id:
            # The pupil has left the unit: its principal decides on closing (never an automatic close).
            if policy.can(actor, "decide_close_plan", case):
                items.append(DueItem("decide_closing_after_transfer", today, case.pk, plan.pk,
                                     str(_("Decide on closing the plan: the pupil has left the unit"))))
            continue
        if plan.status == Plan.Status.DRAFT:
            # The decision that puts this draft in force (an `ax` IP: the education chief's decide_level_3).
            try:
                decided_by = adoption_decision(pack, plan)
            except RuleBroken:
                decided_by = None
            heard = plan.heard if hasattr(plan, "heard") else Hearing.objects.filter(
                plan=plan, pupil_heard=True, guardians_heard=True).exists()
            if decided_by and policy.can(actor, decided_by, case) and heard:
                items.append(DueItem("decide_plan", today, case.pk, plan.pk, str(_("Decide on the drafted plan"))))
            continue
        if plan.status != Plan.Status.ACTIVE:
            continue
        evaluation = getattr(plan, "evaluation", None)
        if document.review_cycle == "single_evaluation":
            if evaluation is not None:
                continued = plan.continued if hasattr(plan, "continued") else \
                    Plan.objects.filter(previous=plan).exists()
                if policy.can(actor, "decide_close_plan", case) and not continued:
                    items.append(DueItem("decide_after_evaluation", evaluation.evaluated_on + timedelta(
                        days=DECIDE_WITHIN_DAYS), case.pk, plan.pk,
                        str(_("Decide: continue in a new plan or close"))))
                continue
            last = _last_follow_up(plan) or _day_in_force(plan)
            if policy.can(actor, "add_follow_up", case):
                items.append(DueItem("follow_up", last + timedelta(days=FOLLOW_UP_EVERY_DAYS), case.pk, plan.pk,
                                     str(_("Follow up the plan"))))
            ends = plan.measures_end if hasattr(plan, "measures_end") else \
                plan.measures.aggregate(end=Max("ends_on"))["end"]
            if ends and policy.can(actor, "record_evaluation", case):
                items.append(DueItem("evaluation", ends, case.pk, plan.pk, str(_("Evaluate the plan"))))
        elif document.review_cycle == "grade_points":
            grade = case.pupil.grade
            reviews = plan.fetched_reviews if hasattr(plan, "fetched_reviews") else list(plan.reviews.all())
            if grade in document.review_grades and not any(review.grade == grade for review in reviews):
                if policy.can(actor, "record_review", case):
                    # The end of the current school year (which starts in August).
                    year = today.year + 1 if today.month >= 8 else today.year
                    items.append(DueItem("review", date(year, *REVIEW_DAY), case.pk, plan.pk,
                                         str(_("Review the decision at the end of grade %(grade)s") % {"grade": grade})))
            review = max(reviews, key=lambda review: review.created_at, default=None)
            if review and pack.review_points and policy.can(actor, pack.review_points.decision, case) and not \
                    Decision.objects.filter(plan=plan, decision_type=pack.review_points.decision,
                                            decided_at__gte=review.created_at).exists():
                items.append(DueItem("decide_review_outcome", review.held_on + timedelta(days=DECIDE_WITHIN_DAYS),
                                     case.pk, plan.pk, str(_("Decide on the outcome of the review"))))
        elif document.review_cycle == "periodic" and document.review_months:
            last = _last_follow_up(plan) or _day_in_force(plan)
            if policy.can(actor, "add_follow_up", case):
                items.append(DueItem("follow_up", last + timedelta(days=30 * document.review_months), case.pk,
                                     plan.pk, str(_("Review the plan"))))
    return items


def _last_follow_up(plan: Plan) -> date | None:
    if hasattr(plan, "last_follow_up"):
        return plan.last_follow_up
    return plan.follow_ups.aggregate(last=Max("held_on"))["last"]


def _absence_items(actor: Actor, case: Case, today: date) -> list[DueItem]:
    items: list[DueItem] = []
    record = case.open_steps[0] if hasattr(case, "open_steps") and case.open_steps else \
        None if hasattr(case, "open_steps") else current_record(case)
    if record is not None and policy.can(actor, "add_absence_follow_up", case):
        due = follow_up_due_on(record)
        if due:
            items.append(DueItem("absence_follow_up", due, case.pk, None,
                                 str(_("Absence ladder step %(step)s: follow-up") % {"step": record.step})))
    if record is not None and policy.can(actor, "start_absence_step", case):
        proposed = proposal(case, today=today, record=record)
        if proposed and proposed.met:
            items.append(DueItem("absence_next_step", proposed.since or today, case.pk, None,
                                 str(_("Absence ladder: step %(step)s's starting point is met")
                                     % {"step": proposed.step.number})))
    return items


def due_for(actor: Actor, *, today: date | None = None) -> list[DueItem]:
    """Follow-ups, evaluations, reviews at grade points, absence deadlines, decisions waiting,
    closing decisions after a transfer: everything due for this person, soonest first."""
    today = today or date.today()
    items: list[DueItem] = []
    # Everything the items need, fetched once for all cases and grouped here (Django's prefetch would
    # build a queryset per case): the count of queries does not grow with the cases, nor much the time.
    # Only a case with a plan drafted or in force, or a step of the absence ladder under way, has
    # anything due: the others (most of a school's cases) are not fetched at all.
    live = Exists(Plan.objects.filter(case=OuterRef("pk"), status__in=[Plan.Status.DRAFT, Plan.Status.ACTIVE])) \
        | Exists(AbsenceRecord.objects.filter(case=OuterRef("pk"), ended_on__isnull=True))
    cases = list(cases_visible_to(actor).filter(live).select_related("pupil"))
    case_ids = [case.pk for case in cases]
    plans: dict[int, list[Plan]] = defaultdict(list)
    for plan in Plan.objects.filter(case_id__in=case_ids).select_related("evaluation").annotate(
            last_follow_up=Subquery(PlanFollowUp.objects.filter(plan=OuterRef("pk")).order_by("-held_on")
                                    .values("held_on")[:1]),
            measures_end=Subquery(Measure.objects.filter(plan=OuterRef("pk")).order_by("-ends_on")
                                  .values("ends_on")[:1]),
            continued=Exists(Plan.objects.filter(previous=OuterRef("pk"))),
            heard=Exists(Hearing.objects.filter(plan=OuterRef("pk"), pupil_heard=True, guardians_heard=True))):
        plan.fetched_reviews = []
        plans[plan.case_id].append(plan)
    by_pk = {plan.pk: plan for case_plans in plans.values() for plan in case_plans}
    for review in Review.objects.filter(plan_id__in=list(by_pk)):
        by_pk[review.plan_id].fetched_reviews.append(review)
    steps: dict[int, list[AbsenceRecord]] = defaultdict(list)
    for record in AbsenceRecord.objects.filter(case_id__in=case_ids, ended_on__isnull=True).order_by("-step").annotate(
            last_follow_up=Subquery(AbsenceFollowUp.objects.filter(record=OuterRef("pk")).order_by("-held_on")
                                    .values("held_on")[:1])):
        steps[record.case_id].append(record)
    # The organisation's units once (a handful), not a unit and an organisation row per case.
    units = {unit.pk: unit for unit in SchoolUnit.objects.filter(organisation=actor.organisation)}
    for unit in units.values():
        unit.organisation = actor.organisation
    for case in cases:
        if case.unit_id in units:
            case.unit = units[case.unit_id]
        case.open_steps = steps.get(case.pk, [])
        for plan in plans.get(case.pk, []):
            plan.case = case
        items += _plan_items(actor, case, today, plans.get(case.pk, []))
        items += _absence_items(actor, case, today)
    return sorted(items, key=lambda item: (item.due_on, item.kind, item.case_id))
