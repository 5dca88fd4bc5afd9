"""Decisions: immutable, by the role the pack names, after the hearing, with the pack's appeal text.

The Unikum seed: after a plan's one evaluation the principal decides to continue in a new ÅP (an
editable copy of the old; it needs its own decision even if nothing changed, because ÅP decisions
are appealable) or to close it (the need no longer remains, a fresh investigation is wanted, the
pupil leaves the unit). Closing is a decision and appealable.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import audit, history, policy
from ..actor import Actor
from ..errors import NotAllowed, RuleBroken
from ..models import Case, Decision, Hearing, LevelChange, Plan
from ..pack import Pack, get_pack
from .cases import _require_text
from .plans import _on_case, _read_only, copy_as_draft, lock


def _decider_role(actor: Actor, pack: Pack, decision_type: str, case: Case) -> str:
    """The actor's role for this decision: one the pack names (a delegate only where it may be delegated)."""
    spec = pack.decisions.get(decision_type)
    if spec is None:
        raise RuleBroken(_("The framework has no decision of that kind."), code="unknown_decision")
    role = policy.require(actor, decision_type, case)
    if role not in spec.roles:
        raise NotAllowed(_("The framework names another role for this decision."), code="wrong_decider")
    if role == "principal_delegate" and not spec.delegable:
        raise NotAllowed(_("This decision may not be delegated: the principal decides it."), code="not_delegable")
    return role


@dataclass(frozen=True)
class Adoption:
    """How a drafted plan comes into force: by `decision` (None: by no decision), at which level."""

    decision: str | None
    level: str


def adoption(pack: Pack, plan: Plan) -> Adoption:
    """The decision that puts a drafted plan in force: `decide_new_plan` for a plan that continues
    another (Unikum); for a first plan, the decision of the lowest level at or above the case's that
    has this document and requires a decision (`se` first ÅP: decide_level_2; `ax` IP: decide_level_3
    by the education chief). None where no level with the document takes a decision (`fi-2010`
    learning plan): such a plan is put in force by whoever drafts it (put_in_force)."""
    return adoption_of(pack, plan.document, level=plan.case.level, continues=bool(plan.previous_id))


def adoption_of(pack: Pack, document: str, *, level: str, continues: bool) -> Adoption:
    """`adoption` from the plan's parts: its document, the case's level, whether it continues another."""
    if continues and "decide_new_plan" in pack.decisions:
        return Adoption("decide_new_plan", level)
    current = pack.level(level).rank
    candidates = [candidate for candidate in pack.levels if candidate.rank >= current and document in candidate.documents]
    for level in candidates:
        if level.requires_decision and level.decisions:
            return Adoption(level.decisions[0], level.key)
    if candidates:
        return Adoption(None, candidates[0].key)
    raise RuleBroken(_("The framework has no level with this kind of plan."), code="no_adoption_decision")


def without_decision(pack: Pack, plan: Plan) -> str | None:
    """The level at which the plan may come into force with no decision, if any: the lowest level at
    or above the case's with this document needs none (`ax` ÅP at allmänpedagogiskt stöd: the class
    teacher answers for "eventuellt åtgärdsprogram"; `fi-2010` learning plan)."""
    current = pack.level(plan.case.level).rank
    for level in pack.levels:
        if level.rank >= current and plan.document in level.documents:
            return None if level.requires_decision else level.key
    return None


def adoption_decision(pack: Pack, plan: Plan) -> str | None:
    return adoption(pack, plan).decision


def _hearing_for(case: Case, plan: Plan | None) -> Hearing:
    hearings = Hearing.objects.filter(case=case, pupil_heard=True, guardians_heard=True)
    hearing = (hearings.filter(plan=plan) if plan is not None else hearings).order_by("-created_at").first()
    if hearing is None:
        raise RuleBroken(_("The pupil and the guardians must be heard, and the hearing recorded, before this decision."),
                         code="hearing_missing")
    return hearing


def _record(actor: Actor, case: Case, decision_type: str, *, role: str, grounds: str, plan: Plan | None = None,
            outcome: str = "", close_reason: str = "", new_plan: Plan | None = None,
            corrects: Decision | None = None) -> Decision:
    pack = get_pack(case.pack_id)
    spec = pack.decision(decision_type)
    # A decision on an ÅP or IP needs the pupil's and guardians' hearing recorded first.
    needs_hearing = spec.requires_hearing or (plan is not None and pack.document(plan.document).requires_hearing)
    hearing = _hearing_for(case, plan) if needs_hearing else None
    decision = Decision.objects.create(
        case=case, plan=plan, decision_type=decision_type, outcome=outcome, close_reason=close_reason,
        grounds=_require_text(grounds, _("The grounds")), decided_by=actor.person, decided_as=role,
        decided_at=timezone.now(), pack_id=pack.id, pack_version=pack.version, appealable=spec.appealable,
        appeal_text_sv=pack.appeal_text(decision_type, "sv") if spec.appealable else "",
        appeal_text_en=pack.appeal_text(decision_type, "en") if spec.appealable else "",
        hearing=hearing, corrects=corrects, new_plan=new_plan,
    )
    audit.record(actor, f"decision.{decision_type}", decision)
    return decision


def _target_level(pack: Pack, decision_type: str, to_level: str) -> str:
    """The level a decision moves the case to: its one level, or the decider's choice among several
    (`ax` decide_review_outcome, `fi` decide_support); "" when it moves none."""
    levels = pack.decision(decision_type).levels
    if len(levels) <= 1:
        if to_level and to_level not in levels:
            raise RuleBroken(_("That decision does not set that support level."), code="bad_level")
        return levels[0] if levels else ""
    if to_level not in levels:
        raise RuleBroken(_("Choose the support level the decision sets."), code="level_choice_missing")
    return to_level


def _change_level(actor: Actor, case: Case, to_level: str, decision: Decision) -> None:
    if to_level and to_level != case.level:
        LevelChange.objects.create(case=case, from_level=case.level, to_level=to_level, decision=decision,
                                   changed_by=actor.person)
        case.level = to_level
        case.save(update_fields=["level"])


def _close(plan: Plan, actor: Actor, change: str) -> None:
    plan.status = Plan.Status.CLOSED
    plan.closed_at = timezone.now()
    plan.version += 1
    plan.save(update_fields=["status", "closed_at", "version"])
    history.keep(plan, change=change, by=actor.person)


@transaction.atomic
def decide_level(*, actor: Actor, case: Case, decision_type: str, grounds: str, to_level: str = "") -> Decision:
    """A decision that moves the case to a level (e.g. `ax` decide_level_2/decide_level_3, `fi` decide_support)."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    pack = get_pack(case.pack_id)
    role = _decider_role(actor, pack, decision_type, case)
    target = _target_level(pack, decision_type, to_level)
    if not target:
        raise RuleBroken(_("That decision does not set a support level."), code="not_a_level_decision")
    decision = _record(actor, case, decision_type, role=role, grounds=grounds, outcome=target)
    _change_level(actor, case, target, decision)
    return decision


def _in_force(plan: Plan, actor: Actor, change: str) -> None:
    if plan.previous_id:
        previous = lock(plan.previous)
        if previous.status != Plan.Status.CLOSED:
            _close(previous, actor, "continued in a new plan")
    plan.status = Plan.Status.ACTIVE
    plan.activated_at = timezone.now()
    plan.version += 1
    plan.save(update_fields=["status", "activated_at", "version"])
    history.keep(plan, change=change, by=actor.person)


def _check_adoptable(plan: Plan) -> None:
    case = plan.case
    _read_only(plan)
    if plan.status != Plan.Status.DRAFT:
        raise RuleBroken(_("Only a drafted plan is decided on."), code="plan_not_draft")
    if case.pupil.unit_id != case.unit_id:
        raise RuleBroken(_("The pupil is not at this unit: a plan here would not be valid."), code="not_at_unit")
    # One plan of a kind in force per case: only the plan this one continues gives way to it.
    if case.plans.filter(document=plan.document, status=Plan.Status.ACTIVE).exclude(pk=plan.previous_id).exists():
        raise RuleBroken(_("Another plan of this kind is in force: close it, or continue it in a new plan."),
                         code="plan_in_force")


@transaction.atomic
def put_in_force(*, actor: Actor, plan: Plan) -> Plan:
    """A plan the framework puts in force without a decision (e.g. `ax` ÅP at level 1): by who drafts it."""
    plan = lock(plan)
    case = plan.case
    pack = get_pack(case.pack_id)
    _check_adoptable(plan)
    level = None if plan.previous_id else without_decision(pack, plan)
    if level is None:
        raise RuleBroken(_("This plan comes into force only with a decision."), code="decision_needed")
    policy.require(actor, pack.document(plan.document).draft_action, case)
    _in_force(plan, actor, "put in force")
    if level != case.level:
        LevelChange.objects.create(case=case, from_level=case.level, to_level=level, changed_by=actor.person)
        case.level = level
        case.save(update_fields=["level"])
    audit.record(actor, "plan.put_in_force", plan)
    return plan


@transaction.atomic
def decide_new_plan(*, actor: Actor, plan: Plan, grounds: str, to_level: str = "") -> Decision:
    """Adopt a drafted plan: it comes into force, and the plan it continues goes to the archive."""
    plan = lock(plan)
    case = plan.case
    pack = get_pack(case.pack_id)
    _check_adoptable(plan)
    how = adoption(pack, plan)
    if how.decision is None:
        raise RuleBroken(_("This plan comes into force without a decision: whoever drafts it puts it in force."),
                         code="no_decision_needed")
    role = _decider_role(actor, pack, how.decision, case)
    several = len(pack.decision(how.decision).levels) > 1
    target = _target_level(pack, how.decision, to_level or (how.level if several else ""))
    decision = _record(actor, case, how.decision, role=role, grounds=grounds, plan=plan, outcome="adopted")
    _in_force(plan, actor, "decided")
    _change_level(actor, case, target, decision)
    return decision


@transaction.atomic
def continue_in_new_plan(*, actor: Actor, plan: Plan) -> Plan:
    """After the evaluation: a new draft as an editable copy of the plan, for its own decision."""
    plan = lock(plan)
    case = plan.case
    _read_only(plan)
    pack = get_pack(case.pack_id)
    _decider_role(actor, pack, "decide_new_plan" if "decide_new_plan" in pack.decisions
                  else adoption_decision(pack, plan) or "decide_new_plan", case)
    if pack.document(plan.document).review_cycle == "single_evaluation" and not hasattr(plan, "evaluation"):
        raise RuleBroken(_("The plan is evaluated before the principal decides how support goes on."),
                         code="not_evaluated")
    if Plan.objects.filter(previous=plan).exists():
        raise RuleBroken(_("A new plan continuing this one is already drafted."), code="already_continued")
    if case.pupil.unit_id != case.unit_id:
        raise RuleBroken(_("The pupil has left this unit: close the plan, and the new unit draws up its own."),
                         code="not_at_unit")
    copy = copy_as_draft(plan, actor)
    audit.record(actor, "plan.continued_as_draft", copy)
    return copy


@transaction.atomic
def decide_close_plan(*, actor: Actor, plan: Plan, reason: str, grounds: str) -> Decision:
    """Close a plan with one of the pack's reasons; appealable where the pack says."""
    plan = lock(plan)
    case = plan.case
    _read_only(plan)
    if plan.status != Plan.Status.ACTIVE:
        raise RuleBroken(_("Only a plan in force is closed; a draft is simply not decided."), code="plan_not_active")
    pack = get_pack(case.pack_id)
    if reason not in pack.close_reasons:
        raise RuleBroken(_("That is not a reason the framework gives for closing a plan."), code="bad_close_reason")
    role = _decider_role(actor, pack, "decide_close_plan", case)
    decision = _record(actor, case, "decide_close_plan", role=role, grounds=grounds, plan=plan,
                       outcome="closed", close_reason=reason)
    _close(plan, actor, f"closed: {reason}")
    return decision


@transaction.atomic
def decide_not_to_draw_up_plan(*, actor: Actor, case: Case, grounds: str) -> Decision:
    """`se`: the principal decides that no ÅP is drawn up after an investigation; appealable."""
    pack = get_pack(case.pack_id)
    role = _decider_role(actor, pack, "decide_not_to_draw_up_plan", case)
    return _record(actor, case, "decide_not_to_draw_up_plan", role=role, grounds=grounds, outcome="no_plan")


@transaction.atomic
def decide(*, actor: Actor, case: Case, decision_type: str, grounds: str, plan: Plan | None = None,
           outcome: str = "", to_level: str = "") -> Decision:
    """Any other decision the pack knows (e.g. `se` level-3 measures, `ax` review outcomes, `fi` support)."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    pack = get_pack(case.pack_id)
    role = _decider_role(actor, pack, decision_type, case)
    _on_case(plan, case)  # a plan given with the decision is one of this case's, and not archived
    options = pack.decision(decision_type).options
    if options and outcome not in {option.key for option in options}:
        raise RuleBroken(_("Choose one of the decision's options."), code="option_missing")
    target = _target_level(pack, decision_type, to_level)
    decision = _record(actor, case, decision_type, role=role, grounds=grounds, plan=plan,
                       outcome=outcome or target)
    _change_level(actor, case, target, decision)
    return decision


@transaction.atomic
def correct_decision(*, actor: Actor, decision: Decision, grounds: str) -> Decision:
    """A decision is never changed: a correction is a new decision of the same kind that refers to it."""
    case = decision.case
    pack = get_pack(case.pack_id)
    role = _decider_role(actor, pack, decision.decision_type, case)
    return _record(actor, case, decision.decision_type, role=role, grounds=grounds, plan=decision.plan,
                   outcome=decision.outcome, close_reason=decision.close_reason, corrects=decision)
