"""Shared reads: which cases a person reaches, and from there what is due for them."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Q, QuerySet

from .actor import Actor
from .models import Case
from .policy import UNIT_ROLES


def cases_visible_to(actor: Actor) -> QuerySet[Case]:
    """Every case the actor's roles could reach; policy.can(actor, "view_case", case) decides each.

    Each condition is on the case's own columns (a subquery where another table decides), so the
    database finds the cases by its indexes instead of reading the organisation's every case."""
    return Case.objects.filter(visible_q(actor))


def visible_q(actor: Actor) -> Q:
    """`cases_visible_to` as a condition on cases (`policy.on_case` asks it of a plan's case)."""
    from .models import GuardianLink, Pupil, SchoolUnit
    from .policy import in_classes, taught_pupil_ids

    reach = Q(pk__in=[])
    for role in actor.roles & UNIT_ROLES:
        if role == "class_teacher":
            reach |= in_classes(actor)
        if role != "subject_teacher" or role not in actor.role_units:
            reach |= Q(unit_id__in=actor.role_units.get(role, actor.units))
    if actor.roles & {"class_teacher", "subject_teacher"}:
        reach |= Q(pupil_id__in=taught_pupil_ids(actor))
    units = SchoolUnit.objects.filter(organisation=actor.organisation).values("pk")
    if "education_chief" in actor.roles:
        reach |= Q(unit_id__in=units)
    if "pupil" in actor.roles:
        reach |= Q(pupil_id__in=Pupil.objects.filter(person=actor.person).values("pk"))
    if "guardian" in actor.roles:
        reach |= Q(pupil_id__in=GuardianLink.objects.filter(guardian=actor.person).values("pupil_id"))
    return reach & Q(unit_id__in=units)


def audit_log_for(actor: Actor, *, pupil_id: int | None = None, person_id: int | None = None) -> QuerySet:
    """The audit trail a principal (their units) or the education chief (the organisation) may read,
    filtered by pupil or by person. Reading it is itself logged by the caller's view."""
    from .errors import NotAllowed
    from .models import AuditEntry
    from .policy import acting_roles

    roles = acting_roles(actor, "read_audit_log")
    if not roles:
        raise NotAllowed("read_audit_log", code="not_allowed:read_audit_log")
    entries = AuditEntry.objects.filter(organisation=actor.organisation)
    scopes = {actor.pack.scope_for("read_audit_log", role) for role in roles}
    if "organisation" not in scopes:
        units = {unit for role in roles for unit in actor.role_units.get(role, actor.units)}
        entries = entries.filter(unit_id__in=units)
    if pupil_id is not None:
        entries = entries.filter(pupil_id=pupil_id)
    if person_id is not None:
        entries = entries.filter(person_id=person_id)
    return entries.order_by("-at")


# --- the case's timeline ----------------------------------------------------------------------------

# What each kind of entry is read from: (kind, model, the field it is dated by, the fields shown as
# a, b, c, the person who wrote it, the path from the row to its case). One statement reads them all:
# ten ORM queries cost the case panel more in building than the database spends answering them.
_TIMELINE_SOURCES: list[tuple[str, str, str, tuple[str, str, str], str, str]] = [
    ("concern", "Concern", "created_at", ("kind", "text", ""), "raised_by", "case"),
    ("adaptation", "Adaptation", "started_on", ("kind", "description", ""), "created_by", "case"),
    ("adaptation_follow_up", "AdaptationFollowUp", "held_on", ("", "text", ""), "signed_by", "adaptation"),
    ("assessment", "Assessment", "started_at", ("", "text", "recommendation"), "started_by", "case"),
    ("investigation", "Investigation", "requested_at", ("", "mapping", "assessment"), "requested_by", "case"),
    ("follow_up", "PlanFollowUp", "held_on", ("", "text", ""), "signed_by", "plan"),
    ("review", "Review", "held_on", ("grade", "text", ""), "", "plan"),
    ("view", "View", "created_at", ("whose", "text", "on_behalf_of"), "author", "case"),
    ("hearing", "Hearing", "held_on", ("", "summary", ""), "held_by", "case"),
    ("level", "LevelChange", "changed_at", ("to_level", "", ""), "", "case"),
]


@functools.cache
def _taught_sql(vendor: str) -> str:
    from django.db import connection

    from .models import CourseMember, Pupil

    quote = connection.ops.quote_name
    member, pupil = CourseMember._meta, Pupil._meta

    def m(name: str) -> str:
        return quote(member.get_field(name).column)

    def p(name: str) -> str:
        return quote(pupil.get_field(name).column)

    return (f"SELECT DISTINCT p.{p('id')} FROM {quote(member.db_table)} t "
            f"JOIN {quote(member.db_table)} m ON m.{m('deployment')} = t.{m('deployment')} "
            f"AND m.{m('context_id')} = t.{m('context_id')} "
            f"JOIN {quote(pupil.db_table)} p ON p.{p('person')} = m.{m('person')} "
            f"WHERE t.{m('person')} = %s AND t.{m('launched_as_instructor')} AND m.{m('active')}")


def pupils_taught_by(person_id: int) -> frozenset[int]:
    """The pupils in the courses the person has launched as Instructor from: their active members
    (the roster from NRPS) who are pupils. One statement: the courses are the person's rows of the
    roster (deployment and context, the roster's unique index) and their members the rows sharing
    both; the ORM joins on no two columns without a foreign key, and a correlated EXISTS made SQLite
    read every roster row."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(_taught_sql(connection.vendor), [person_id])
        return frozenset(row[0] for row in cursor.fetchall())


@functools.cache
def _timeline_sql(vendor: str, limited: bool) -> str:
    from django.apps import apps
    from django.db import connection

    models_ = apps.get_app_config("support")
    quote = connection.ops.quote_name
    text = "varchar" if vendor == "postgresql" else "text"
    person = models_.get_model("Person")._meta
    branches = []
    for number, (kind, model_name, dated_by, shown, writer, parent) in enumerate(_TIMELINE_SOURCES):
        meta = models_.get_model(model_name)._meta
        table = quote(meta.db_table)
        dated = meta.get_field(dated_by)
        is_datetime = dated.get_internal_type() == "DateTimeField"
        at = f"t.{quote(dated.column)}" if is_datetime else "CAST(NULL AS timestamp with time zone)"
        day = "CAST(NULL AS date)" if is_datetime else f"t.{quote(dated.column)}"
        columns = [f"CAST(t.{quote(meta.get_field(name).column)} AS {text})" if name else f"CAST('' AS {text})"
                   for name in shown]
        who = f"(SELECT p.{quote('name')} FROM {quote(person.db_table)} p WHERE p.{quote('id')} = " \
              f"t.{quote(meta.get_field(writer).column)})" if writer else f"CAST('' AS {text})"
        if parent == "case":
            where = f"t.{quote(meta.get_field('case').column)} = %s"
        else:
            parent_meta = meta.get_field(parent).related_model._meta
            where = (f"t.{quote(meta.get_field(parent).column)} IN (SELECT {quote('id')} FROM "
                     f"{quote(parent_meta.db_table)} WHERE {quote(parent_meta.get_field('case').column)} = %s)")
        select = (f"SELECT CAST('{kind}' AS {text}) AS kind, {at} AS at, {day} AS day, t.{quote('id')} AS id, "
                  f"{columns[0]} AS a, {columns[1]} AS b, {columns[2]} AS c, {who} AS who FROM {table} t WHERE {where}")
        if limited:
            select = f"SELECT * FROM ({select} ORDER BY t.{quote(dated.column)} DESC, t.{quote('id')} DESC LIMIT %s) s{number}"
        branches.append(select)
    return " UNION ALL ".join(branches)


def timeline_rows(case_id: int, limit: int | None = None) -> list[tuple]:  # type: ignore[type-arg]
    """The case's concerns, adaptations and their follow-ups, assessments, investigations, plan
    follow-ups, reviews, views, hearings and level changes as rows (kind, at or day, id, a, b, c, who),
    in one statement; with `limit`, each kind's latest `limit` only (a case of years reads no more
    than a new one). Dates are the database's: `at` an aware datetime, `day` a date."""
    from datetime import timezone as dt_timezone

    from django.db import connection

    sql = _timeline_sql(connection.vendor, limit is not None)
    params: list[object] = []
    for _source in _TIMELINE_SOURCES:
        params += [case_id, limit] if limit is not None else [case_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = []
    for kind, at, day, pk, a, b, c, who in rows:
        if isinstance(at, str):  # SQLite may give text for what a union reads (UTC, as Django stores it)
            at = datetime.fromisoformat(at)
        if isinstance(at, datetime) and at.tzinfo is None:
            at = at.replace(tzinfo=dt_timezone.utc)
        if isinstance(day, str):
            day = date.fromisoformat(day)
        elif isinstance(day, datetime):
            day = day.date()
        result.append((kind, at, day, pk, a or "", b or "", c or "", who or ""))
    return result


# --- the plans the case panel shows -----------------------------------------------------------------

@dataclass(frozen=True)
class MeasureRow:
    text: str
    responsible: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class ViewRow:
    whose: str
    on_behalf_of: str
    text: str


@dataclass(frozen=True)
class FollowUpRow:
    held_on: date
    text: str
    signed_by: str


@dataclass
class PlanDetails:
    """What the panel shows of a plan: its needs and measures in order, the views given on it and
    its latest follow-ups (`more_follow_ups` when it has more than those)."""

    needs: list[str] = field(default_factory=list)
    measures: list[MeasureRow] = field(default_factory=list)
    views: list[ViewRow] = field(default_factory=list)
    follow_ups: list[FollowUpRow] = field(default_factory=list)
    more_follow_ups: bool = False


@functools.cache
def _plan_details_sql(vendor: str, plans: int) -> str:
    from django.apps import apps
    from django.db import connection

    support = apps.get_app_config("support")
    quote = connection.ops.quote_name
    text = "varchar" if vendor == "postgresql" else "text"
    table = {name: quote(support.get_model(name)._meta.db_table)
             for name in ("Need", "Measure", "View", "PlanFollowUp", "Person")}
    name_of = f"(SELECT p.{quote('name')} FROM {table['Person']} p WHERE p.{quote('id')} = t.{{}})"
    no_date = "CAST(NULL AS date)"
    columns = "kind, plan_id, ord, a, b, c, d1, d2"
    branches = [
        f"SELECT CAST('need' AS {text}) AS kind, t.{quote('plan_id')} AS plan_id, t.{quote('order')} AS ord, "
        f"t.{quote('text')} AS a, CAST('' AS {text}) AS b, CAST('' AS {text}) AS c, {no_date} AS d1, "
        f"{no_date} AS d2 FROM {table['Need']} t WHERE t.{quote('plan_id')} IN (%s)",
        f"SELECT CAST('measure' AS {text}), t.{quote('plan_id')}, t.{quote('order')}, t.{quote('text')}, "
        f"{name_of.format(quote('responsible_id'))}, CAST('' AS {text}), t.{quote('starts_on')}, "
        f"t.{quote('ends_on')} FROM {table['Measure']} t WHERE t.{quote('plan_id')} IN (%s)",
        f"SELECT CAST('view' AS {text}), t.{quote('plan_id')}, t.{quote('id')}, t.{quote('text')}, "
        f"t.{quote('on_behalf_of')}, t.{quote('whose')}, {no_date}, {no_date} FROM {table['View']} t "
        f"WHERE t.{quote('plan_id')} IN (%s)",
    ]
    for number in range(plans):
        branches.append(
            f"SELECT * FROM (SELECT CAST('follow_up' AS {text}) AS kind, t.{quote('plan_id')} AS plan_id, "
            f"t.{quote('id')} AS ord, t.{quote('text')} AS a, {name_of.format(quote('signed_by_id'))} AS b, "
            f"CAST('' AS {text}) AS c, t.{quote('held_on')} AS d1, {no_date} AS d2 FROM {table['PlanFollowUp']} t "
            f"WHERE t.{quote('plan_id')} = %s ORDER BY t.{quote('held_on')} DESC, t.{quote('id')} DESC LIMIT %s) f{number}")
    return f"SELECT {columns} FROM ({' UNION ALL '.join(branches)}) details ORDER BY kind, plan_id, ord"


def plan_details(plan_ids: list[int], follow_ups: int) -> dict[int, PlanDetails]:
    """The details the panel shows of these plans (a case's plan in force and its draft), in one
    statement; of the follow-ups the latest `follow_ups` of each."""
    from django.db import connection

    if not plan_ids:
        return {}
    placeholders = ", ".join(["%s"] * len(plan_ids))
    sql = _plan_details_sql(connection.vendor, len(plan_ids)).replace("IN (%s)", f"IN ({placeholders})")
    params: list[object] = [*plan_ids, *plan_ids, *plan_ids]
    for plan_id in plan_ids:
        params += [plan_id, follow_ups + 1]
    details = {plan_id: PlanDetails() for plan_id in plan_ids}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    latest: dict[int, list[tuple[date, int, FollowUpRow]]] = {plan_id: [] for plan_id in plan_ids}
    for kind, plan_id, order, a, b, c, d1, d2 in rows:  # in order of kind, plan and `ord`
        found = details[plan_id]
        if kind == "need":
            found.needs.append(a)
        elif kind == "measure":
            found.measures.append(MeasureRow(a, b or "", _day(d1), _day(d2)))
        elif kind == "view":
            found.views.append(ViewRow(c, b or "", a))
        else:
            latest[plan_id].append((_day(d1), order, FollowUpRow(_day(d1), a, b or "")))
    for plan_id, found in details.items():
        newest_first = [row for _day_, _pk, row in sorted(latest[plan_id], key=lambda item: item[:2], reverse=True)]
        found.follow_ups, found.more_follow_ups = newest_first[:follow_ups], len(newest_first) > follow_ups
    return details


def _day(value: object) -> date:
    """A date as the database gives it through a union (SQLite: text)."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return value.date()
    return value  # type: ignore[return-value]
