"""The panels beside the case: the course panel, the caseload, my tasks, the archive and print views.

Every list is one query for its rows whatever their number (and a fixed handful around it); what a
person may do on a row comes from the policy, with the policy's answers for the request cached on
the actor, never from the template.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import DateField, OuterRef, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from lti_plugin.support import audit, policy
from lti_plugin.support.actor import Actor
from lti_plugin.support.audit import record_list
from lti_plugin.support.errors import NotAllowed, RuleBroken
from lti_plugin.support.models import (
    Case,
    CourseMapping,
    Decision,
    Plan,
    PlanFollowUp,
    Pupil,
    SchoolUnit,
)
from lti_plugin.support.services import cases as case_services
from lti_plugin.support.services.due import FOLLOW_UP_EVERY_DAYS, due_for
from lti_plugin.support.services import people
from lti_plugin.support.services.people import refresh_roster

from . import forms as action_forms
from .cases import ACTIONS, _expanded, _spend_token
from .panel import decision_name, document_name, level_name, plans_of
from .views import _launch_or_refusal, _refuse, actor_for, links

PAGE_SIZE = 50
TASKS_PAGE_SIZE = 100
SOON_DAYS = 14
SORTS = {"name": ("pupil__person__name", "pk"), "-name": ("-pupil__person__name", "-pk"),
         "level": ("level", "pupil__person__name", "pk"), "unit": ("unit__name", "pupil__person__name", "pk"),
         "due": ("follow_up_from", "pk"), "opened": ("opened_at", "pk"), "-opened": ("-opened_at", "-pk")}


def with_follow_up_due(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Each case with the day its plan in force was last followed up (or came into force): the next
    follow-up falls due FOLLOW_UP_EVERY_DAYS after it (services.due gives the same answer)."""
    active = Plan.objects.filter(case=OuterRef("pk"), status=Plan.Status.ACTIVE, evaluation__isnull=True)
    last = PlanFollowUp.objects.filter(plan__case=OuterRef("pk"), plan__status=Plan.Status.ACTIVE,
                                       plan__evaluation__isnull=True).order_by("-held_on").values("held_on")[:1]
    since = active.annotate(day=TruncDate("activated_at")).order_by("-activated_at").values("day")[:1]
    from django.db.models.functions import Coalesce

    return cases.annotate(follow_up_from=Coalesce(Subquery(last, output_field=DateField()),
                                                  Subquery(since, output_field=DateField())))


def _due_on(case: Case) -> date | None:
    day = getattr(case, "follow_up_from", None)
    return day + timedelta(days=FOLLOW_UP_EVERY_DAYS) if day else None


def _launched(request: HttpRequest, launch_id: object) -> tuple[Any, Actor] | HttpResponse:
    launch = _launch_or_refusal(request, launch_id)
    if isinstance(launch, HttpResponse):
        return launch
    return launch, actor_for(launch)


@require_GET
def case_list(request: HttpRequest, launch_id: object) -> HttpResponse:
    """The caseload: every case in this person's scope, filtered, searched, sorted and paged. The
    page is one audit entry naming the cases it showed."""
    found = _launched(request, launch_id)
    if isinstance(found, HttpResponse):
        return found
    launch, actor = found
    if "subject_teacher" in actor.roles:
        refresh_roster(launch)  # the course's pupils, refreshed and cached
    visible = policy.viewable_cases(actor)
    cases = with_follow_up_due(visible.select_related("pupil__person", "unit"))
    today = date.today()
    level, unit, due, query = (request.GET.get(name, "").strip() for name in ("level", "unit", "due", "q"))
    levels = [(item.key, item.name.get(actor.language)) for item in actor.pack.levels]
    if level and level in dict(levels):
        cases = cases.filter(level=level)
    if unit.isdigit():
        cases = cases.filter(unit_id=int(unit))
    if due == "overdue":
        cases = cases.filter(follow_up_from__lt=today - timedelta(days=FOLLOW_UP_EVERY_DAYS))
    elif due == "soon":
        cases = cases.filter(follow_up_from__lt=today - timedelta(days=FOLLOW_UP_EVERY_DAYS - SOON_DAYS))
    if query:
        cases = cases.filter(pupil__person__name__icontains=query[:100])
    sort = request.GET.get("sort", "name")
    cases = cases.order_by(*SORTS.get(sort, SORTS["name"]))
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    case_url = links("frontend:case", launch_id)
    rows = [{"case": case, "level": level_name(actor, case.level), "due_on": _due_on(case), "url": case_url(case.pk),
             "overdue": bool(_due_on(case) and _due_on(case) < today)} for case in page.object_list]
    record_list(actor, [row["case"] for row in rows], "support.case")
    units = SchoolUnit.objects.filter(pk__in=visible.values("unit_id")).order_by("name")
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "frontend/cases/list.html", {
        "launch_id": launch_id, "actor": actor, "rows": rows, "page": page, "levels": levels, "units": units,
        "filters": {"level": level, "unit": unit, "due": due, "q": query, "sort": sort},
        "query_string": params.urlencode(), "sorts": SORTS})


# --- the course panel ------------------------------------------------------------------------------

COURSE_ACTIONS = ("raise_concern", "log_adaptation", "add_follow_up")


def _course(launch: Any) -> tuple[SchoolUnit | None, str]:
    mapping = CourseMapping.objects.select_related("unit").filter(deployment_id=launch.deployment_id,
                                                                  context_id=launch.context_id).first()
    return (mapping.unit, mapping.title) if mapping else (None, "")


def course_pupils(launch: Any) -> QuerySet[Pupil]:
    return people.course_pupils(launch.deployment_id, launch.context_id)


def _quick_form(actor: Actor, pupil: Pupil, case: Case | None, action: str, data: Any = None
                ) -> action_forms.ActionForm:
    """One quick form of a pupil's row (a follow-up here is of one of the pupil's open adaptations)."""
    form_action = "add_adaptation_follow_up" if action == "add_follow_up" else action
    choices = {"adaptation": [(str(a.pk), a.description[:60]) for a in case.adaptations.all() if a.ended_on is None]
               } if case and action == "add_follow_up" else None
    return action_forms.build(actor, form_action, data=data, choices=choices, key=f"p{pupil.pk}-{action}")


def _row(actor: Actor, pupil: Pupil, case: Case | None, unit: SchoolUnit, launch_id: object,
         posted: action_forms.ActionForm | None = None, urls: dict[str, Any] | None = None) -> dict[str, Any]:
    """One pupil on the course panel: the badge, what is due, and the quick actions the policy allows.
    Their forms load when opened (htmx), so a class of thirty renders thirty rows, not ninety forms."""
    if case is not None:
        case.pupil, case.unit = pupil, unit  # the row has them: the policy asks no query for them
    probe = case or Case(pupil=pupil, unit=unit, level=actor.pack.levels[0].key)
    urls = urls or _row_urls(launch_id)
    allowed = policy.allowed_actions(actor, probe, list(COURSE_ACTIONS))
    has_adaptation = bool(case) and any(a.ended_on is None for a in case.adaptations.all())
    quick = []
    for action in COURSE_ACTIONS:
        if action not in allowed or (action == "add_follow_up" and not has_adaptation):
            continue
        form_action = "add_adaptation_follow_up" if action == "add_follow_up" else action
        key = f"p{pupil.pk}-{action}"
        quick.append({"action": action, "key": key, "title": str(action_forms.TITLES[form_action]),
                      "form_url": urls[f"form-{action}"](pupil.pk), "action_url": urls[f"action-{action}"](pupil.pk),
                      "posted": posted if posted is not None and posted.key == key else None})
    due_on = _due_on(case) if case else None
    may_view = case is not None and policy.can(actor, "view_case", case)
    return {"pupil": pupil, "case": case, "level": level_name(actor, case.level) if case else "",
            "due_on": due_on, "overdue": bool(due_on and due_on < date.today()), "quick": quick,
            "may_view": may_view, "case_url": urls["case"](case.pk) if may_view else ""}  # type: ignore[union-attr]


def _row_urls(launch_id: object) -> dict[str, Any]:
    """The links of the course panel's rows, reversed once for the whole class."""
    urls = {"case": links("frontend:case", launch_id)}
    for action in COURSE_ACTIONS:
        urls[f"form-{action}"] = links("frontend:course-pupil-form", launch_id, then=(action,))
        urls[f"action-{action}"] = links("frontend:course-pupil-action", launch_id, then=(action,))
    return urls


def _course_rows(actor: Actor, launch: Any, unit: SchoolUnit) -> list[dict[str, Any]]:
    pupils = list(course_pupils(launch))
    cases = {case.pupil_id: case for case in with_follow_up_due(
        Case.objects.filter(pupil__in=pupils, unit=unit)).prefetch_related("adaptations")}
    urls = _row_urls(launch.id)
    return [_row(actor, pupil, cases.get(pupil.pk), unit, launch.id, urls=urls) for pupil in pupils]


@require_GET
def course_panel(request: HttpRequest, launch_id: object) -> HttpResponse:
    """The teacher's course: its pupils with a support badge and what is due, and quick actions."""
    found = _launched(request, launch_id)
    if isinstance(found, HttpResponse):
        return found
    launch, actor = found
    unit, title = _course(launch)
    if "subject_teacher" in actor.roles or "class_teacher" in actor.roles:
        refresh_roster(launch)
    if unit is None:
        return render(request, "frontend/course/panel.html", {"launch_id": launch_id, "rows": [], "unmapped": True,
                                                              "actor": actor})
    if not actor.roles & policy.UNIT_ROLES:  # school staff; each row then asks the policy for its pupil
        return _refuse(request, _("The course panel is for the course's teachers."), 403)
    rows = _course_rows(actor, launch, unit)
    record_list(actor, [row["case"] for row in rows if row["case"] is not None], "support.case")
    return render(request, "frontend/course/panel.html", {"launch_id": launch_id, "rows": rows, "actor": actor,
                                                          "unit": unit, "title": title or launch.context_title})


@require_POST
def course_pupil_action(request: HttpRequest, launch_id: object, pupil_id: int, action: str) -> HttpResponse:
    """A quick action from the course panel: only for a pupil on this course's roster; the pupil's
    case at the course's unit is opened with the first write if there is none."""
    found = _launched(request, launch_id)
    if isinstance(found, HttpResponse):
        return found
    launch, actor = found
    unit, _title = _course(launch)
    if action not in COURSE_ACTIONS or unit is None:
        raise Http404
    pupil = course_pupils(launch).filter(pk=pupil_id).first()
    if pupil is None:
        raise Http404
    case = Case.objects.filter(pupil=pupil, unit=unit).first()
    probe = case or Case(pupil=pupil, unit=unit, level=actor.pack.levels[0].key)
    if not policy.can(actor, action, probe):
        return _refuse(request, _("Your role may not do this here."), 403)
    form = _quick_form(actor, pupil, case, action, data=request.POST)
    status = 200
    if form.form.is_valid():
        try:
            with transaction.atomic():
                case = case or case_services.case_for(pupil, unit)
                data = _expanded(request.POST)
                if not _spend_token(actor, action, data):
                    ACTIONS[action](actor, case, data)
        except NotAllowed as refusal:
            return _refuse(request, refusal.message, 403)
        except RuleBroken as refusal:
            form.form.add_error(None, refusal.message)
            status = refusal.status if 400 <= refusal.status < 500 else 422
    else:
        status = 422
    if not request.htmx:
        if status != 200:  # without JavaScript: the form's own page, with the errors by the fields
            return render(request, "frontend/course/form.html", {
                "item": form, "launch_id": launch_id, "pupil": pupil, "target": "closest li.pupil",
                "title": _title or launch.context_title,
                "action_url": reverse("frontend:course-pupil-action", args=[launch_id, pupil.pk, action])},
                status=status)
        return redirect("frontend:course", launch_id=launch_id)
    case = with_follow_up_due(Case.objects.filter(pupil=pupil, unit=unit)).prefetch_related("adaptations").first()
    if status != 200:
        form.open = True
    row = _row(actor, pupil, case, unit, launch_id, posted=form if status != 200 else None)
    html = render_to_string("frontend/course/_row.html", {"row": row, "launch_id": launch_id,
                                                          "saved": _("Saved.") if status == 200 else ""}, request)
    return HttpResponse(html, status=status)


@require_GET
def course_pupil_form(request: HttpRequest, launch_id: object, pupil_id: int, action: str) -> HttpResponse:
    """A quick form of a pupil's row, as it is opened: the form alone for htmx, a page without JavaScript."""
    found = _launched(request, launch_id)
    if isinstance(found, HttpResponse):
        return found
    launch, actor = found
    unit, title = _course(launch)
    if action not in COURSE_ACTIONS or unit is None:
        raise Http404
    pupil = course_pupils(launch).filter(pk=pupil_id).first()
    if pupil is None:
        raise Http404
    case = Case.objects.filter(pupil=pupil, unit=unit).prefetch_related("adaptations").first()
    if not policy.can(actor, action, case or Case(pupil=pupil, unit=unit, level=actor.pack.levels[0].key)):
        return _refuse(request, _("Your role may not do this here."), 403)
    context = {"item": _quick_form(actor, pupil, case, action), "launch_id": launch_id, "pupil": pupil,
               "target": "closest li.pupil", "title": title or launch.context_title,
               "action_url": reverse("frontend:course-pupil-action", args=[launch_id, pupil.pk, action])}
    template = "frontend/cases/_form_inner.html" if request.htmx else "frontend/course/form.html"
    return render(request, template, context)


# --- my tasks, the archive, print ------------------------------------------------------------------

@require_GET
def tasks(request: HttpRequest, launch_id: object) -> HttpResponse:
    """What is due for me: the due service's answer (follow-ups, evaluations, reviews at grade
    points, decisions waiting, closing after a transfer, the absence ladder), soonest first."""
    found = _launched(request, launch_id)
    if isinstance(found, HttpResponse):
        return found
    _launch, actor = found
    # Soonest first, a page at a time: the overdue and the next due on the first page.
    page = Paginator(due_for(actor), TASKS_PAGE_SIZE).get_page(request.GET.get("page"))
    audit.record_listed(actor, sorted({item.case_id for item in page.object_list}), "support.case")
    case_url, today = links("frontend:case", launch_id), date.today()
    rows = [{"kind": item.kind, "due_on": item.due_on.isoformat(), "overdue": item.due_on < today, "label": item.label,
             "name": item.pupil_name, "url": case_url(item.case_id)} for item in page.object_list]
    return render(request, "frontend/tasks.html", {"launch_id": launch_id, "rows": rows, "page": page})


@require_GET
def archive(request: HttpRequest, launch_id: object, case_id: int) -> HttpResponse:
    """The pupil's earlier plans, read-only, with what was decided and when; every unit's, as the
    history follows the pupil (within what this person may see)."""
    found = _launched(request, launch_id)
    if isinstance(found, HttpResponse):
        return found
    _launch, actor = found
    case = policy.access_case(actor, case_id)
    earlier = [plan for other in policy.viewable_cases(actor).filter(pupil=case.pupil).select_related("unit")
               for plan in plans_of(other) if plan.status == Plan.Status.CLOSED]
    return render(request, "frontend/cases/archive.html", {
        "launch_id": launch_id, "case": case, "actor": actor, "language": actor.language,
        "plans": [(plan, document_name(actor, plan.document),
                   [(d, decision_name(actor, d.decision_type)) for d in plan.decisions.all()]) for plan in earlier]})


def _pdf(html: str, request: HttpRequest, filename: str) -> HttpResponse:
    try:
        from weasyprint import HTML
    except (ImportError, OSError):  # Pango missing on this server: say so, the print view still works
        return _refuse(request, _("PDFs cannot be made on this server right now. Use the print view."), 503)
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def plan_print(request: HttpRequest, launch_id: object, plan_id: int) -> HttpResponse:
    """A plan as a page to print or a PDF to hand to a guardian (`?format=pdf`)."""
    found = _launched(request, launch_id)
    if isinstance(found, HttpResponse):
        return found
    _launch, actor = found
    plan = policy.access_plan(actor, plan_id)  # 404 out of scope; the read is logged
    plan = next(p for p in plans_of(plan.case) if p.pk == plan.pk)
    context = {"plan": plan, "case": plan.case, "language": actor.language, "launch_id": launch_id,
               "document": document_name(actor, plan.document), "level": level_name(actor, plan.case.level),
               "decisions": [(d, decision_name(actor, d.decision_type)) for d in plan.decisions.all()]}
    html = render_to_string("frontend/print/plan.html", context, request)
    if request.GET.get("format") == "pdf":
        return _pdf(html, request, f"plan-{plan.pk}.pdf")
    return HttpResponse(html)


@require_GET
def decision_print(request: HttpRequest, launch_id: object, decision_id: int) -> HttpResponse:
    """A decision with its grounds and the pack's appeal text, to print or as a PDF."""
    found = _launched(request, launch_id)
    if isinstance(found, HttpResponse):
        return found
    _launch, actor = found
    decision = Decision.objects.select_related("decided_by", "plan").filter(pk=decision_id).first()
    if decision is None:
        raise Http404
    case = policy.access_case(actor, decision.case_id)
    audit.record_read(actor, decision)
    html = render_to_string("frontend/print/decision.html", {
        "decision": decision, "case": case, "language": actor.language, "launch_id": launch_id,
        "name": decision_name(actor, decision.decision_type)}, request)
    if request.GET.get("format") == "pdf":
        return _pdf(html, request, f"decision-{decision.pk}.pdf")
    return HttpResponse(html)
