"""The absence ladder (åtgärdstrappan) and reports of concern to social services.

A step's starting point is guidance, not a lock: the tool proposes the next step when its starting
point is met, and a principal may start it earlier with a recorded reason. A report of concern to
social services is every employee's duty at once: it is recorded any time, never held back for a step.
"""

from __future__ import annotations

import calendar
import operator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import audit, policy
from ..actor import Actor
from ..errors import NotAllowed, RuleBroken
from ..models import AbsenceCheck, AbsenceFollowUp, AbsenceRecord, Case, Person, Pupil, SocialServicesReport
from ..pack import AbsenceLadder, Step, get_absence_ladder
from .cases import _require_text

OPERATORS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}


def ladder_for(case: Case) -> AbsenceLadder:
    return get_absence_ladder(case.unit.organisation.absence_ladder)


def current_record(case: Case) -> AbsenceRecord | None:
    return case.absence_steps.filter(ended_on__isnull=True).order_by("-step").first()


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Proposal:
    step: Step
    met: bool  # the starting point is met (as far as the tool can tell)
    since: date | None  # when it was met by time alone


_UNSET: Any = object()


def proposal(case: Case | None, *, today: date, metrics: dict[str, Any] | None = None,
             record: AbsenceRecord | None = _UNSET, ladder: AbsenceLadder | None = None) -> Proposal | None:
    """The next step and whether its starting point is met: by time since the previous step, and by
    the figures given (absence percent, unreported absences...); a figure not given is not guessed.
    A list that has the ladder and the record already passes them instead of the case."""
    ladder = ladder or ladder_for(case)  # type: ignore[arg-type]
    record = current_record(case) if record is _UNSET else record
    step = ladder.next_step(record.step) if record else ladder.step(1)
    if step is None:
        return None
    trigger = step.trigger
    since = None
    time_met = True
    if trigger.after_previous_step_days is not None and record is not None:
        since = record.started_on + timedelta(days=trigger.after_previous_step_days)
        time_met = today >= since
    results = []
    for condition in trigger.conditions:
        if metrics is None or condition.metric not in metrics:
            continue
        results.append(OPERATORS[condition.op](metrics[condition.metric], condition.value))
    # The tool holds no attendance register: figures the caller gives are checked, the time rule always.
    conditions_met = (all(results) if trigger.match == "all" else any(results)) if results else True
    return Proposal(step=step, met=time_met and conditions_met, since=since)


@transaction.atomic
def start_absence_step(*, actor: Actor, case: Case, step: int, started_on: date, early_reason: str = "",
                       metrics: dict[str, Any] | None = None) -> AbsenceRecord:
    """Start the next step. Before its starting point is met only a principal may, with a reason."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    policy.require(actor, "start_absence_step", case)
    ladder = ladder_for(case)
    record = current_record(case)
    expected = record.step + 1 if record else 1
    if step != expected:
        raise RuleBroken(_("The ladder is climbed a step at a time: the next step is %(step)s.") % {"step": expected},
                         code="step_out_of_order")
    # The starting point is judged on the day the step starts: a date ahead would make it "met" early.
    if started_on > timezone.localdate():
        raise RuleBroken(_("A step cannot be started on a day still to come."), code="future_date")
    if record is not None and started_on < record.started_on:
        raise RuleBroken(_("A step cannot start before the step before it."), code="before_previous_step")
    proposed = proposal(case, today=started_on, metrics=metrics)
    if proposed is None:
        raise RuleBroken(_("The pupil is on the ladder's last step."), code="last_step")
    early_reason = (early_reason or "").strip()
    if not proposed.met:
        if not policy.can(actor, "start_absence_step_early", case) or not (
                ladder.early_start_allowed_for & actor.roles):
            raise NotAllowed(_("The step's starting point is not met; only the principal may start it earlier."),
                             code="not_allowed:start_absence_step_early")
        if ladder.early_start_requires_reason and not early_reason:
            raise RuleBroken(_("Starting a step before its starting point needs a recorded reason."),
                             code="early_reason_missing")
    else:
        early_reason = ""
    if record is not None:
        record.ended_on = started_on
        record.save(update_fields=["ended_on"])
    new = AbsenceRecord.objects.create(case=case, ladder_id=ladder.id, step=step, started_on=started_on,
                                       started_by=actor.person, early_reason=early_reason)
    audit.record(actor, "absence.step_started", new)
    return new


def _open(record: AbsenceRecord) -> AbsenceRecord:
    # The row as it is now (locked): the caller's copy may predate the next step ending this one.
    record = AbsenceRecord.objects.select_for_update().get(pk=record.pk)
    if record.ended_on is not None:
        raise RuleBroken(_("That step has ended; work on the current step."), code="step_ended")
    return record


@transaction.atomic
def check_absence_action(*, actor: Actor, record: AbsenceRecord, item: str, note: str = "") -> AbsenceCheck:
    """Tick off one of the step's actions on its checklist."""
    policy.require(actor, "check_absence_action", record.case)
    record = _open(record)
    try:
        get_absence_ladder(record.ladder_id).step(record.step).item(item)
    except KeyError:
        raise RuleBroken(_("That is not an action of this step."), code="unknown_item") from None
    try:
        with transaction.atomic():
            check = AbsenceCheck.objects.create(record=record, item=item, checked_by=actor.person, note=note)
    except IntegrityError:
        raise RuleBroken(_("That action is already ticked off."), code="already_checked") from None
    audit.record(actor, "absence.action_checked", check)
    return check


@transaction.atomic
def add_absence_follow_up(*, actor: Actor, record: AbsenceRecord, text: str, held_on: date) -> AbsenceFollowUp:
    policy.require(actor, "add_absence_follow_up", record.case)
    record = _open(record)
    follow_up = AbsenceFollowUp.objects.create(record=record, held_on=held_on, signed_by=actor.person,
                                               text=_require_text(text, _("The follow-up")))
    audit.record(actor, "absence.followed_up", follow_up)
    return follow_up


@transaction.atomic
def record_coordination(*, actor: Actor, record: AbsenceRecord, coordinator: Person, form: str) -> AbsenceRecord:
    """Step 4: who coordinates the measures, and how (meetings with guardians, SIP, network meetings...)."""
    policy.require(actor, "start_absence_step", record.case)
    record = _open(record)
    coordination = get_absence_ladder(record.ladder_id).step(record.step).coordination
    if coordination is None:
        raise RuleBroken(_("This step records no coordination."), code="no_coordination")
    if form not in {option.key for option in coordination.forms}:
        raise RuleBroken(_("Unknown form of coordination."), code="unknown_form")
    record.coordinator = coordinator
    record.coordination_form = form
    record.save(update_fields=["coordinator", "coordination_form"])
    audit.record(actor, "absence.coordination_recorded", record)
    return record


def follow_up_due_on(record: AbsenceRecord) -> date | None:
    """When the step's next follow-up is due: once within N days of its start, or every N months."""
    rhythm = get_absence_ladder(record.ladder_id).step(record.step).follow_up
    if hasattr(record, "last_follow_up"):  # annotated by a list (services.due): no rows fetched
        last = record.last_follow_up
    else:
        last = record.follow_ups.order_by("-held_on").values_list("held_on", flat=True).first()
    if rhythm.every_months:
        return add_months(last or record.started_on, rhythm.every_months)
    if rhythm.due_days is not None and last is None:
        return record.started_on + timedelta(days=rhythm.due_days)
    return None


@transaction.atomic
def record_report_to_social_services(*, actor: Actor, pupil: Pupil, text: str, case: Case | None = None,
                                     absence_record: AbsenceRecord | None = None) -> SocialServicesReport:
    """Orosanmälan: any staff member, any time. To the home municipality when the pupil lives elsewhere."""
    case = case or (absence_record.case if absence_record else None)
    role = policy.require(actor, "record_report_to_social_services", case)
    if pupil.person.organisation_id != actor.organisation.pk:
        raise NotAllowed(_("That pupil belongs to another school owner."), code="other_organisation")
    if case is not None and case.pupil_id != pupil.pk:
        raise RuleBroken(_("That case is about another pupil."), code="other_pupil")
    if absence_record is not None and absence_record.case_id != case.pk:
        raise RuleBroken(_("That absence step belongs to another case."), code="other_case")
    if absence_record is None and case is not None:
        # Made while the pupil is on the ladder, the report counts for the step (step 4's checklist).
        absence_record = current_record(case)
    unit = case.unit if case else pupil.unit
    municipality = pupil.home_municipality or (unit.municipality if unit else "")
    report = SocialServicesReport.objects.create(
        pupil=pupil, case=case, absence_record=absence_record, reported_by=actor.person, reported_as=role,
        municipality=municipality, text=_require_text(text, _("The report")))
    if absence_record is not None and absence_record.ended_on is None:
        step = get_absence_ladder(absence_record.ladder_id).step(absence_record.step)
        for item in step.actions:
            if item.action == "record_report_to_social_services":
                AbsenceCheck.objects.get_or_create(record=absence_record, item=item.key,
                                                   defaults={"checked_by": actor.person, "note": municipality})
    audit.record(actor, "social_services.reported", report)
    return report
