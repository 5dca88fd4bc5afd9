"""What the case panel shows: the pupil's support as a timeline, the current plan, and the forms of
the actions this person may take now. Read with a fixed number of queries however long the case."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from lti_plugin.support import policy, queries
from lti_plugin.support.actor import Actor
from lti_plugin.support.models import (
    AbsenceRecord,
    Adaptation,
    Case,
    Concern,
    Decision,
    ExpertGroup,
    Investigation,
    Person,
    Plan,
)
from lti_plugin.support.services import welfare
from lti_plugin.support.services.absence import Proposal, current_record, follow_up_due_on, ladder_for, proposal

from . import forms as action_forms


TIMELINE_SHOWN = 30  # the latest entries; the whole timeline on request
FOLLOW_UPS_SHOWN = 10  # a plan's latest follow-ups on the panel; all of them in the timeline and the print view


@dataclass(frozen=True)
class Event:
    at: datetime | date
    kind: str
    title: str
    text: str
    who: str = ""

    @functools.cached_property
    def day(self) -> date:
        return timezone.localdate(self.at) if isinstance(self.at, datetime) else self.at

    @functools.cached_property
    def iso(self) -> str:
        """The school's day, as the page writes dates (Y-m-d), without the template's date filter."""
        return self.day.isoformat()


def _sort_key(event: Event) -> tuple[date, str]:
    return event.day, event.at.isoformat() if isinstance(event.at, datetime) else ""


def level_name(actor: Actor, key: str) -> str:
    return next((level.name.get(actor.language) for level in actor.pack.levels if level.key == key), key)


def document_name(actor: Actor, key: str) -> str:
    document = actor.pack.documents.get(key)
    return document.name.get(actor.language) if document else key


def decision_name(actor: Actor, key: str) -> str:
    spec = actor.pack.decisions.get(key)
    return spec.name.get(actor.language) if spec else key


def extent(actor: Actor, case: Case) -> str:
    """How much of the case this person sees: `full`, or `summary` (the pupil and guardians)."""
    extents = {actor.pack.grant("view_case", role).extent for role in policy.acting_roles(actor, "view_case", case)}
    return "full" if "full" in extents or "pedagogical" in extents else "summary"


def plans_of(case: Case) -> list[Plan]:
    return list(case.plans.select_related("evaluation", "evaluation__signed_by", "created_by").prefetch_related(
        "needs", Prefetch("measures", queryset=_measures()), "follow_ups__signed_by", "reviews",
        Prefetch("decisions", queryset=Decision.objects.select_related("decided_by").order_by("decided_at")),
        "views__author", "hearings__held_by").order_by("-created_at"))


def _measures():  # type: ignore[no-untyped-def]
    from lti_plugin.support.models import Measure

    return Measure.objects.select_related("responsible").order_by("order")


def panel_plans(case: Case) -> list[Plan]:
    """The case's plans, newest first; the plan in force and the drafted one (the two the panel
    shows) with `details`: their needs, measures, views and latest follow-ups, read in one statement.
    Nothing more of the plans in the archive, which has a page of its own."""
    plans = list(case.plans.select_related("evaluation__signed_by", "created_by").order_by("-created_at"))
    shown = [plan for plan in (_current(plans, Plan.Status.ACTIVE), _current(plans, Plan.Status.DRAFT)) if plan]
    details = queries.plan_details([plan.pk for plan in shown], follow_ups=FOLLOW_UPS_SHOWN)
    for plan in shown:
        plan.details = details[plan.pk]
    return plans


def timeline(actor: Actor, case: Case, plans: list[Plan], decisions: list[Decision],
             limit: int | None = None) -> list[Event]:
    """Everything recorded on the case, newest first; with `limit`, only the latest `limit` entries
    (each kind is read for its latest `limit` only: a case of years reads no more than a new one)."""
    concern_kinds, adaptation_kinds = dict(Concern.Kind.choices), dict(Adaptation.Kind.choices)
    titles: dict[str, Callable[[str], str]] = {
        "concern": lambda kind: str(concern_kinds.get(kind, kind)),
        "adaptation": lambda kind: str(adaptation_kinds.get(kind, kind)),
        "adaptation_follow_up": lambda _a: _("Follow-up of an adaptation"),
        "assessment": lambda _a: _("Assessment"),
        "investigation": lambda _a: _("Investigation"),
        "follow_up": lambda _a: _("Follow-up"),
        "review": lambda grade: _("Review at grade %(grade)s") % {"grade": grade},
        "view": lambda whose: _("The pupil's view") if whose == "pupil" else _("A guardian's view"),
        "hearing": lambda _a: _("Hearing"),
        "level": lambda _a: _("Support level"),
    }
    events: list[Event] = []
    for kind, at, day, _pk, a, b, c, who in queries.timeline_rows(case.pk, limit):
        if kind == "level":
            events.append(Event(at, "level", titles[kind](a), level_name(actor, a)))
            continue
        text = "\n".join(filter(None, [b, c])) if kind in ("assessment", "investigation") else b
        if kind == "view":
            who = c or who  # a guardian's view recorded for them names the guardian
        events.append(Event(at or day, "follow_up" if kind == "adaptation_follow_up" else kind, titles[kind](a),
                            text, who))
    for plan in plans:
        name = document_name(actor, plan.document)
        events.append(Event(plan.created_at, "plan", _("%(document)s drafted") % {"document": name}, "",
                            plan.created_by.name))
        if plan.closed_at:
            events.append(Event(plan.closed_at, "plan", _("%(document)s closed") % {"document": name}, ""))
        evaluation = getattr(plan, "evaluation", None)
        if evaluation is not None:
            events.append(Event(evaluation.evaluated_on, "evaluation", _("Evaluation"), evaluation.text,
                                evaluation.signed_by.name))
    for decision in decisions:
        events.append(Event(decision.decided_at, "decision", decision_name(actor, decision.decision_type),
                            decision.grounds, decision.decided_by.name))
    events.sort(key=_sort_key, reverse=True)
    return events[:limit] if limit else events


def _current(plans: list[Plan], status: str) -> Plan | None:
    return next((plan for plan in plans if plan.status == status), None)


def action_forms_for(actor: Actor, case: Case, plans: list[Plan], actions: set[str],
                     posted: action_forms.ActionForm | None = None) -> list[action_forms.ActionForm]:
    """A form for every action the person may take now, with the objects it acts on filled in."""
    pack = actor.pack
    draft, active = _current(plans, Plan.Status.DRAFT), _current(plans, Plan.Status.ACTIVE)
    heard_plan = draft or active
    result: list[action_forms.ActionForm] = []

    def add(action: str, initial: dict[str, Any] | None = None, choices: dict[str, list] | None = None,
            key: str = "", note: str = "") -> None:
        form_key = key or action
        if posted is not None and posted.key == form_key:
            posted.open = True
            result.append(posted)
            return
        built = action_forms.build(actor, action, initial=initial, choices=choices, key=form_key)
        built.note = note
        built.extra["choices"] = choices
        result.append(built)

    if "raise_concern" in actions:
        add("raise_concern")
    if "report_to_principal" in actions:
        add("report_to_principal")
    if "log_adaptation" in actions:
        add("log_adaptation")
    if "add_follow_up" in actions:
        if active is not None and not hasattr(active, "evaluation"):
            add("add_follow_up", {"plan": active.pk})
        open_adaptations = [(str(pk), description[:60]) for pk, description in
                            case.adaptations.filter(ended_on__isnull=True).values_list("pk", "description")]
        if open_adaptations:
            add("add_adaptation_follow_up", choices={"adaptation": open_adaptations})
    if "start_assessment" in actions:
        add("start_assessment")
    unprocessed = case.assessments.filter(processed_at__isnull=True).order_by("-started_at").values_list(
        "pk", flat=True).first() if "process_assessment" in actions else None
    if unprocessed:
        add("process_assessment", {"assessment": unprocessed})
    if "request_investigation" in actions:
        add("request_investigation")
    drafts = [action for action in ("draft_plan", "draft_ip") if action in actions and draft is None
              and any(document.draft_action == action for document in pack.documents.values())]
    # The case's open investigation (to conduct) and the pupil's concluded ones (a plan may be drafted
    # from any of them: an investigation outlives the plan it led to, at any unit), in one query.
    wanted = Q(pk__in=[])
    if "conduct_investigation" in actions:
        wanted |= Q(case=case, concluded_at__isnull=True)
    if drafts:
        wanted |= Q(pupil_id=case.pupil_id, concluded_at__isnull=False)
    found = list(Investigation.objects.filter(wanted).order_by("requested_at", "pk")
                 .values_list("pk", "requested_at", "concluded_at")) \
        if drafts or "conduct_investigation" in actions else []
    open_investigation = next((pk for pk, _at, concluded in reversed(found) if concluded is None), None)
    if open_investigation:
        add("conduct_investigation", {"investigation": open_investigation})
    if drafts:
        investigations = [(str(pk), _("Investigation of %(day)s") % {"day": timezone.localdate(requested_at)})
                          for pk, requested_at, concluded in found if concluded is not None]
        for action in drafts:
            add(action, choices={"investigation": investigations})
    if draft is not None and policy.can(actor, pack.document(draft.document).draft_action, case):
        details = getattr(draft, "details", None) or queries.plan_details([draft.pk], FOLLOW_UPS_SHOWN)[draft.pk]
        measures = details.measures
        add("update_draft", {"plan": draft.pk, "version": draft.version,
                             "need": "\n".join(details.needs),
                             "measure": "\n".join(m.text for m in measures),
                             # The period as it stands (a copy keeps the old plan's until it is changed).
                             "starts_on": min((m.starts_on for m in measures), default=None) or date.today(),
                             "ends_on": max((m.ends_on for m in measures), default=None) or date.today()})
    if active is not None and not hasattr(active, "evaluation") and "record_evaluation" in actions \
            and pack.document(active.document).review_cycle == "single_evaluation":
        add("record_evaluation", {"plan": active.pk})
    if active is not None and "record_review" in actions and pack.document(active.document).review_cycle == "grade_points":
        add("record_review", {"plan": active.pk, "grade": case.pupil.grade})
    if "add_own_view" in actions:
        add("add_own_view", {"plan": heard_plan.pk if heard_plan else ""})
    if "record_guardian_view" in actions:
        add("record_guardian_view", {"plan": heard_plan.pk if heard_plan else ""})
    if "record_hearing" in actions:
        add("record_hearing", {"plan": heard_plan.pk if heard_plan else ""})
    if draft is not None and "decide_new_plan" in actions:
        add("decide_new_plan", {"plan": draft.pk})
    if active is not None and hasattr(active, "evaluation") and draft is None and "decide_new_plan" in actions:
        add("continue_in_new_plan", {"plan": active.pk},
            note=_("A new plan is drafted as a copy of this one, ready to edit; it needs its own decision."))
    if active is not None and "decide_close_plan" in actions:
        reasons = [(key, reason.name.get(actor.language)) for key, reason in pack.close_reasons.items()]
        add("decide_close_plan", {"plan": active.pk}, {"reason": reasons})
    for action in ("decide_not_to_draw_up_plan", "prepare_level_3", "request_resources"):
        if action in actions:
            add(action)
    _absence_forms(actor, case, actions, add)
    if "record_report_to_social_services" in actions:
        add("record_report_to_social_services")
    _welfare_forms(actor, case, actions, add)
    for action in sorted(actions & set(pack.decisions) - {"decide_new_plan", "decide_close_plan",
                                                           "decide_not_to_draw_up_plan"}):
        spec = pack.decision(action)
        outcomes = [(option.key, option.name.get(actor.language)) for option in spec.options]
        levels = [(level.key, level.name.get(actor.language)) for level in pack.levels if level.key in spec.levels]
        add(action, {"plan": active.pk if active else ""}, {"option": outcomes, "level": levels})
    return result


def _absence_forms(actor: Actor, case: Case, actions: set[str], add: Any) -> None:
    if not actions & {"start_absence_step", "start_absence_step_early", "check_absence_action",
                      "add_absence_follow_up"}:
        return
    record, proposed, done = _absence(case)
    if proposed is not None and "start_absence_step" in actions and proposed.met:
        add("start_absence_step", {"step": proposed.step.number})
    elif proposed is not None and "start_absence_step_early" in actions:
        add("start_absence_step_early", {"step": proposed.step.number})
    if record is not None:
        step = ladder_for(case).step(record.step)
        items = [(item.key, item.text.get(actor.language)) for item in step.actions if item.key not in done]
        if "check_absence_action" in actions and items:
            add("check_absence_action", {"record": record.pk}, {"item": items})
        if "add_absence_follow_up" in actions:
            add("add_absence_follow_up", {"record": record.pk})


def _welfare_forms(actor: Actor, case: Case, actions: set[str], add: Any) -> None:
    if actor.pack.welfare is None:
        return
    consent = welfare.active_consent(case.pupil)
    if "record_consent" in actions and consent is None:
        add("record_consent")
    if "withdraw_consent" in actions and consent is not None:
        add("withdraw_consent", {"consent": consent.pk})
    if "convene_expert_group" in actions and consent is not None:
        staff = Person.objects.filter(organisation=actor.organisation, grants__revoked_at__isnull=True
                                      ).distinct().order_by("name")
        add("convene_expert_group", choices={"member": [(str(p.pk), p.name) for p in staff]})
    group = ExpertGroup.objects.filter(pupil=case.pupil).order_by("-convened_at").first()
    if "write_expert_group_record" in actions and group is not None:
        add("write_expert_group_record", {"group": group.pk})


def with_absence_state(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases with whether the pupil has been on the absence ladder there and is on a step now: the
    panel then asks for the step only where there is one (most cases have none)."""
    steps = AbsenceRecord.objects.filter(case=OuterRef("pk"))
    return cases.annotate(absence_any=Exists(steps), absence_open=Exists(steps.filter(ended_on__isnull=True)))


def _been_on_ladder(case: Case) -> bool:
    return bool(case.absence_any) if hasattr(case, "absence_any") else case.absence_steps.exists()


def _absence(case: Case) -> tuple[AbsenceRecord | None, Proposal | None, set[str]]:
    """The step of the absence ladder under way, the next step proposed and the step's checked items:
    asked once for the panel, which shows them and offers their forms."""
    if not hasattr(case, "absence_state"):
        record = current_record(case) if getattr(case, "absence_open", True) else None
        done = set(record.checks.values_list("item", flat=True)) if record else set()
        case.absence_state = (record, proposal(case, today=date.today(), record=record), done)
    return case.absence_state


@dataclass(frozen=True)
class AbsenceView:
    record: AbsenceRecord | None
    step_name: str
    checklist: list[tuple[str, bool]]
    follow_up_due: date | None
    follow_ups: list[Any]
    proposed: str
    proposed_met: bool


def absence_view(actor: Actor, case: Case) -> AbsenceView | None:
    """The absence ladder as the panel shows it: the step, its checklist, due dates, the next step."""
    if not policy.can(actor, "add_absence_follow_up", case) and not _been_on_ladder(case):
        return None
    ladder = ladder_for(case)
    record, proposed, done = _absence(case)
    checklist: list[tuple[str, bool]] = []
    step_name = ""
    if record is not None:
        step = ladder.step(record.step)
        step_name = f"{record.step}. {step.name.get(actor.language)}"
        checklist = [(item.text.get(actor.language), item.key in done) for item in step.actions]
    return AbsenceView(record=record, step_name=step_name, checklist=checklist,
                       follow_up_due=follow_up_due_on(record) if record else None,
                       follow_ups=list(record.follow_ups.order_by("-held_on")) if record else [],
                       proposed=f"{proposed.step.number}. {proposed.step.name.get(actor.language)}" if proposed else "",
                       proposed_met=bool(proposed and proposed.met))


def panel_context(actor: Actor, case: Case, posted: action_forms.ActionForm | None = None,
                  actions_known: list[str] | None = None, whole_timeline: bool = False) -> dict[str, Any]:
    """Everything the case panel renders; `posted` is a form that came back with errors."""
    from .cases import ACTIONS

    plans = panel_plans(case)
    actions = policy.allowed_actions(actor, case, actions_known or list(ACTIONS))
    how_much = extent(actor, case)
    # The plan in force, and beside it a drafted one (a new one, or the copy to continue in) that
    # the principal decides on and the pupil and guardians give their views on.
    current, draft = _current(plans, Plan.Status.ACTIVE), _current(plans, Plan.Status.DRAFT)
    decisions = list(case.decisions.select_related("decided_by").order_by("-decided_at"))
    events = timeline(actor, case, plans, decisions, limit=None if whole_timeline else TIMELINE_SHOWN + 1) \
        if how_much == "full" else []
    return {
        "case": case, "actor": actor, "language": actor.language, "extent": how_much,
        "level": level_name(actor, case.level),
        "current_plan": current, "current_document": document_name(actor, current.document) if current else "",
        "draft_plan": draft, "draft_document": document_name(actor, draft.document) if draft else "",
        "decisions": [(decision, decision_name(actor, decision.decision_type)) for decision in decisions],
        "timeline": events[:TIMELINE_SHOWN] if not whole_timeline else events,
        "timeline_more": not whole_timeline and len(events) > TIMELINE_SHOWN,
        "forms": action_forms_for(actor, case, plans, actions, posted),
        "absence": absence_view(actor, case) if how_much == "full" else None,
        "consent": welfare.active_consent(case.pupil) if actor.pack.welfare else None,
        "welfare": actor.pack.welfare is not None,
        "expert_group": policy.can(actor, "read_expert_group_record", case)
        and ExpertGroup.objects.filter(pupil=case.pupil).exists(),
    }
