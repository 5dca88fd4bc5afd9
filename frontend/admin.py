"""Administration in the tool: staff roles (the principal for the unit, the organisation admin for
principals and the education chief), courses mapped to units, and the communal welfare group's page.

No pupil data here: people offered for a role are staff (no pupil row, no child), and the welfare
group's page shows the unit's work in counts only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from lti_plugin.lti.models import Deployment, Launch
from lti_plugin.support import policy
from lti_plugin.support.actor import Actor
from lti_plugin.support.errors import NotAllowed, RuleBroken
from lti_plugin.support.models import (
    Case,
    CourseMapping,
    Person,
    Plan,
    PlanFollowUp,
    SchoolClass,
    SchoolUnit,
    StaffGrant,
)
from lti_plugin.support.services import grants

from .views import _launch_or_refusal, _refuse, actor_for

ADMIN_ACTIONS = ("grant_staff_roles", "grant_principal", "map_course_to_unit", "read_audit_log")
SMALL = 5  # counts below this are shown as "fewer than 5": a group page names no pupil, even by count


def _launched(request: HttpRequest, launch_id: object) -> tuple[Launch, Actor] | HttpResponse:
    launch = _launch_or_refusal(request, launch_id)
    if isinstance(launch, HttpResponse):
        return launch
    return launch, actor_for(launch)


def _staff(actor: Actor):  # type: ignore[no-untyped-def]
    """People who may be given a staff role: not pupils, not guardians."""
    return Person.objects.filter(organisation=actor.organisation, pupil__isnull=True, wards__isnull=True) \
        .order_by("name", "pk")


def _grantable_roles(actor: Actor) -> list[tuple[str, str]]:
    """The roles this person may give: those granted through an action their roles allow."""
    pack = actor.pack
    return [(key, role.name.get(actor.language)) for key, role in pack.roles.items()
            if role.granted_through not in ("lti", "operator") and key != "expert_group_member"
            and policy.can(actor, role.granted_through)]


def _units(actor: Actor) -> list[SchoolUnit]:
    units = SchoolUnit.objects.filter(organisation=actor.organisation).order_by("name")
    if policy.can(actor, "grant_principal") or "education_chief" in actor.roles:
        return list(units)
    return [unit for unit in units if actor.covers(unit.pk, "principal") or actor.covers(unit.pk)]


class GrantForm(forms.Form):
    person = forms.TypedChoiceField(label=gettext_lazy("Person"), coerce=int)
    role = forms.ChoiceField(label=gettext_lazy("Role"))
    unit = forms.TypedChoiceField(label=gettext_lazy("School unit"), coerce=int, required=False)
    school_class = forms.TypedChoiceField(label=gettext_lazy("Class (for a class teacher)"), coerce=int,
                                          required=False, empty_value=None)

    def __init__(self, actor: Actor, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [(p.pk, p.name or p.sub) for p in _staff(actor)]
        self.fields["role"].choices = _grantable_roles(actor)
        units = _units(actor)
        self.fields["unit"].choices = [("", "–")] + [(u.pk, u.name) for u in units]
        self.fields["school_class"].choices = [("", "–")] + [
            (c.pk, f"{c.unit.name} {c.name}") for c in SchoolClass.objects.filter(unit__in=units).select_related("unit")]


class MapForm(forms.Form):
    course = forms.ChoiceField(label=gettext_lazy("Course"))
    unit = forms.TypedChoiceField(label=gettext_lazy("School unit"), coerce=int)

    def __init__(self, actor: Actor, courses: list[dict[str, Any]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["course"].choices = [(course["key"], course["title"]) for course in courses]
        self.fields["unit"].choices = [(u.pk, u.name) for u in _units(actor)]


def _courses(actor: Actor) -> list[dict[str, Any]]:
    """The organisation's courses the tool has seen (launched from), and the unit each is mapped to."""
    mapped = {(m.deployment_id, m.context_id): m for m in CourseMapping.objects.filter(
        deployment__organisation=actor.organisation).select_related("unit")}
    seen: dict[tuple[int, str], str] = {}
    for deployment, context, title in Launch.objects.filter(deployment__organisation=actor.organisation) \
            .exclude(context_id="").values_list("deployment_id", "context_id", "context_title").distinct():
        seen.setdefault((deployment, context), title)
    for key, mapping in mapped.items():
        seen.setdefault(key, mapping.title)
    return [{"key": f"{deployment}:{context}", "title": title or context,
             "unit": mapped[(deployment, context)].unit if (deployment, context) in mapped else None}
            for (deployment, context), title in sorted(seen.items(), key=lambda item: item[1] or "")]


def _page(request: HttpRequest, launch_id: object, actor: Actor, *, grant_form: GrantForm | None = None,
          map_form: MapForm | None = None, status: int = 200) -> HttpResponse:
    units = _units(actor)
    organisation_wide = policy.can(actor, "grant_principal") or "education_chief" in actor.roles
    held = StaffGrant.objects.filter(organisation=actor.organisation, revoked_at__isnull=True, pupil__isnull=True) \
        .select_related("person", "unit", "school_class").order_by("unit__name", "role", "person__name")
    if not organisation_wide:
        held = held.filter(Q(unit__in=units) | Q(school_class__unit__in=units))
    courses = _courses(actor) if policy.can(actor, "map_course_to_unit") else []
    roles = {key: role.name.get(actor.language) for key, role in actor.pack.roles.items()}
    grantable = {key for key, _name in _grantable_roles(actor)}
    return render(request, "frontend/admin/staff.html", {
        "launch_id": launch_id, "actor": actor,
        "grants": [(grant, roles.get(grant.role, grant.role), grant.role in grantable and grant.person_id != actor.person.pk)
                   for grant in held],
        "grant_form": grant_form or (GrantForm(actor, auto_id="grant-%s") if grantable else None),
        "map_form": map_form or (MapForm(actor, courses, auto_id="map-%s") if courses else None),
        "courses": courses, "show_audit": policy.can(actor, "read_audit_log"),
    }, status=status)


def _admin(request: HttpRequest, launch_id: object) -> tuple[Launch, Actor] | HttpResponse:
    found = _launched(request, launch_id)
    if isinstance(found, HttpResponse):
        return found
    if not any(policy.can(found[1], action) for action in ADMIN_ACTIONS):
        return _refuse(request, _("Only principals, the education chief and the organisation admin administer "
                                  "the tool."), 403)
    return found


@require_GET
def staff(request: HttpRequest, launch_id: object) -> HttpResponse:
    """Who holds which staff role; give and end roles; map courses to units."""
    found = _admin(request, launch_id)
    if isinstance(found, HttpResponse):
        return found
    return _page(request, launch_id, found[1])


@require_POST
def staff_grant(request: HttpRequest, launch_id: object) -> HttpResponse:
    found = _admin(request, launch_id)
    if isinstance(found, HttpResponse):
        return found
    actor = found[1]
    form = GrantForm(actor, request.POST, auto_id="grant-%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            grants.grant_role(actor=actor, person=_staff(actor).get(pk=data["person"]), role=data["role"],
                              unit=SchoolUnit.objects.filter(pk=data["unit"], organisation=actor.organisation).first(),
                              school_class=SchoolClass.objects.filter(
                                  pk=data["school_class"], unit__organisation=actor.organisation).first()
                              if data["school_class"] else None)
        except NotAllowed as refusal:
            return _refuse(request, refusal.message, 403)
        except RuleBroken as refusal:
            form.add_error(None, refusal.message)
    if form.errors:
        return _page(request, launch_id, actor, grant_form=form, status=422)
    messages.success(request, _("The role is given."))
    return redirect("frontend:staff", launch_id=launch_id)


@require_POST
def staff_revoke(request: HttpRequest, launch_id: object, grant_id: int) -> HttpResponse:
    found = _admin(request, launch_id)
    if isinstance(found, HttpResponse):
        return found
    actor = found[1]
    grant = StaffGrant.objects.filter(pk=grant_id, organisation=actor.organisation).first()
    if grant is None:
        return _refuse(request, _("No such role here."), 404)
    try:
        grants.revoke_grant(actor=actor, grant=grant)
    except NotAllowed as refusal:
        return _refuse(request, refusal.message, 403)
    except RuleBroken as refusal:
        return _refuse(request, refusal.message, 422)
    messages.success(request, _("The role has ended."))
    return redirect("frontend:staff", launch_id=launch_id)


@require_POST
def course_map(request: HttpRequest, launch_id: object) -> HttpResponse:
    found = _admin(request, launch_id)
    if isinstance(found, HttpResponse):
        return found
    actor = found[1]
    if not policy.can(actor, "map_course_to_unit"):
        return _refuse(request, _("Only the organisation admin maps courses to school units."), 403)
    courses = _courses(actor)
    form = MapForm(actor, courses, request.POST, auto_id="map-%s")
    if form.is_valid():
        deployment_id, context_id = form.cleaned_data["course"].split(":", 1)
        deployment = Deployment.objects.filter(pk=int(deployment_id), organisation=actor.organisation).first()
        unit = SchoolUnit.objects.filter(pk=form.cleaned_data["unit"], organisation=actor.organisation).first()
        title = next((c["title"] for c in courses if c["key"] == form.cleaned_data["course"]), "")
        try:
            if deployment is None or unit is None:
                raise RuleBroken(_("Choose a course and a school unit of your organisation."), code="bad_choice")
            grants.map_course_to_unit(actor=actor, deployment=deployment, context_id=context_id, unit=unit,
                                      title=title)
        except NotAllowed as refusal:
            return _refuse(request, refusal.message, 403)
        except RuleBroken as refusal:
            form.add_error(None, refusal.message)
    if form.errors:
        return _page(request, launch_id, actor, map_form=form, status=422)
    messages.success(request, _("The course is linked to the school unit."))
    return redirect("frontend:staff", launch_id=launch_id)


def _count(value: int) -> str:
    return str(value) if value == 0 or value >= SMALL else _("fewer than %(n)s") % {"n": SMALL}


@require_GET
def welfare_group(request: HttpRequest, launch_id: object) -> HttpResponse:
    """`fi`: the communal welfare group's page: the unit's pupil-support work in counts, no pupil."""
    found = _launched(request, launch_id)
    if isinstance(found, HttpResponse):
        return found
    actor = found[1]
    welfare = actor.pack.welfare
    role = welfare.communal_welfare_group_role if welfare else None
    if role is None or role not in actor.roles:
        return _refuse(request, _("This page is for the communal welfare group."), 403)
    units = SchoolUnit.objects.filter(pk__in=actor.role_units.get(role, actor.units)).order_by("name")
    since = timezone.localdate() - timedelta(days=90)
    rows = []
    levels = {level.key: level.name.get(actor.language) for level in actor.pack.levels}
    for unit in units:
        by_level = dict(Case.objects.filter(unit=unit).values_list("level").annotate(n=Count("pk")))
        rows.append({
            "unit": unit,
            "levels": [(name, _count(by_level.get(key, 0))) for key, name in levels.items()],
            "plans": _count(Plan.objects.filter(case__unit=unit, status=Plan.Status.ACTIVE).count()),
            "follow_ups": _count(PlanFollowUp.objects.filter(plan__case__unit=unit, held_on__gte=since).count()),
        })
    return render(request, "frontend/admin/welfare_group.html", {"launch_id": launch_id, "rows": rows})
