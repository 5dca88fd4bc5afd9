"""The one answer to "may this person do this?": the pack's matrix (action -> roles) and the scopes.

This is the skeleton the services call from the start; the access issue fills in the finer scopes
(a subject teacher's courses, a class teacher's class) behind the same functions.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from .actor import Actor
from .errors import NotAllowed
from .models import Case, GuardianLink

# Roles whose reach is the school units their grants (or course mappings) cover.
UNIT_ROLES = frozenset({"class_teacher", "subject_teacher", "special_teacher", "principal", "principal_delegate",
                        "health_team_member"})


def taught_pupils(actor: Actor) -> Q:
    """Pupils in the courses the actor teaches (launched as Instructor there; the roster from NRPS)."""
    return Q(pk__in=taught_pupil_ids(actor))


def taught_pupil_ids(actor: Actor) -> frozenset[int]:
    """The ids of those pupils, asked once per actor (one request): a list of many cases, or a filter
    on thousands, then tests membership in a small set instead of joining the rosters each time."""
    from .queries import pupils_taught_by

    if "taught" not in actor.memo:
        actor.memo["taught"] = pupils_taught_by(actor.person.pk)
    return actor.memo["taught"]


def in_classes(actor: Actor) -> Q:
    """Cases of pupils in the classes the actor is class teacher of, as a condition on the case's own
    column: the pupils' ids, asked once per actor (an index finds their cases; a condition on the
    pupil's table, or a subquery beside other conditions, made the database read every case)."""
    from .models import Pupil

    if not actor.classes:
        return Q(pk__in=[])
    if "classes" not in actor.memo:
        actor.memo["classes"] = frozenset(Pupil.objects.filter(school_class_id__in=actor.classes)
                                          .values_list("pk", flat=True))
    return Q(pupil_id__in=actor.memo["classes"])


def _taught(actor: Actor, case: Case) -> bool:
    return case.pupil_id in taught_pupil_ids(actor)


def _children(actor: Actor) -> frozenset[int]:
    if "children" not in actor.memo:
        actor.memo["children"] = frozenset(GuardianLink.objects.filter(guardian=actor.person)
                                           .values_list("pupil_id", flat=True))
    return actor.memo["children"]


def _class_or_unit(actor: Actor, role: str, case: Case) -> bool:
    """A class teacher reaches their classes, and a unit only where granted for the whole unit."""
    return case.pupil.school_class_id in actor.classes or actor.covers(case.unit_id, role)


def _in_scope(actor: Actor, role: str, scope: str, case: Case | None) -> bool:
    """Whether `role`, with the pack's `scope` for this action, reaches the case."""
    if case is None:
        return True
    if scope == "self":
        return case.pupil.person_id == actor.person.pk
    if scope == "own_child":
        return case.pupil_id in _children(actor)
    if scope == "organisation":
        return case.unit.organisation_id == actor.organisation.pk
    if scope == "unit":
        return actor.covers(case.unit_id, role)
    if scope == "class_and_taught":
        return _class_or_unit(actor, role, case) or _taught(actor, case)
    if scope == "taught":
        return (role not in actor.role_units and actor.covers(case.unit_id, role)) or _taught(actor, case)
    if scope == "expert_group":
        # `fi`: members of this pupil's expert group, named by a standing grant, while consent stands.
        from .models import Consent, StaffGrant

        return StaffGrant.objects.filter(person=actor.person, role=role, pupil_id=case.pupil_id,
                                         revoked_at__isnull=True).exists() and Consent.objects.filter(
            pupil_id=case.pupil_id, withdrawn_at__isnull=True).exists()
    return False  # platform roles (IT admin) and the communal welfare group reach no pupil


def _pending(actor: Actor, case: Case, levels: tuple[str, ...]) -> bool:
    """A decision that would move the case to one of `levels` is presented and not yet taken."""
    from .models import Decision, Submission

    if case.pk is None:  # a case not opened yet (the course panel's pupils) has nothing presented
        return False
    pack = actor.pack
    for submission in Submission.objects.filter(case=case, kind=Submission.Kind.PRESENTED).order_by("-submitted_at"):
        spec = pack.decisions.get(submission.decision_type)
        if spec and set(spec.levels) & set(levels) and not Decision.objects.filter(
                case=case, decision_type=submission.decision_type, decided_at__gte=submission.submitted_at).exists():
            return True
    return False


def _at_level(actor: Actor, action: str, role: str, case: Case | None) -> bool:
    """The matrix entry may be limited to levels; `include_pending` adds cases presented for a
    decision to those levels (the education chief sees what the principal presents)."""
    grant = actor.pack.grant(action, role)
    if grant is None:
        return False
    if case is None or not grant.levels or case.level in grant.levels:
        return True
    return grant.include_pending and _pending(actor, case, grant.levels)


def _may_as(actor: Actor, action: str, role: str, case: Case | None) -> bool:
    """Whether `role` (one the pack gives `action`) reaches this case for it: its level and scope."""
    return _at_level(actor, action, role, case) and _in_scope(actor, role, actor.pack.scope_for(action, role) or "",
                                                              case)


def _permitted_roles(actor: Actor, action: str) -> list[str]:
    return sorted(actor.roles & actor.pack.roles_for(action))


def acting_roles(actor: Actor, action: str, case: Case | None = None) -> list[str]:
    """The actor's roles that the pack lets take `action` on this case (its scope and level)."""
    return [role for role in _permitted_roles(actor, action) if _may_as(actor, action, role, case)]


def can(actor: Actor, action: str, case: Case | None = None) -> bool:
    """Whether any of the actor's roles may take `action` here (the first that may answers: a
    principal's unit needs no look at the courses they also teach)."""
    return any(_may_as(actor, action, role, case) for role in _permitted_roles(actor, action))


def require(actor: Actor, action: str, case: Case | None = None) -> str:
    """The role the actor acts in; NotAllowed if the pack gives none of theirs this action here."""
    roles = acting_roles(actor, action, case)
    if not roles:
        raise NotAllowed(_("Your role may not do this here."), code=f"not_allowed:{action}")
    return roles[0]


def allowed_actions(actor: Actor, case: Case | None, actions: list[str]) -> set[str]:
    return {action for action in actions if can(actor, action, case)}


def access_case(actor: Actor, case_id: int, cases: QuerySet[Case] | None = None) -> Case:
    """The only way a view or the API gets a case: one 404 for missing and out of scope; logs the read.
    `cases`: the rows to find it among, for a caller that reads more with it (annotations)."""
    from . import audit

    case = access_case_without_log(actor, case_id, cases)
    audit.record_read(actor, case)
    return case


def access_plan(actor: Actor, plan_id: int):  # type: ignore[no-untyped-def]
    """A plan through its case: out of scope is a 404 like a missing one; the read is logged."""
    from django.http import Http404

    from . import audit
    from .models import Plan

    plan = Plan.objects.select_related("case").filter(pk=plan_id).first()
    if plan is None:
        raise Http404
    access_case_without_log(actor, plan.case_id)
    audit.record_read(actor, plan)
    return plan


def access_for_action(actor: Actor, case_id: int, action: str) -> Case:
    """A case for an action: reached by viewing it, or by the action itself (an expert-group member
    reaches the group's actions on that pupil's case, not the case file). Else a 404."""
    from django.http import Http404

    case = Case.objects.select_related("pupil", "unit").filter(pk=case_id, unit__organisation=actor.organisation).first()
    if case is None:
        raise Http404
    if can(actor, "view_case", case):
        return case
    if any(actor.pack.scope_for(action, role) == "expert_group" for role in acting_roles(actor, action, case)):
        return case
    raise Http404


def access_case_without_log(actor: Actor, case_id: int, cases: QuerySet[Case] | None = None) -> Case:
    """The case if the actor may view it, else a 404 (as for a missing one). `can` decides: every
    pack's view_case scopes are among those `queries.cases_visible_to` lists, which is no wider."""
    from django.http import Http404

    case = (Case.objects.all() if cases is None else cases).select_related("pupil__person", "unit__organisation") \
        .filter(pk=case_id, unit__organisation=actor.organisation).first()
    if case is None or not can(actor, "view_case", case):
        raise Http404
    return case


def _scope_q(actor: Actor, role: str, scope: str) -> Q:
    """`_in_scope` as a filter on cases, for lists: the same rules, one query however many cases."""
    from .models import Consent, StaffGrant

    units = actor.role_units.get(role, actor.units)
    taught = Q(pupil_id__in=taught_pupil_ids(actor)) if scope in ("taught", "class_and_taught") else Q(pk__in=[])
    if scope == "self":
        return Q(pupil__person=actor.person)
    if scope == "own_child":
        return Q(pupil__in=GuardianLink.objects.filter(guardian=actor.person).values("pupil_id"))
    if scope == "organisation":
        return Q(unit__organisation=actor.organisation)
    if scope == "unit":
        return Q(unit_id__in=units)
    if scope == "class_and_taught":
        return in_classes(actor) | Q(unit_id__in=units) | taught
    if scope == "taught":
        return (Q(unit_id__in=actor.units) if role not in actor.role_units else Q(pk__in=[])) | taught
    if scope == "expert_group":
        granted = StaffGrant.objects.filter(person=actor.person, role=role, revoked_at__isnull=True).values("pupil_id")
        consented = Consent.objects.filter(withdrawn_at__isnull=True).values("pupil_id")
        return Q(pupil_id__in=granted) & Q(pupil_id__in=consented)
    return Q(pk__in=[])


def _level_q(actor: Actor, action: str, role: str) -> Q:
    """`_at_level` as a filter: the grant's levels, plus cases presented for a decision to them."""
    grant = actor.pack.grant(action, role)
    if grant is None:
        return Q(pk__in=[])
    if not grant.levels:
        return Q()
    at_level = Q(level__in=grant.levels)
    if not grant.include_pending:
        return at_level
    return at_level | _pending_q(actor, grant.levels)


def _pending_q(actor: Actor, levels: tuple[str, ...], case: str = "pk") -> Q:
    """`_pending` as a filter: a decision to one of `levels` is presented and not yet taken. `case`
    names the case from the rows filtered (a plan's: "case")."""
    from django.db.models import Exists, OuterRef

    from .models import Decision, Submission

    types = [key for key, spec in actor.pack.decisions.items() if set(spec.levels) & set(levels)]
    decided = Decision.objects.filter(case=OuterRef("case"), decision_type=OuterRef("decision_type"),
                                      decided_at__gte=OuterRef("submitted_at"))
    pending = Submission.objects.filter(case=OuterRef(case), kind=Submission.Kind.PRESENTED,
                                        decision_type__in=types).filter(~Exists(decided))
    return Q(Exists(pending))


def on_case(condition: Q, path: str) -> Q:
    """A condition on cases as one on rows that reach their case by `path` ("case": a plan's,
    an absence record's): each lookup is prefixed. Only plain lookups: a condition holding an
    expression (an EXISTS on the case's own key) is refused rather than silently asked of the row."""
    if not path:
        return condition
    children: list[object] = []
    for child in condition.children:
        if isinstance(child, Q):
            children.append(on_case(child, path))
        elif isinstance(child, tuple):
            children.append((f"{path}__{child[0]}", child[1]))
        else:
            raise TypeError(f"on_case() cannot move {child!r} to {path}")
    moved = Q()
    moved.children, moved.connector, moved.negated = children, condition.connector, condition.negated
    return moved


def reach(actor: Actor, action: str) -> Q:
    """`can(actor, action, case)` as a condition on cases: the same rules, answered by the database."""
    condition = Q(pk__in=[])
    for role in sorted(actor.roles & actor.pack.roles_for(action)):
        condition |= _scope_q(actor, role, actor.pack.scope_for(action, role) or "") & _level_q(actor, action, role)
    return condition & Q(unit__organisation=actor.organisation)


def scope_reach(actor: Actor, actions: Iterable[str]) -> Q:
    """The cases some role of the actor reaches for any of `actions`, their levels aside: a wider net
    than can(), for a list to leave out what no answer could be yes for."""
    pack, condition = actor.pack, Q(pk__in=[])
    for role, scope in sorted({(role, pack.scope_for(action, role) or "") for action in actions
                               for role in actor.roles & pack.roles_for(action)}):
        condition |= _scope_q(actor, role, scope)
    return condition


def viewable_cases(actor: Actor, action: str = "view_case"):  # type: ignore[no-untyped-def]
    """Exactly the cases `can(actor, action, case)` answers yes for, as one queryset (the caseload)."""
    return Case.objects.filter(reach(actor, action))


class ListAnswers:
    """The policy's answers for the rows of a list of cases (`with_permissions`): can() taken apart
    as it decides, each role's scope asked of the database once for all the actions that share it,
    each grant's levels checked against the row's level."""

    def __init__(self, actor: Actor, actions: Iterable[str], case: str = "") -> None:
        # `case`: how the rows reach their case ("" for cases, "case" for plans or absence records).
        self.actor, self.actions, self.case = actor, tuple(actions), case
        pack = actor.pack
        self.scopes: dict[tuple[str, str], str] = {}  # (role, scope) -> its column
        self.pending: dict[tuple[str, ...], str] = {}  # levels a decision is presented to -> its column
        for action in self.actions:
            for role in actor.roles & pack.roles_for(action):
                scope = pack.scope_for(action, role) or ""
                self.scopes.setdefault((role, scope), f"scope_{len(self.scopes)}")
                grant = pack.grant(action, role)
                if grant is not None and grant.levels and grant.include_pending:
                    self.pending.setdefault(tuple(grant.levels), f"pending_{len(self.pending)}")
        self._answered: dict[tuple[object, ...], dict[str, bool]] = {}

    @property
    def columns(self) -> list[str]:
        return [*self.scopes.values(), *self.pending.values()]

    def annotations(self) -> dict[str, object]:
        from django.db.models import BooleanField, ExpressionWrapper

        conditions = {column: on_case(_scope_q(self.actor, role, scope), self.case)
                      for (role, scope), column in self.scopes.items()}
        conditions.update({column: _pending_q(self.actor, levels, self.case or "pk")
                           for levels, column in self.pending.items()})
        return {column: ExpressionWrapper(condition, output_field=BooleanField())
                for column, condition in conditions.items()}

    def of(self, row: dict[str, object]) -> dict[str, bool]:
        """Per action, what can() answers for the case in `row` (its `level` and the columns)."""
        return self.of_values(str(row["level"]), tuple(row[column] for column in self.columns))

    def of_values(self, level: str, values: tuple[object, ...]) -> dict[str, bool]:
        """`of` for a row read with values_list: the case's level, and the columns' values in order."""
        key = (level, *(bool(value) for value in values))
        if key not in self._answered:
            pack, column = self.actor.pack, dict(zip(self.columns, key[1:]))

            def at_level(action: str, role: str) -> bool:
                grant = pack.grant(action, role)
                if grant is None:
                    return False
                if not grant.levels or level in grant.levels:
                    return True
                return grant.include_pending and column[self.pending[tuple(grant.levels)]]

            self._answered[key] = {action: any(
                at_level(action, role) and column[self.scopes[(role, pack.scope_for(action, role) or "")]]
                for role in self.actor.roles & pack.roles_for(action)) for action in self.actions}
        return self._answered[key]


def with_permissions(cases, actor: Actor, actions: Iterable[str], case: str = ""):  # type: ignore[no-untyped-def]
    """The cases (of the actor's organisation), each with what `can(actor, action, case)` answers for
    each action, from the one query that fetches them: a list that asks per row asks thousands of
    times. Returns the queryset and its `ListAnswers`; `answers.of(row)` of a row of
    `.values("level", *answers.columns)` gives the answers. With `case="case"`, the rows are plans
    or absence records and the answers their case's (read its level as "case__level")."""
    answers = ListAnswers(actor, actions, case)
    return cases.annotate(**answers.annotations()), answers
