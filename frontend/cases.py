"""Case pages and the one door every case action goes through.

Thin: read the launch's actor, ask the policy (the same function the services call), call the
service, render. Out of scope is a 404 like a missing case; in scope but not allowed a 403 with a
message; a rule the service refuses a 422 with its message, in the person's language.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import uuid

from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from lti_plugin.support import policy, queries
from lti_plugin.support.actor import Actor
from lti_plugin.support.audit import record_list
from lti_plugin.support.errors import NotAllowed, RuleBroken
from lti_plugin.support.models import (
    AbsenceRecord,
    Adaptation,
    Assessment,
    Case,
    Consent,
    ExpertGroup,
    Investigation,
    Person,
    Plan,
)
from lti_plugin.support.services import absence, cases, decisions, plans, welfare
from lti_plugin.support.services.plans import MeasureInput

from . import forms as action_forms
from .models import UsedFormToken
from .panel import action_forms_for, panel_context, panel_plans, with_absence_state
from .views import _launch_or_refusal, _refuse, actor_for


class BadInput(RuleBroken):
    def __init__(self, field: str) -> None:
        super().__init__(_("Check the field %(field)s.") % {"field": field}, code=f"bad_input:{field}", status=400)


def _text(data: Any, field: str) -> str:
    return str(data.get(field, "")).strip()


def _date(data: Any, field: str) -> date:
    try:
        return date.fromisoformat(_text(data, field) or date.today().isoformat())
    except ValueError:
        raise BadInput(field) from None


def _int(data: Any, field: str) -> int:
    try:
        return int(_text(data, field))
    except ValueError:
        raise BadInput(field) from None


def _of_case(model: type, data: Any, field: str, case: Case, path: str = "case") -> Any:
    """An object named in the form, only if it belongs to this case (else a 404: no leak)."""
    obj = model.objects.filter(pk=_int(data, field), **{path: case}).first()
    if obj is None:
        raise Http404
    return obj


def _bool(data: Any, field: str) -> bool:
    return _text(data, field).lower() in {"1", "true", "on", "yes"}


# Each action: (actor, case, form data) -> the object it made. The view has asked the policy first.
ACTIONS: dict[str, Callable[[Actor, Case, Any], Any]] = {
    "raise_concern": lambda a, c, d: cases.raise_concern(actor=a, case=c, text=_text(d, "text")),
    "report_to_principal": lambda a, c, d: cases.report_to_principal(actor=a, case=c, text=_text(d, "text")),
    "log_adaptation": lambda a, c, d: cases.log_adaptation(
        actor=a, case=c, description=_text(d, "text"), started_on=_date(d, "date"), course=_text(d, "course")),
    "add_follow_up": lambda a, c, d: (
        plans.add_follow_up(actor=a, plan=_of_case(Plan, d, "plan", c), text=_text(d, "text"), held_on=_date(d, "date"))
        if _text(d, "plan") else cases.add_adaptation_follow_up(
            actor=a, adaptation=_of_case(Adaptation, d, "adaptation", c), text=_text(d, "text"),
            held_on=_date(d, "date"))),
    "start_assessment": lambda a, c, d: cases.start_assessment(actor=a, case=c, text=_text(d, "text")),
    "process_assessment": lambda a, c, d: cases.process_assessment(
        actor=a, assessment=_of_case(Assessment, d, "assessment", c), recommendation=_text(d, "text")),
    "request_investigation": lambda a, c, d: cases.request_investigation(actor=a, case=c),
    "conduct_investigation": lambda a, c, d: cases.conduct_investigation(
        actor=a, investigation=_of_case(Investigation, d, "investigation", c), mapping=_text(d, "mapping"),
        assessment=_text(d, "text"), conclude=_bool(d, "conclude")),
    "draft_plan": lambda a, c, d: _draft(a, c, d, "draft_plan"),
    "draft_ip": lambda a, c, d: _draft(a, c, d, "draft_ip"),
    "record_evaluation": lambda a, c, d: plans.record_evaluation(
        actor=a, plan=_of_case(Plan, d, "plan", c), text=_text(d, "text"), evaluated_on=_date(d, "date")),
    "record_review": lambda a, c, d: plans.record_review(
        actor=a, plan=_of_case(Plan, d, "plan", c), grade=_int(d, "grade"), text=_text(d, "text"),
        held_on=_date(d, "date")),
    "add_own_view": lambda a, c, d: plans.add_own_view(
        actor=a, case=c, plan=_of_case(Plan, d, "plan", c) if _text(d, "plan") else None, text=_text(d, "text")),
    "record_guardian_view": lambda a, c, d: plans.record_guardian_view(
        actor=a, case=c, plan=_of_case(Plan, d, "plan", c) if _text(d, "plan") else None,
        guardian_name=_text(d, "guardian"), text=_text(d, "text")),
    "record_hearing": lambda a, c, d: plans.record_hearing(
        actor=a, case=c, plan=_of_case(Plan, d, "plan", c) if _text(d, "plan") else None, held_on=_date(d, "date"),
        pupil_heard=_bool(d, "pupil_heard"), guardians_heard=_bool(d, "guardians_heard"), summary=_text(d, "text")),
    "decide_new_plan": lambda a, c, d: decisions.decide_new_plan(
        actor=a, plan=_of_case(Plan, d, "plan", c), grounds=_text(d, "text"), to_level=_text(d, "level")),
    "decide_close_plan": lambda a, c, d: decisions.decide_close_plan(
        actor=a, plan=_of_case(Plan, d, "plan", c), reason=_text(d, "reason"), grounds=_text(d, "text")),
    "decide_not_to_draw_up_plan": lambda a, c, d: decisions.decide_not_to_draw_up_plan(
        actor=a, case=c, grounds=_text(d, "text")),
    "prepare_level_3": lambda a, c, d: cases.prepare_level_3(actor=a, case=c, text=_text(d, "text")),
    "request_resources": lambda a, c, d: cases.request_resources(actor=a, case=c, text=_text(d, "text")),
    "start_absence_step": lambda a, c, d: absence.start_absence_step(
        actor=a, case=c, step=_int(d, "step"), started_on=_date(d, "date"), early_reason=_text(d, "reason")),
    "start_absence_step_early": lambda a, c, d: absence.start_absence_step(
        actor=a, case=c, step=_int(d, "step"), started_on=_date(d, "date"), early_reason=_text(d, "reason")),
    "check_absence_action": lambda a, c, d: absence.check_absence_action(
        actor=a, record=_of_case(AbsenceRecord, d, "record", c), item=_text(d, "item"), note=_text(d, "text")),
    "add_absence_follow_up": lambda a, c, d: absence.add_absence_follow_up(
        actor=a, record=_of_case(AbsenceRecord, d, "record", c), text=_text(d, "text"), held_on=_date(d, "date")),
    "record_report_to_social_services": lambda a, c, d: absence.record_report_to_social_services(
        actor=a, pupil=c.pupil, case=c, text=_text(d, "text")),
    "record_consent": lambda a, c, d: welfare.record_consent(actor=a, case=c, given_by=_text(d, "given_by")),
    "withdraw_consent": lambda a, c, d: welfare.withdraw_consent(
        actor=a, case=c, consent=_of_case(Consent, d, "consent", c, path="pupil__cases")),
    "convene_expert_group": lambda a, c, d: welfare.convene_expert_group(
        actor=a, case=c, members=Person.objects.filter(pk__in=d.getlist("member"), organisation=a.organisation)),
    "write_expert_group_record": lambda a, c, d: welfare.write_expert_group_record(
        actor=a, group=_of_case(ExpertGroup, d, "group", c, path="pupil__cases"), text=_text(d, "text")),
}
# Steps on a plan that are no matrix action of their own: editing a draft is drafting it; continuing
# in a new plan after the evaluation is the start of the decision on the new plan.
PLAN_STEPS: dict[str, Callable[[Actor, Case, Any], Any]] = {
    "update_draft": lambda a, c, d: _update_draft(a, _of_case(Plan, d, "plan", c), d),
    "continue_in_new_plan": lambda a, c, d: decisions.continue_in_new_plan(actor=a, plan=_of_case(Plan, d, "plan", c)),
}


def _update_draft(actor: Actor, plan: Plan, data: Any) -> Plan:
    """Edit a draft: a measure kept word for word keeps its responsible person; a new one is the editor's."""
    responsible = {measure.text: measure.responsible for measure in plan.measures.select_related("responsible")}
    return plans.update_draft(
        actor=actor, plan=plan, expected_version=_int(data, "version"),
        needs=[n for n in data.getlist("need") if n.strip()],
        measures=[MeasureInput(text, responsible.get(text, actor.person), _date(data, "starts_on"),
                               _date(data, "ends_on")) for text in data.getlist("measure") if text.strip()])


def policy_action(actor: Actor, case: Case, action: str, data: Any) -> str:
    """The matrix action a door action is allowed by."""
    if action == "continue_in_new_plan":
        return "decide_new_plan"
    if action == "update_draft":
        plan = Plan.objects.filter(pk=_text(data, "plan") or 0, case=case).first() if _text(data, "plan").isdigit() \
            else None
        return actor.pack.document(plan.document).draft_action if plan else "draft_plan"
    return action


# Decisions the pack knows beyond the named ones (level decisions, se level-3 measures, ax review
# outcomes, fi support) go through the generic decision service.
GENERIC_DECISIONS = ("decide_level_2", "decide_level_3", "decide_special_group", "decide_adapted_studies",
                     "decide_review_outcome", "decide_support")
for _key in GENERIC_DECISIONS:
    ACTIONS[_key] = (lambda key: lambda a, c, d: decisions.decide(
        actor=a, case=c, decision_type=key, grounds=_text(d, "text"), outcome=_text(d, "option"),
        to_level=_text(d, "level"), plan=_of_case(Plan, d, "plan", c) if _text(d, "plan") else None))(_key)


def _draft(actor: Actor, case: Case, data: Any, action: str) -> Plan:
    document = _text(data, "document") or ("individual_plan" if action == "draft_ip" else "action_plan")
    if actor.pack.documents.get(document) is None or actor.pack.document(document).draft_action != action:
        raise BadInput("document")
    measures = [MeasureInput(text, actor.person, _date(data, "starts_on"), _date(data, "ends_on"))
                for text in data.getlist("measure") if text.strip()]
    return plans.draft_plan(actor=actor, case=case, document=document,
                            needs=[n for n in data.getlist("need") if n.strip()], measures=measures,
                            investigation=_of_case(Investigation, data, "investigation", case, path="pupil__cases")
                            if _text(data, "investigation") else None)


def _actor(request: HttpRequest, launch_id: object) -> Actor | HttpResponse:
    launch = _launch_or_refusal(request, launch_id)
    if isinstance(launch, HttpResponse):
        return launch
    return actor_for(launch)


@require_GET
def case_detail(request: HttpRequest, launch_id: object, case_id: int) -> HttpResponse:
    """The case panel: the timeline, the current plan and the forms of what this person may do now."""
    actor = _actor(request, launch_id)
    if isinstance(actor, HttpResponse):
        return actor
    case = policy.access_case(actor, case_id, with_absence_state(Case.objects.all()))  # 404 out of scope; logged
    context = panel_context(actor, case, whole_timeline=request.GET.get("timeline") == "all")
    return render(request, "frontend/cases/detail.html", {"launch_id": launch_id, **context})


@require_GET
def case_form(request: HttpRequest, launch_id: object, case_id: int, key: str) -> HttpResponse:
    """One form of the case panel, as it is opened: the form alone for htmx, a page without JavaScript."""
    actor = _actor(request, launch_id)
    if isinstance(actor, HttpResponse):
        return actor
    case = policy.access_case(actor, case_id)  # the form names the case's objects: a read, logged
    forms = action_forms_for(actor, case, panel_plans(case), policy.allowed_actions(actor, case, list(ACTIONS)))
    item = next((form for form in forms if form.key == key), None)
    if item is None:
        raise Http404
    context = {"item": item, "case": case, "launch_id": launch_id, "target": "#case-panel",
               "action_url": reverse("frontend:case-action", args=[launch_id, case.pk, item.door])}
    return render(request, "frontend/cases/_form_inner.html" if request.htmx else "frontend/cases/form.html",
                  context)


def _expanded(data: QueryDict) -> QueryDict:
    """A textarea of needs or measures, one a line, as the list the services take."""
    data = data.copy()
    for name in ("need", "measure"):
        if name in data:
            data.setlist(name, [line for value in data.getlist(name) for line in action_forms.lines(value)])
    return data


def _panel(request: HttpRequest, launch_id: object, actor: Actor, case: Case,
           posted: action_forms.ActionForm | None = None, status: int = 200, saved: str = "") -> HttpResponse:
    """The panel again after a post: the fragment for htmx, the whole page for a plain browser."""
    case = with_absence_state(Case.objects.select_related("pupil__person", "unit")).get(pk=case.pk)
    context = {"launch_id": launch_id, "saved": saved, **panel_context(actor, case, posted)}
    template = "frontend/cases/_panel.html" if request.htmx else "frontend/cases/detail.html"
    return render(request, template, context, status=status)


@require_POST
def case_action(request: HttpRequest, launch_id: object, case_id: int, action: str) -> HttpResponse:
    """Every case action: the policy first (404 out of scope, 403 not allowed), then the form, then
    the service. A form's token is spent with the write, so a second submit creates nothing."""
    actor = _actor(request, launch_id)
    if isinstance(actor, HttpResponse):
        return actor
    run = ACTIONS.get(action) or PLAN_STEPS.get(action)
    if run is None:
        raise Http404
    case = policy.access_for_action(actor, case_id, action if action in ACTIONS else "view_case")
    posted, sees = None, False
    try:
        allowed_by = policy_action(actor, case, action, request.POST)
        policy.require(actor, allowed_by, case)
        # One who reaches only the action (an expert-group member) gets no case panel back.
        sees = policy.can(actor, "view_case", case)
        posted = _posted_form(actor, case, request.POST, action, allowed_by) if sees else None
        if posted is not None and not posted.form.is_valid():
            return _panel(request, launch_id, actor, case, posted, status=422)
        data = _expanded(request.POST)
        with transaction.atomic():
            if not _spend_token(actor, action, data):
                run(actor, case, data)
    except NotAllowed as refusal:
        return _refuse(request, refusal.message, 403)
    except RuleBroken as refusal:
        status = refusal.status if 400 <= refusal.status < 500 else 422
        if posted is None:
            return _refuse(request, refusal.message, status)
        field = refusal.code.split(":", 1)[1] if refusal.code.startswith("bad_input:") else None
        posted.form.add_error(field if field in posted.form.fields else None, refusal.message)
        return _panel(request, launch_id, actor, case, posted, status=status)
    if request.htmx and sees:
        return _panel(request, launch_id, actor, case, saved=_("Saved."))
    return redirect("frontend:case", launch_id=launch_id, case_id=case.pk)


def _posted_form(actor: Actor, case: Case, data: QueryDict, action: str,
                 allowed_by: str) -> action_forms.ActionForm | None:
    """The panel's form the post came from, bound to what was sent; None when the panel offers no
    such form now (the service alone then judges the input)."""
    key = _text(data, "_form") or action
    offered = next((form for form in action_forms_for(actor, case, panel_plans(case),
                                                      {allowed_by})
                    if form.key == key), None)
    if offered is None or offered.door != action:
        return None
    return action_forms.build(actor, offered.action, data=data, choices=offered.extra.get("choices"), key=key)


def _spend_token(actor: Actor, action: str, data: QueryDict) -> bool:
    """True if this form was submitted before (its write stands; nothing is done twice)."""
    try:
        token = uuid.UUID(_text(data, "form_token"))
    except ValueError:
        return False
    try:
        with transaction.atomic():
            UsedFormToken.objects.create(token=token, person=actor.person, action=action)
    except IntegrityError:
        return True
    return False


@require_GET
def audit_log(request: HttpRequest, launch_id: object) -> HttpResponse:
    """The audit trail: the principal for the unit, the education chief for the organisation."""
    actor = _actor(request, launch_id)
    if isinstance(actor, HttpResponse):
        return actor
    try:
        pupil = int(request.GET["pupil"]) if request.GET.get("pupil") else None
        person = int(request.GET["person"]) if request.GET.get("person") else None
    except ValueError:
        return _refuse(request, _("Check the filter."), 400)
    try:
        entries = list(queries.audit_log_for(actor, pupil_id=pupil, person_id=person)
                       .select_related("person")[:200])
    except NotAllowed:
        return _refuse(request, _("Only the principal and the education chief read the audit log."), 403)
    record_list(actor, entries, "support.auditentry")
    return render(request, "frontend/cases/audit.html", {"launch_id": launch_id, "entries": entries})


@require_GET
def expert_group_record(request: HttpRequest, launch_id: object, case_id: int) -> HttpResponse:
    """`fi`: the expert group's record, for its members while consent stands (sealed after)."""
    actor = _actor(request, launch_id)
    if isinstance(actor, HttpResponse):
        return actor
    case = policy.access_for_action(actor, case_id, "read_expert_group_record")
    group = ExpertGroup.objects.filter(pupil=case.pupil).order_by("-convened_at").first()
    if group is None:
        raise Http404
    try:
        records = welfare.read_expert_group_records(actor=actor, group=group)  # logs the read
    except RuleBroken as refusal:
        return _refuse(request, refusal.message, 403 if refusal.status == 403 else refusal.status)
    return render(request, "frontend/cases/expert_group.html", {"launch_id": launch_id, "case": case,
                                                                 "records": records})


# Reads of case data that are pages of their own, beside the POSTed actions.
READS = {"read_expert_group_record": expert_group_record}
