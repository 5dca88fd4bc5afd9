"""Pages a launch lands on. Thin: read the launch, ask who may, render."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from lti_plugin.lti import keys
from lti_plugin.lti.models import Launch, Registration, Status
from lti_plugin.lti.registration import ToolUrls, approve
from lti_plugin.lti.roles import ToolRole, short_names
from lti_plugin.lti.session import launch_from_session
from lti_plugin.middleware import launched_from
from lti_plugin.support import policy
from lti_plugin.support.actor import Actor
from lti_plugin.support.audit import record_list
from lti_plugin.support.models import Case, CourseMapping, Person
from lti_plugin.support.services.people import actor_for_launch


# Stands for the varying argument of `links`: more digits than a UUID's longest group has, so the URL
# holds it exactly once.
_MARK = 9_876_543_210_123


def links(name: str, *args: object, then: tuple[object, ...] = ()) -> Callable[[int], str]:
    """`reverse(name, args=[*args, value, *then])` for the many ids of a list's rows, reversed once: a
    page of a hundred links otherwise pays for a hundred reverses (a third of "my tasks")."""
    head, _mark, tail = reverse(name, args=[*args, _MARK, *then]).partition(str(_MARK))
    return lambda value: f"{head}{int(value)}{tail}"


def _refuse(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "lti/refused.html", {"message": message}, status=status)


def actor_for(launch: Launch) -> Actor:
    """The acting person of a launch: roles from the launch plus their staff grants."""
    person = launch.person or Person.objects.get(organisation=launch.deployment.organisation,
                                                 issuer=launch.registration.issuer, sub=launch.sub)
    return actor_for_launch(launch, person)


def _launch_or_refusal(request: HttpRequest, launch_id: object) -> Launch | HttpResponse:
    launch = launch_from_session(request, launch_id)
    if launch is None:
        return _refuse(request, _("Your session in the tool has ended. Start again from your course."), 403)
    translation.activate(launch.locale)
    request.LANGUAGE_CODE = launch.locale
    launched_from(request, launch.registration)
    return launch


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The tool's front page outside an LMS: what it is, how to install it, the demo if on."""
    urls = ToolUrls.for_base(f"{request.scheme}://{request.get_host()}")
    return render(request, "frontend/index.html", {"urls": urls, "demo": settings.DEMO_PLATFORM})


@require_GET
def home(request: HttpRequest, launch_id: object) -> HttpResponse:
    """Where a launch lands: who you are, in which course, with which roles."""
    launch = _launch_or_refusal(request, launch_id)
    if isinstance(launch, HttpResponse):
        return launch
    actor = actor_for(launch)
    if actor.roles == {"it_admin"}:
        return redirect("frontend:registrations", launch_id=launch.id)
    pack = actor.pack
    names = [pack.roles[role].name.get(launch.locale) for role in sorted(actor.roles) if role in pack.roles]
    context = {
        "launch": launch, "launch_id": launch.id, "person_id": actor.person.pk,
        "lti_roles": short_names(launch.roles),
        "tool_role": ", ".join(names) or ToolRole(launch.tool_role).label,
        "no_access": not actor.roles,
        # Links only: the pages themselves ask the policy again, case by case.
        "show_cases": policy.can(actor, "view_case"),
        "show_audit": policy.can(actor, "read_audit_log"),
        "show_admin": any(policy.can(actor, action) for action in ("grant_staff_roles", "grant_principal",
                                                                   "map_course_to_unit")),
        "show_welfare_group": bool(pack.welfare) and pack.welfare.communal_welfare_group_role in actor.roles,
        "show_tasks": bool(actor.roles - {"pupil", "guardian", "it_admin", "organisation_admin"}),
        "show_course": bool(launch.context_id) and bool(actor.roles & {"subject_teacher", "class_teacher"})
        and CourseMapping.objects.filter(deployment_id=launch.deployment_id, context_id=launch.context_id).exists(),
        # A pupil or a guardian goes straight to their own (their child's) support.
        "own_cases": list(policy.viewable_cases(actor).select_related("pupil__person", "unit"))
        if actor.roles and actor.roles <= {"pupil", "guardian"} else [],
    }
    # `fi`: an expert-group member reaches the group's record, not the case file.
    context["expert_group_cases"] = [case for case in Case.objects.filter(
        pupil__expert_groups__members=actor.person, unit__organisation=actor.organisation).select_related(
        "pupil__person").distinct() if policy.can(actor, "read_expert_group_record", case)] \
        if "expert_group_member" in actor.roles else []
    if context["own_cases"] or context["expert_group_cases"]:
        record_list(actor, context["own_cases"] + context["expert_group_cases"], "support.case")
    return render(request, "frontend/home.html", context, status=403 if context["no_access"] else 200)


def _it_admin_launch(request: HttpRequest, launch_id: object) -> Launch | HttpResponse:
    launch = _launch_or_refusal(request, launch_id)
    if isinstance(launch, HttpResponse):
        return launch
    if launch.tool_role != ToolRole.IT_ADMIN:
        return _refuse(request, _("Only the platform's administrators manage registrations."), 403)
    return launch


@require_GET
def registrations(request: HttpRequest, launch_id: object) -> HttpResponse:
    """The IT admin's page: the organisation's registrations, deployments and the tool's keys. No pupil data."""
    launch = _it_admin_launch(request, launch_id)
    if isinstance(launch, HttpResponse):
        return launch
    organisation = launch.deployment.organisation
    rows = (Registration.objects.filter(organisation=organisation).prefetch_related("deployments")
            .order_by("issuer", "client_id"))
    context = {
        "launch": launch,
        "organisation": organisation,
        "registrations": rows,
        "tool_keys": keys.published_keys(),
        "urls": ToolUrls.for_base(f"{request.scheme}://{request.get_host()}"),
        "lti_roles": short_names(launch.roles),
    }
    return render(request, "frontend/registrations.html", context)


@require_POST
def registration_approve(request: HttpRequest, launch_id: object, registration_pk: int) -> HttpResponse:
    """An IT admin approves a pending registration of their own organisation."""
    launch = _it_admin_launch(request, launch_id)
    if isinstance(launch, HttpResponse):
        return launch
    registration = Registration.objects.filter(pk=registration_pk,
                                               organisation=launch.deployment.organisation).first()
    if registration is None:
        return _refuse(request, _("No such registration in your organisation."), 404)
    if registration.status == Status.PENDING:
        approve(registration, by=f"IT admin {launch.sub} via {launch.registration.issuer}")
        messages.success(request, _("The registration is approved and can now be used."))
    return redirect("frontend:registrations", launch_id=launch.id)
