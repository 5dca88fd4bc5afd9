"""What is due for a person: one answer for pages, the API and the daily digest."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta

from django.db.models import F, OuterRef, Q, Subquery
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
)
from ..pack import Pack, available_packs, get_absence_ladder, get_pack
from ..policy import UNIT_ROLES
from ..queries import visible_q
from .absence import follow_up_due_on, proposal
from .decisions import adoption_of

FOLLOW_UP_EVERY_DAYS = 30  # how long a plan in force may go without a follow-up before one is due
DECIDE_WITHIN_DAYS = 14  # after an evaluation, the principal's decision (guidance, not law)
REVIEW_DAY = (6, 10)  # a grade point's review falls due towards the end of the school year
# The matrix actions an item is due for: each case's answers come with the case, from the database.
ITEM_ACTIONS = ("decide_close_plan", "add_follow_up", "record_evaluation", "record_review",
                "add_absence_follow_up", "start_absence_step")
CHUNK = 2000  # ids per `IN (...)`: well below what SQLite (32,766) and PostgreSQL (65,535) take at once


@dataclass(frozen=True)
class DueItem:
    kind: str
    due_on: date
    case_id: int
    plan_id: int | None
    label: str
    pupil_name: str = ""  # for the person's own pages; the digest's email leaves it out

    @property
    def overdue(self) -> bool:
        return self.due_on < date.today()


@dataclass
class _Case:
    """What the items need of a case: its row, and what the person may do on it (the policy's answers)."""

    pk: int
    pupil_unit_id: int | None
    unit_id: int
    level: str
    grade: int | None
    pack: Pack
    may: dict[str, bool]
    pupil_name: str = ""

    def can(self, action: str) -> bool:
        return self.may[action]


@dataclass
class _Plan:
    pk: int
    case_id: int
    document: str
    status: str
    previous_id: int | None
    evaluated_on: date | None
    continued: bool = False
    heard: bool = False
    # The school's day (TIME_ZONE) the plan came into force: a decision at 00:30 counts for that day.
    in_force_since: date | None = None
    last_follow_up: date | None = None
    measures_end: date | None = None
    reviews: list[Review] | None = None


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ids = list(ids)
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _decision_actions(pack: Pack) -> set[str]:
    """The decisions an item may wait for: each level's that puts a plan in force, a continued plan's,
    and the review points' outcome."""
    actions = {level.decisions[0] for level in pack.levels if level.requires_decision and level.decisions}
    if "decide_new_plan" in pack.decisions:
        actions.add("decide_new_plan")
    if pack.review_points:
        actions.add(pack.review_points.decision)
    return actions


def _plan_items(case: _Case, plans: list[_Plan], today: date) -> list[DueItem]:
    items: list[DueItem] = []
    pack = case.pack
    for plan in plans:
        document = pack.document(plan.document)
        if plan.status == Plan.Status.ACTIVE and case.pupil_unit_id != case.unit_id:
            # The pupil has left the unit: its principal decides on closing (never an automatic close).
            if case.can("decide_close_plan"):
                items.append(DueItem("decide_closing_after_transfer", today, case.pk, plan.pk,
                                     str(_("Decide on closing the plan: the pupil has left the unit"))))
            continue
        if plan.status == Plan.Status.DRAFT:
            # The decision that puts this draft in force (an `ax` IP: the education chief's decide_level_3).
            try:
                decided_by = adoption_of(pack, plan.document, level=case.level,
                                         continues=bool(plan.previous_id)).decision
            except RuleBroken:
                decided_by = None
            if decided_by and plan.heard and case.can(decided_by):
                items.append(DueItem("decide_plan", today, case.pk, plan.pk, str(_("Decide on the drafted plan"))))
            continue
        if document.review_cycle == "single_evaluation":
            if plan.evaluated_on is not None:
                if case.can("decide_close_plan") and not plan.continued:
                    items.append(DueItem("decide_after_evaluation", plan.evaluated_on + timedelta(
                        days=DECIDE_WITHIN_DAYS), case.pk, plan.pk,
                        str(_("Decide: continue in a new plan or close"))))
                continue
            if case.can("add_follow_up"):
                last = plan.last_follow_up or plan.in_force_since
                items.append(DueItem("follow_up", last + timedelta(days=FOLLOW_UP_EVERY_DAYS), case.pk, plan.pk,
                                     str(_("Follow up the plan"))))
            if plan.measures_end and case.can("record_evaluation"):
                items.append(DueItem("evaluation", plan.measures_end, case.pk, plan.pk, str(_("Evaluate the plan"))))
        elif document.review_cycle == "grade_points":
            reviews = plan.reviews or []
            if case.grade in document.review_grades and not any(review.grade == case.grade for review in reviews):
                if case.can("record_review"):
                    # The end of the current school year (which starts in August).
                    year = today.year + 1 if today.month >= 8 else today.year
                    items.append(DueItem("review", date(year, *REVIEW_DAY), case.pk, plan.pk,
                                         str(_("Review the decision at the end of grade %(grade)s")
                                             % {"grade": case.grade})))
            review = max(reviews, key=lambda review: review.created_at, default=None)
            if review and pack.review_points and case.can(pack.review_points.decision) and not \
                    Decision.objects.filter(plan_id=plan.pk, decision_type=pack.review_points.decision,
                                            decided_at__gte=review.created_at).exists():
                items.append(DueItem("decide_review_outcome", review.held_on + timedelta(days=DECIDE_WITHIN_DAYS),
                                     case.pk, plan.pk, str(_("Decide on the outcome of the review"))))
        elif document.review_cycle == "periodic" and document.review_months:
            if case.can("add_follow_up"):
                last = plan.last_follow_up or plan.in_force_since
                items.append(DueItem("follow_up", last + timedelta(days=30 * document.review_months), case.pk,
                                     plan.pk, str(_("Review the plan"))))
    return items


def _absence_items(actor: Actor, case: _Case, record: _Step | None, today: date) -> list[DueItem]:
    items: list[DueItem] = []
    if record is None:
        return items
    if case.can("add_absence_follow_up"):
        due = follow_up_due_on(record)  # type: ignore[arg-type]
        if due:
            items.append(DueItem("absence_follow_up", due, case.pk, None,
                                 str(_("Absence ladder step %(step)s: follow-up") % {"step": record.step})))
    if case.can("start_absence_step"):
        proposed = proposal(None, today=today, record=record,  # type: ignore[arg-type]
                            ladder=get_absence_ladder(actor.organisation.absence_ladder))
        if proposed and proposed.met:
            items.append(DueItem("absence_next_step", proposed.since or today, case.pk, None,
                                 str(_("Absence ladder: step %(step)s's starting point is met")
                                     % {"step": proposed.step.number})))
    return items


# What the items need of a plan's (or an absence record's) case, read with the row.
_CASE_FIELDS = ("case__unit_id", "case__level", "case__pack_id", "case__pupil__unit_id", "case__pupil__grade",
                "case__pupil__person__name")


def _item_actions() -> list[str]:
    # A case kept under an earlier pack (fi-2010 after 2025) waits for that pack's decisions: the
    # answers are asked for every shipped pack's (can() answers no where the person's pack has none).
    return sorted(set(ITEM_ACTIONS).union(*(_decision_actions(get_pack(key)) for key in available_packs())))


def _case(cases: dict[int, _Case], answers: policy.ListAnswers, case_id: int, fields: tuple[object, ...],
          values: tuple[object, ...]) -> _Case:
    """The case of a row, made once however many of its plans are read."""
    if case_id not in cases:
        unit_id, level, pack_id, pupil_unit_id, grade, name = fields
        # The answers are shared by the cases with the same level and columns: read, never changed.
        cases[case_id] = _Case(pk=case_id, pupil_unit_id=pupil_unit_id, unit_id=unit_id,  # type: ignore[arg-type]
                               level=str(level), grade=grade, pack=get_pack(str(pack_id)),  # type: ignore[arg-type]
                               may=answers.of_values(str(level), values), pupil_name=str(name or ""))
    return cases[case_id]


def _plans(actor: Actor, cases: dict[int, _Case], visible: Q, actions: list[str]) -> dict[int, list[_Plan]]:
    """The drafted plans and the plans in force that can have an item for this person, each with its
    case and the policy's answers for the items' actions (`policy.with_permissions` of the plan's
    case), in one query that starts from the plans: whether a draft is heard and an evaluated plan
    continued, and the day in force, the last follow-up and the measures' end only where the person
    may follow up or evaluate. The cases are added to `cases`.

    A plan in force not yet evaluated has an item only for one who follows plans up, evaluates or
    reviews them: of a principal's thousand cases only the plans drafted, evaluated, of pupils who
    have left, or that they work on are read (a list starting from the cases read all thousand)."""
    pack = actor.pack
    work = {"add_follow_up", "record_evaluation", "record_review"} | (
        {pack.review_points.decision} if pack.review_points else set())
    workers = {role for action in work for role in pack.roles_for(action)}
    mine = Plan.objects.filter(visible, status__in=[Plan.Status.DRAFT, Plan.Status.ACTIVE])
    if not actor.roles & (UNIT_ROLES | {"education_chief"}) <= workers:
        # A principal: of the plans in force only those that wait for them (evaluated, or the pupil
        # has left the unit: the decision on closing) or that some role of theirs works on.
        left = ~Q(case__pupil__unit_id=F("case__unit_id"))
        mine = mine.filter(Q(status=Plan.Status.DRAFT) | Q(evaluation__isnull=False) | left
                           | policy.on_case(policy.scope_reach(actor, work), "case"))
    # One row's hearing and successor, each found by its index for the plan at hand (a subquery with
    # LIMIT: as an EXISTS column PostgreSQL hashed every hearing and every plan of the district).
    heard = Subquery(Hearing.objects.filter(plan=OuterRef("pk"), pupil_heard=True, guardians_heard=True)
                     .values("pk")[:1])
    continued = Subquery(Plan.objects.filter(previous=OuterRef("pk")).values("pk")[:1])
    rows, answers = policy.with_permissions(mine.annotate(hearing=heard, successor=continued), actor, actions,
                                            case="case")
    plans: dict[int, list[_Plan]] = defaultdict(list)
    by_pk: dict[int, _Plan] = {}
    width = len(_CASE_FIELDS)
    for pk, case_id, document, status, previous_id, evaluated_on, hearing, successor, *rest in rows.values_list(
            "pk", "case_id", "document", "status", "previous_id", "evaluation__evaluated_on", "hearing", "successor",
            *_CASE_FIELDS, *answers.columns):
        _case(cases, answers, case_id, tuple(rest[:width]), tuple(rest[width:]))
        plan = _Plan(pk, case_id, document, status, previous_id, evaluated_on)
        # A draft waits for its decision once the pupil and the guardians are heard; an evaluated
        # plan waits for continue-or-close until a new plan continues it.
        plan.heard = hearing is not None and status == Plan.Status.DRAFT
        plan.continued = successor is not None and evaluated_on is not None
        plans[case_id].append(plan)
        by_pk[pk] = plan

    def cycle(plan: _Plan) -> str:
        return cases[plan.case_id].pack.document(plan.document).review_cycle

    in_force = [plan for plan in by_pk.values() if plan.status == Plan.Status.ACTIVE]
    unevaluated = [plan for plan in in_force if cycle(plan) == "single_evaluation" and plan.evaluated_on is None]
    followed = [plan.pk for plan in unevaluated + [plan for plan in in_force if cycle(plan) == "periodic"]
                if cases[plan.case_id].can("add_follow_up")]
    evaluated = [plan.pk for plan in unevaluated if cases[plan.case_id].can("record_evaluation")]
    reviewed = [plan.pk for plan in in_force if cycle(plan) == "grade_points"]
    # One query for both dates, each the end of its index for the plan at hand (a Max over the joins
    # read every follow-up of every plan); a date read for a plan whose item the person may not act
    # on makes no item (the items ask the policy's answers).
    last = PlanFollowUp.objects.filter(plan=OuterRef("pk")).order_by("-held_on").values("held_on")[:1]
    end = Measure.objects.filter(plan=OuterRef("pk")).order_by("-ends_on").values("ends_on")[:1]
    for chunk in _chunks(sorted(set(followed) | set(evaluated))):
        for plan_id, activated_at, created_at, last_on, end_on in Plan.objects.filter(pk__in=chunk).annotate(
                last=Subquery(last), end=Subquery(end)).values_list(
                "pk", "activated_at", "created_at", "last", "end"):
            plan = by_pk[plan_id]
            plan.in_force_since = timezone.localdate(activated_at or created_at)
            plan.last_follow_up, plan.measures_end = last_on, end_on
    for plan_id in reviewed:
        by_pk[plan_id].reviews = []
    for chunk in _chunks(reviewed):
        for review in Review.objects.filter(plan_id__in=chunk):
            by_pk[review.plan_id].reviews.append(review)  # type: ignore[union-attr]
    return plans


@dataclass(frozen=True)
class _Step:
    """A step of the absence ladder under way, as `follow_up_due_on` and `proposal` read it."""

    case_id: int
    ladder_id: str
    step: int
    started_on: date
    last_follow_up: date | None


def _open_steps(actor: Actor, cases: dict[int, _Case], visible: Q, actions: list[str]) -> dict[int, _Step]:
    """Each case's step of the absence ladder under way (the highest), with its last follow-up, where
    the person may follow it up or start the next. One query from the open steps of the cases the
    person reaches (far fewer than the cases); a case on the ladder with no plan that the plans'
    query read comes with its answers in one more (added to `cases`)."""
    last = AbsenceFollowUp.objects.filter(record=OuterRef("pk")).order_by("-held_on").values("held_on")[:1]
    rows = list(AbsenceRecord.objects.filter(visible, ended_on__isnull=True).annotate(last_follow_up=Subquery(last))
                .order_by("case_id", "-step").values_list("case_id", "ladder_id", "step", "started_on", "last_follow_up"))
    for chunk in _chunks(sorted({row[0] for row in rows} - cases.keys())):
        found, answers = policy.with_permissions(Case.objects.filter(pk__in=chunk), actor, actions)
        for case_id, *rest in found.values_list("pk", *(name.removeprefix("case__") for name in _CASE_FIELDS),
                                               *answers.columns):
            _case(cases, answers, case_id, tuple(rest[:len(_CASE_FIELDS)]), tuple(rest[len(_CASE_FIELDS):]))
    steps: dict[int, _Step] = {}
    for row in rows:
        case = cases[row[0]]
        if case.can("add_absence_follow_up") or case.can("start_absence_step"):
            steps.setdefault(row[0], _Step(*row))
    return steps


def due_for(actor: Actor, *, today: date | None = None) -> list[DueItem]:
    """Follow-ups, evaluations, reviews at grade points, absence deadlines, decisions waiting,
    closing decisions after a transfer: everything due for this person, soonest first.

    A handful of queries however many cases: the plans and the steps of the absence ladder come with
    their cases and the policy's answers for the items' actions (`policy.with_permissions` of the
    row's case), and only what an item the person may act on is dated by is fetched (a principal's
    thousand plans need no follow-up dates)."""
    today = today or date.today()
    if not actor.roles:
        return []
    cases: dict[int, _Case] = {}
    visible, actions = policy.on_case(visible_q(actor), "case"), _item_actions()
    plans = _plans(actor, cases, visible, actions)
    steps = _open_steps(actor, cases, visible, actions)
    items: list[DueItem] = []
    for case in cases.values():
        items += _plan_items(case, plans.get(case.pk, []), today)
        items += _absence_items(actor, case, steps.get(case.pk), today)
    return sorted((replace(item, pupil_name=cases[item.case_id].pupil_name) for item in items),
                  key=lambda item: (item.due_on, item.kind, item.case_id))

