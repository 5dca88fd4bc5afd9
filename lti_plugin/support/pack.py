"""Framework packs and absence ladders: the rules of pupil support as data files, read and checked here.

A *framework pack* (`packs/se.toml`, `ax.toml`, `fi-2010.toml`, `fi-2025.toml`) holds one
jurisdiction's levels of support, the documents allowed at each level, the decisions and who takes
them, what is appealable and the appeal text, the review points, the tool roles it knows and the
permission matrix. An *absence ladder* (`packs/absence-danderyd.toml`) holds the escalation steps for
school absence. Code reads all of it from here and never asks which country a pack is for. A pack
is refused on load, with a `PackError` naming the file and the field path, when anything in it is
missing, mistyped, unknown or points at something that does not exist. Every table refuses fields
it does not know, so a misspelt field is an error, not a silently ignored line.

Framework pack, top level::

    kind = "framework"; id (= the file's name); version = "YYYY-MM-DD"; name, description = {sv, en}
    valid_from, valid_until      optional TOML dates: when the law the pack describes applies
    no_pupil_data_actions        matrix actions that reach no pupil data (admin actions)
    [[levels]]                   key, rank (1..n, unique), name, description, documents (keys of
                                 [documents]), requires_decision, decisions (keys of [decisions]
                                 that move a case to the level; present exactly when
                                 requires_decision), prerequisites (from PREREQUISITES)
    [documents.<key>]            name, short_name?, description?, review_cycle (REVIEW_CYCLES),
                                 review_months (periodic only), review_grades (grade_points only),
                                 requires_hearing, draft_action (the matrix action that drafts it)
    [decisions.<action>]         name, roles, delegable, appealable, appeal (key of [appeals],
                                 exactly when appealable), requires_hearing, level or levels (where
                                 the decision moves the case, if anywhere), prepared_through?
                                 (the action that prepares and presents it), executed_by? (roles),
                                 options? ({key = {sv, en}}: which measure was decided)
    [close_reasons.<key>]        name
    [appeals.<key>]              route, send_to, text = {sv, en}; deadline_days; in_writing
    [review_points]              optional: grades, responsible, participants, decider (roles),
                                 decision (key of [decisions]), record_action (matrix action)
    [roles.<role>]               name, scopes (allowed scopes, the first is the default),
                                 granted_through ("lti", "operator" or the matrix action that
                                 grants it), pupil_data (default true), delegate_of? (a role)
    [matrix]                     action = [entries]; see below
    [welfare]                    optional; see Welfare

A matrix entry is either a role name (the role's default scope, full extent, every level) or an
inline table ``{ role, scope?, extent?, levels?, include_pending? }``:

* ``scope`` (SCOPES) says whose cases the role reaches for this action: ``self`` (the pupil's own),
  ``own_child`` (a guardian's children), ``class_and_taught`` (their class and the pupils they teach),
  ``taught`` (pupils in their courses), ``unit``, ``organisation``, ``expert_group`` (the one pupil
  whose expert group the person is in), ``platform`` (the LMS platform an IT admin administers).
* ``extent`` (EXTENTS): ``full``, ``summary`` (pupil and guardian views) or ``pedagogical`` (the
  health team sees the pedagogical side only).
* ``levels`` limits the entry to cases at those levels; with ``include_pending = true`` also to
  cases with a pending decision (prepared, not yet taken) that would move them to one of those
  levels, so the one who decides sees the case presented to them.

Every ``decide_*`` action in the matrix has an entry in ``[decisions]`` with the same roles. A role
with ``pupil_data = false`` may appear only on ``no_pupil_data_actions``; a delegate role (one with
``delegate_of``) only on delegable decisions or on actions that are not decisions.

``check_locally = true`` may stand on levels, documents, decisions, appeals, close reasons, review
points, ladder steps and checklist items: it marks law or local routine that no seed text states,
which an organisation must verify before relying on it; the tool shows it as editable text.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

PACKS_DIR = Path(__file__).resolve().parent / "packs"

LANGUAGES = ("sv", "en")
TOOL_ROLES = frozenset({
    "pupil", "guardian", "class_teacher", "subject_teacher", "special_teacher", "principal",
    "principal_delegate", "health_team_member", "education_chief", "expert_group_member",
    "communal_welfare_group_member", "organisation_admin", "it_admin",
})
SCOPES = (
    "self", "own_child", "class_and_taught", "taught", "unit", "organisation", "expert_group", "platform",
)
EXTENTS = ("full", "summary", "pedagogical")
REVIEW_CYCLES = ("single_evaluation", "periodic", "grade_points", "when_needed")
PREREQUISITES = ("assessment", "investigation", "plan", "hearing")
GRANTED_OUTSIDE_MATRIX = ("lti", "operator")
KINDS = ("framework", "absence_ladder")

# Absence ladders: what a trigger may measure, how it compares, where a report goes.
METRICS = (
    "unreported_absences",  # count of unreported absences
    "recurring_reported_absence_weeks",  # weeks over which reported absence keeps recurring
    "absence_without_explained_cause",  # true while absence goes on without an explained cause
    "absence_percent",  # share of scheduled time absent
    "previous_step_effective",  # whether the previous step's measures gave a result
)
_COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}
OPERATORS = tuple(_COMPARE)
WINDOWS = ("since_previous_step",)
REPORT_RECIPIENTS = ("school_owner", "social_services_of_home_municipality")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PACK_ID = re.compile(r"^[a-z][a-z0-9-]*$")


class PackError(ValueError):
    """A pack file that cannot be used; the message names the file and the field path."""


# --- the data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A text in both of the tool's languages."""

    sv: str
    en: str

    def get(self, language: str | None) -> str:
        """The text in `language` ("sv", "sv-FI", "en-GB"...); English for any other language."""
        code = (language or "").replace("_", "-").split("-")[0].lower()
        return self.sv if code == "sv" else self.en


@dataclass(frozen=True)
class Option:
    key: str
    name: Text


@dataclass(frozen=True)
class Level:
    key: str
    rank: int
    name: Text
    description: Text
    documents: tuple[str, ...]
    requires_decision: bool
    decisions: tuple[str, ...]
    prerequisites: tuple[str, ...]
    check_locally: bool


@dataclass(frozen=True)
class Document:
    key: str
    name: Text
    short_name: Text | None
    description: Text | None
    review_cycle: str
    review_months: int | None
    review_grades: tuple[int, ...]
    requires_hearing: bool
    draft_action: str
    check_locally: bool


@dataclass(frozen=True)
class Decision:
    key: str
    name: Text
    roles: frozenset[str]
    delegable: bool
    appealable: bool
    appeal: str | None
    requires_hearing: bool
    levels: tuple[str, ...]
    prepared_through: str | None
    executed_by: frozenset[str]
    options: tuple[Option, ...]
    check_locally: bool

    @property
    def level(self) -> str | None:
        """The one level this decision moves a case to, or None (no move, or a choice of levels)."""
        return self.levels[0] if len(self.levels) == 1 else None


@dataclass(frozen=True)
class Appeal:
    key: str
    route: Text
    send_to: Text
    text: Text
    deadline_days: int
    in_writing: bool
    check_locally: bool


@dataclass(frozen=True)
class CloseReason:
    key: str
    name: Text
    check_locally: bool


@dataclass(frozen=True)
class ReviewPoints:
    grades: tuple[int, ...]
    responsible: str
    participants: tuple[str, ...]
    decider: str
    decision: str
    record_action: str
    check_locally: bool


@dataclass(frozen=True)
class Role:
    key: str
    name: Text
    scopes: tuple[str, ...]
    granted_through: str
    pupil_data: bool
    delegate_of: str | None

    @property
    def default_scope(self) -> str:
        return self.scopes[0]


@dataclass(frozen=True)
class Grant:
    """One matrix entry: `role` may take the action on cases in `scope`, to `extent`, at `levels`."""

    role: str
    scope: str
    extent: str
    levels: tuple[str, ...]  # empty: every level
    include_pending: bool


@dataclass(frozen=True)
class Welfare:
    consent_required_for_expert_group: bool
    communal_welfare_group_reaches_pupils: bool
    consent_needed_for_pedagogical_support: bool
    pupil_and_guardians_always_take_part: bool
    record_sealed_when_consent_withdrawn: bool
    expert_group_role: str
    communal_welfare_group_role: str
    consent_gated_actions: frozenset[str]


@dataclass(frozen=True, eq=False)
class Pack:
    """A framework pack: immutable once loaded."""

    id: str
    version: str
    name: Text
    description: Text
    valid_from: dt.date | None
    valid_until: dt.date | None
    levels: tuple[Level, ...]  # by rank
    documents: Mapping[str, Document]
    decisions: Mapping[str, Decision]
    close_reasons: Mapping[str, CloseReason]
    appeals: Mapping[str, Appeal]
    review_points: ReviewPoints | None
    roles: Mapping[str, Role]
    matrix: Mapping[str, tuple[Grant, ...]]
    no_pupil_data_actions: frozenset[str]
    welfare: Welfare | None
    source: Path

    def level(self, key: str) -> Level:
        for level in self.levels:
            if level.key == key:
                return level
        raise KeyError(f"pack {self.id} has no level {key!r}")

    def level_by_rank(self, rank: int) -> Level:
        return self.levels[rank - 1]

    def document(self, key: str) -> Document:
        try:
            return self.documents[key]
        except KeyError:
            raise KeyError(f"pack {self.id} has no document {key!r}") from None

    def decision(self, action: str) -> Decision:
        try:
            return self.decisions[action]
        except KeyError:
            raise KeyError(f"pack {self.id} has no decision {action!r}") from None

    def role(self, key: str) -> Role:
        try:
            return self.roles[key]
        except KeyError:
            raise KeyError(f"pack {self.id} has no role {key!r}") from None

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(self.matrix)

    def grants(self, action: str) -> tuple[Grant, ...]:
        """The matrix entries for `action`; none for an action this pack does not have."""
        return self.matrix.get(action, ())

    def roles_for(self, action: str) -> frozenset[str]:
        """The roles that may take `action` (in their scope); empty for an action this pack lacks."""
        return frozenset(grant.role for grant in self.grants(action))

    def grant(self, action: str, role: str) -> Grant | None:
        """How `role` may take `action` (scope, extent, levels), or None if it may not."""
        return next((grant for grant in self.grants(action) if grant.role == role), None)

    def scope_for(self, action: str, role: str) -> str | None:
        grant = self.grant(action, role)
        return grant.scope if grant else None

    def actions_for(self, role: str) -> frozenset[str]:
        return frozenset(action for action, grants in self.matrix.items()
                         if any(grant.role == role for grant in grants))

    def appeal_for(self, decision_key: str) -> Appeal | None:
        """The appeal route stated on a decision, or None when the decision is not appealable."""
        decision = self.decision(decision_key)
        return self.appeals[decision.appeal] if decision.appeal else None

    def appeal_text(self, decision_key: str, language: str | None) -> str | None:
        appeal = self.appeal_for(decision_key)
        return appeal.text.get(language) if appeal else None


@dataclass(frozen=True)
class Condition:
    metric: str
    op: str
    value: int | float | bool
    window: str | None

    def holds(self, measured: float | bool) -> bool:
        """Whether a measured value of `metric` meets the condition."""
        return bool(_COMPARE[self.op](measured, self.value))


@dataclass(frozen=True)
class Trigger:
    """When the tool proposes a step: `after_previous_step_days` and the conditions (any or all)."""

    after_previous_step_days: int | None
    match: str  # "any" or "all"
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    text: Text
    responsible: tuple[str, ...]
    advisers: tuple[str, ...]
    conditional: bool  # "if it turns out that ...": checked off or marked not applicable
    due_days: int | None
    action: str | None  # the service action the item is recorded through, if any
    report_to: str | None  # REPORT_RECIPIENTS
    note: Text | None
    check_locally: bool


@dataclass(frozen=True)
class FollowUp:
    text: Text
    due_days: int | None  # once, within this many days of the step's start
    every_months: int | None  # recurring


@dataclass(frozen=True)
class Documentation:
    """Where a step's new measures are written: `document`, unless a decision led to `unless_decided`."""

    document: str
    unless_decided: str | None
    text: Text


@dataclass(frozen=True)
class Coordination:
    text: Text
    record_coordinator: bool
    record_form: bool
    may_coordinate: tuple[str, ...]
    keep_informed_when_not_coordinating: tuple[str, ...]
    forms: tuple[Option, ...]


@dataclass(frozen=True)
class LadderDocument:
    key: str
    name: Text
    framework_document: str | None  # a document key of the organisation's framework pack
    check_locally: bool


@dataclass(frozen=True)
class Step:
    number: int
    name: Text
    starting_point: Text
    trigger: Trigger
    responsible: tuple[str, ...]
    actions: tuple[ChecklistItem, ...]
    consider: tuple[ChecklistItem, ...]
    documents: tuple[str, ...]
    follow_up: FollowUp
    documentation: Documentation | None
    coordination: Coordination | None
    check_locally: bool

    def item(self, key: str) -> ChecklistItem:
        for item in self.actions + self.consider:
            if item.key == key:
                return item
        raise KeyError(f"step {self.number} has no checklist item {key!r}")


@dataclass(frozen=True, eq=False)
class AbsenceLadder:
    id: str
    version: str
    name: Text
    description: Text
    early_start_allowed_for: frozenset[str]
    early_start_requires_reason: bool
    documents: Mapping[str, LadderDocument]
    steps: tuple[Step, ...]  # by number, 1..n
    source: Path

    def step(self, number: int) -> Step:
        if not 1 <= number <= len(self.steps):
            raise KeyError(f"absence ladder {self.id} has no step {number}")
        return self.steps[number - 1]

    def next_step(self, number: int) -> Step | None:
        return self.steps[number] if number < len(self.steps) else None


# --- reading a TOML table with a path for every error ----------------------------------------------


class _Table:
    """One table of a pack file while it is read: every error names the file and the field path."""

    def __init__(self, file: str, path: str, data: Any) -> None:
        self.file = file
        self.path = path
        if not isinstance(data, dict):
            self.fail(f"expected a table, got {_type_name(data)}")
        self.data: dict[str, Any] = data
        self._seen: set[str] = set()

    def at(self, key: str | int | None = None) -> str:
        if key is None:
            return self.path or "(top level)"
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def fail(self, message: str, key: str | int | None = None) -> NoReturn:
        raise PackError(f"{self.file}: {self.at(key)}: {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def names(self) -> list[str]:
        return list(self.data)

    def raw(self, key: str) -> Any:
        self._seen.add(key)
        if key not in self.data:
            self.fail("missing required field", key)
        return self.data[key]

    def done(self) -> None:
        """Refuse fields nobody read: a misspelt field must not pass as an absent one."""
        unknown = [key for key in self.data if key not in self._seen]
        if unknown:
            self.fail("unknown field", unknown[0])

    def string(self, key: str, choices: Iterable[str] | None = None, what: str | None = None) -> str:
        """A non-empty string; one of `choices` if given (`what` names a reference: "unknown role 'x'")."""
        value = self.raw(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"expected a non-empty string, got {_type_name(value)}", key)
        if choices is not None and value not in choices:
            if what:
                self.fail(f"unknown {what} {value!r}", key)
            self.fail(f"{value!r} is not one of {', '.join(choices)}", key)
        return value

    def optional_string(self, key: str, choices: Iterable[str] | None = None,
                        what: str | None = None) -> str | None:
        return self.string(key, choices, what) if self._mark(key) else None

    def integer(self, key: str, minimum: int | None = None) -> int:
        value = self.raw(key)
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(f"expected an integer, got {_type_name(value)}", key)
        if minimum is not None and value < minimum:
            self.fail(f"must be at least {minimum}", key)
        return value

    def optional_integer(self, key: str, minimum: int | None = None) -> int | None:
        return self.integer(key, minimum) if self._mark(key) else None

    def boolean(self, key: str, default: bool | None = None) -> bool:
        if default is not None and not self._mark(key):
            return default
        value = self.raw(key)
        if not isinstance(value, bool):
            self.fail(f"expected true or false, got {_type_name(value)}", key)
        return value

    def date(self, key: str) -> dt.date | None:
        if not self._mark(key):
            return None
        value = self.raw(key)
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            self.fail(f"expected a TOML date (2025-08-01), got {_type_name(value)}", key)
        return value

    def text(self, key: str) -> Text:
        table = self.table(key)
        values = {language: table.string(language) for language in LANGUAGES}
        table.done()
        return Text(**values)

    def optional_text(self, key: str) -> Text | None:
        return self.text(key) if self._mark(key) else None

    def array(self, key: str, default: list[Any] | None = None) -> list[Any]:
        if default is not None and not self._mark(key):
            return default
        value = self.raw(key)
        if not isinstance(value, list):
            self.fail(f"expected an array, got {_type_name(value)}", key)
        return value

    def strings(self, key: str, default: list[str] | None = None, choices: Iterable[str] | None = None,
                what: str = "value") -> tuple[str, ...]:
        values = self.array(key, default)
        allowed = None if choices is None else set(choices)
        for index, value in enumerate(values):
            if not isinstance(value, str) or not value:
                self.fail(f"expected a non-empty string, got {_type_name(value)}", f"{key}[{index}]")
            if allowed is not None and value not in allowed:
                self.fail(f"unknown {what} {value!r}", f"{key}[{index}]")
        if len(set(values)) != len(values):
            self.fail("lists a value twice", key)
        return tuple(values)

    def integers(self, key: str, minimum: int = 0, default: list[int] | None = None) -> tuple[int, ...]:
        values = self.array(key, default)
        for index, value in enumerate(values):
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                self.fail(f"expected an integer of at least {minimum}", f"{key}[{index}]")
        return tuple(values)

    def table(self, key: str) -> _Table:
        return _Table(self.file, self.at(key), self.raw(key))

    def optional_table(self, key: str) -> _Table | None:
        return self.table(key) if self._mark(key) else None

    def tables(self, key: str) -> dict[str, _Table]:
        """A table of tables (`[decisions.decide_level_2]`...), by key."""
        outer = self.table(key)
        inner = {name: outer.table(name) for name in outer.names()}
        for name in inner:
            if not _NAME.match(name):
                outer.fail("keys are lower-case names (a-z, 0-9, _)", name)
        return inner

    def array_of_tables(self, key: str, default: list[Any] | None = None) -> list[_Table]:
        items = self.array(key, default)
        return [_Table(self.file, f"{self.at(key)}[{index}]", item) for index, item in enumerate(items)]

    def _mark(self, key: str) -> bool:
        self._seen.add(key)
        return key in self.data


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array",
            dict: "a table"}.get(type(value), type(value).__name__)


def _read(path: Path) -> _Table:
    file = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackError(f"{file}: no such pack file ({path})") from None
    except tomllib.TOMLDecodeError as error:
        raise PackError(f"{file}: not valid TOML: {error}") from None
    return _Table(file, "", data)


def _header(top: _Table, path: Path, kind: str) -> tuple[str, str, Text, Text]:
    found = top.string("kind", KINDS)
    if found != kind:
        top.fail(f"this is a {found} file, not a {kind}", "kind")
    pack_id = top.string("id")
    if not _PACK_ID.match(pack_id) or pack_id != path.stem:
        top.fail(f"id {pack_id!r} must be the file's name without .toml ({path.stem!r})", "id")
    version = top.string("version")
    try:
        dt.date.fromisoformat(version)
    except ValueError:
        top.fail(f"version {version!r} is not a date (YYYY-MM-DD)", "version")
    return pack_id, version, top.text("name"), top.text("description")


def _path_for(path_or_id: str | Path) -> Path:
    if isinstance(path_or_id, Path) or path_or_id.endswith(".toml") or "/" in path_or_id:
        return Path(path_or_id)
    if not _PACK_ID.match(path_or_id):
        raise PackError(f"{path_or_id!r} is not a pack id")
    return PACKS_DIR / f"{path_or_id}.toml"


# --- framework packs -------------------------------------------------------------------------------


def load_pack(path_or_id: str | Path) -> Pack:
    """Read and check a framework pack (an id such as "se", or a file path); refuse a broken one."""
    path = _path_for(path_or_id)
    top = _read(path)
    pack_id, version, name, description = _header(top, path, "framework")
    valid_from, valid_until = top.date("valid_from"), top.date("valid_until")
    if valid_from and valid_until and valid_until < valid_from:
        top.fail("ends before valid_from", "valid_until")

    # Keys first, so each section can check its references to the others.
    matrix_table = top.table("matrix")
    actions = set(matrix_table.names())
    document_keys = set(top.tables("documents"))
    decision_keys = set(top.tables("decisions"))
    appeal_keys = set(top.tables("appeals"))

    roles = _roles(top, actions)
    appeals = {key: _appeal(key, table) for key, table in top.tables("appeals").items()}
    close_reasons = {key: _close_reason(key, table) for key, table in top.tables("close_reasons").items()}
    levels = _levels(top, document_keys, decision_keys)
    level_keys = {level.key for level in levels}
    documents = {key: _document(key, table, actions) for key, table in top.tables("documents").items()}
    decisions = {key: _decision(key, table, roles, appeal_keys, level_keys, actions)
                 for key, table in top.tables("decisions").items()}
    matrix = _matrix(matrix_table, roles, level_keys, decisions)
    no_pupil_data = frozenset(top.strings("no_pupil_data_actions", choices=actions, what="action"))
    review_table = top.optional_table("review_points")
    review_points = _review_points(review_table, roles, decisions, actions) if review_table else None
    welfare_table = top.optional_table("welfare")
    welfare = _welfare(welfare_table, roles, actions) if welfare_table else None
    top.done()

    _check_levels_and_decisions(top, levels, decisions, documents)
    _check_matrix(top, matrix, roles, decisions, no_pupil_data)
    if review_points:
        _check_review_points(top, review_points, documents, matrix)
    if welfare:
        _check_welfare(top, welfare, roles, matrix)

    return Pack(
        id=pack_id, version=version, name=name, description=description,
        valid_from=valid_from, valid_until=valid_until, levels=tuple(levels),
        documents=MappingProxyType(documents), decisions=MappingProxyType(decisions),
        close_reasons=MappingProxyType(close_reasons), appeals=MappingProxyType(appeals),
        review_points=review_points, roles=MappingProxyType(roles), matrix=MappingProxyType(matrix),
        no_pupil_data_actions=no_pupil_data, welfare=welfare, source=path,
    )


def _roles(top: _Table, actions: set[str]) -> dict[str, Role]:
    tables = top.tables("roles")
    roles = {}
    for key, table in tables.items():
        if key not in TOOL_ROLES:
            top.fail(f"unknown tool role {key!r}", f"roles.{key}")
        delegate_of = table.optional_string("delegate_of", choices=tables, what="role")
        if delegate_of == key:
            table.fail("a role cannot be its own delegate", "delegate_of")
        scopes = table.strings("scopes", choices=SCOPES, what="scope")
        if not scopes:
            table.fail("needs at least one scope (the first is the default)", "scopes")
        roles[key] = Role(
            key=key, name=table.text("name"), scopes=scopes,
            granted_through=table.string("granted_through", choices=(*GRANTED_OUTSIDE_MATRIX, *actions),
                                         what="action"),
            pupil_data=table.boolean("pupil_data", default=True), delegate_of=delegate_of,
        )
        table.done()
    return roles


def _appeal(key: str, table: _Table) -> Appeal:
    appeal = Appeal(
        key=key, route=table.text("route"), send_to=table.text("send_to"), text=table.text("text"),
        deadline_days=table.integer("deadline_days", minimum=1), in_writing=table.boolean("in_writing"),
        check_locally=table.boolean("check_locally", default=False),
    )
    table.done()
    return appeal


def _close_reason(key: str, table: _Table) -> CloseReason:
    reason = CloseReason(key=key, name=table.text("name"),
                         check_locally=table.boolean("check_locally", default=False))
    table.done()
    return reason


def _levels(top: _Table, document_keys: set[str], decision_keys: set[str]) -> list[Level]:
    levels: list[Level] = []
    ranks: dict[int, int] = {}
    keys: set[str] = set()
    for index, table in enumerate(top.array_of_tables("levels")):
        key = table.string("key")
        if not _NAME.match(key) or key in keys:
            table.fail(f"level key {key!r} is not a lower-case name or is used twice", "key")
        keys.add(key)
        rank = table.integer("rank", minimum=1)
        if rank in ranks:
            table.fail(f"rank {rank} is used twice (also levels[{ranks[rank]}])", "rank")
        ranks[rank] = index
        requires_decision = table.boolean("requires_decision")
        decisions = table.strings("decisions", default=[], choices=decision_keys, what="decision")
        if requires_decision and not decisions:
            table.fail("requires_decision = true needs the decisions that move a case here", "decisions")
        if decisions and not requires_decision:
            table.fail("lists decisions but requires_decision = false", "decisions")
        levels.append(Level(
            key=key, rank=rank, name=table.text("name"), description=table.text("description"),
            documents=table.strings("documents", choices=document_keys, what="document"),
            requires_decision=requires_decision, decisions=decisions,
            prerequisites=table.strings("prerequisites", default=[], choices=PREREQUISITES,
                                        what="prerequisite"),
            check_locally=table.boolean("check_locally", default=False),
        ))
        table.done()
    if not levels:
        top.fail("a pack needs at least one level", "levels")
    missing = sorted(set(range(1, len(levels) + 1)) - set(ranks))
    if missing:
        top.fail(f"ranks must run 1..{len(levels)}; {missing[0]} is missing", "levels")
    return sorted(levels, key=lambda level: level.rank)


def _document(key: str, table: _Table, actions: set[str]) -> Document:
    cycle = table.string("review_cycle", REVIEW_CYCLES)
    months = table.optional_integer("review_months", minimum=1)
    grades = table.integers("review_grades", minimum=0, default=[])
    if cycle == "periodic" and months is None:
        table.fail("review_cycle = 'periodic' needs review_months", "review_months")
    if cycle != "periodic" and months is not None:
        table.fail(f"review_months belongs to review_cycle 'periodic', not {cycle!r}", "review_months")
    if cycle == "grade_points" and not grades:
        table.fail("review_cycle = 'grade_points' needs review_grades", "review_grades")
    if cycle != "grade_points" and grades:
        table.fail(f"review_grades belongs to review_cycle 'grade_points', not {cycle!r}", "review_grades")
    if list(grades) != sorted(set(grades)):
        table.fail("grades must rise and not repeat", "review_grades")
    document = Document(
        key=key, name=table.text("name"), short_name=table.optional_text("short_name"),
        description=table.optional_text("description"), review_cycle=cycle, review_months=months,
        review_grades=grades, requires_hearing=table.boolean("requires_hearing"),
        draft_action=table.string("draft_action", choices=actions, what="action"),
        check_locally=table.boolean("check_locally", default=False),
    )
    table.done()
    return document


def _decision(key: str, table: _Table, roles: Mapping[str, Role], appeal_keys: set[str], level_keys: set[str],
              actions: set[str]) -> Decision:
    if key not in actions:
        table.fail("a decision must be an action of the matrix")
    decision_roles = table.strings("roles", choices=roles, what="role")
    if not decision_roles:
        table.fail("a decision needs at least one role", "roles")
    appealable = table.boolean("appealable")
    appeal = table.optional_string("appeal")
    if appeal is not None and appeal not in appeal_keys:
        table.fail(f"unknown appeal {appeal!r}", "appeal")
    if appealable and appeal is None:
        table.fail("appealable = true needs the appeal that applies", "appeal")
    if not appealable and appeal is not None:
        table.fail("names an appeal but appealable = false", "appeal")
    if table.has("level") and table.has("levels"):
        table.fail("give level or levels, not both", "levels")
    if table.has("level"):
        levels: tuple[str, ...] = (table.string("level", choices=level_keys, what="level"),)
    else:
        levels = table.strings("levels", default=[], choices=level_keys, what="level")
    options_table = table.optional_table("options")
    options: tuple[Option, ...] = ()
    if options_table:
        for name in options_table.names():
            if not _NAME.match(name):
                options_table.fail("keys are lower-case names (a-z, 0-9, _)", name)
        options = tuple(Option(name, options_table.text(name)) for name in options_table.names())
        options_table.done()
    decision = Decision(
        key=key, name=table.text("name"), roles=frozenset(decision_roles),
        delegable=table.boolean("delegable"), appealable=appealable, appeal=appeal,
        requires_hearing=table.boolean("requires_hearing"), levels=levels,
        prepared_through=table.optional_string("prepared_through", choices=actions, what="action"),
        executed_by=frozenset(table.strings("executed_by", default=[], choices=roles, what="role")),
        options=options, check_locally=table.boolean("check_locally", default=False),
    )
    table.done()
    for role in sorted(decision.roles):
        if roles[role].delegate_of and not decision.delegable:
            table.fail(f"{role!r} is a delegate but the decision is not delegable", "roles")
    return decision


def _matrix(table: _Table, roles: Mapping[str, Role], level_keys: set[str],
            decisions: Mapping[str, Decision]) -> dict[str, tuple[Grant, ...]]:
    matrix = {}
    for action in table.names():
        if not _NAME.match(action):
            table.fail("action names are lower-case names (a-z, 0-9, _)", action)
        entries = table.array(action)
        grants: list[Grant] = []
        for index, entry in enumerate(entries):
            where = f"{action}[{index}]"
            if isinstance(entry, str):
                entry_table = _Table(table.file, table.at(where), {"role": entry})
            else:
                entry_table = _Table(table.file, table.at(where), entry)
            role_key = entry_table.raw("role")
            if not isinstance(role_key, str) or role_key not in roles:
                path = where if isinstance(entry, str) else f"{where}.role"
                table.fail(f"unknown role {role_key!r}", path)
            role = roles[role_key]
            scope = entry_table.optional_string("scope") or role.default_scope
            if scope not in role.scopes:
                allowed = ", ".join(role.scopes)
                entry_table.fail(f"scope {scope!r} is not one of {role_key}'s scopes ({allowed})", "scope")
            grant = Grant(
                role=role_key, scope=scope, extent=entry_table.optional_string("extent", EXTENTS) or "full",
                levels=entry_table.strings("levels", default=[], choices=level_keys, what="level"),
                include_pending=entry_table.boolean("include_pending", default=False),
            )
            if grant.include_pending and not grant.levels:
                entry_table.fail("include_pending needs levels", "include_pending")
            entry_table.done()
            if any(other.role == grant.role for other in grants):
                table.fail(f"role {grant.role!r} appears twice", where)
            grants.append(grant)
        if not grants:
            table.fail("an action needs at least one role (leave out an action nobody may take)", action)
        matrix[action] = tuple(grants)
    for action in matrix:
        if action.startswith("decide_") and action not in decisions:
            table.fail("a decide_ action needs an entry in [decisions]", action)
    return matrix


def _review_points(table: _Table, roles: Mapping[str, Role], decisions: Mapping[str, Decision],
                   actions: set[str]) -> ReviewPoints:
    grades = table.integers("grades", minimum=0)
    if not grades or list(grades) != sorted(set(grades)):
        table.fail("needs grades that rise and do not repeat", "grades")
    points = ReviewPoints(
        grades=grades, responsible=table.string("responsible", choices=roles, what="role"),
        participants=table.strings("participants", default=[], choices=roles, what="role"),
        decider=table.string("decider", choices=roles, what="role"),
        decision=table.string("decision", choices=decisions, what="decision"),
        record_action=table.string("record_action", choices=actions, what="action"),
        check_locally=table.boolean("check_locally", default=False),
    )
    table.done()
    if points.decider not in decisions[points.decision].roles:
        table.fail(f"{points.decider!r} does not take {points.decision}", "decider")
    return points


def _welfare(table: _Table, roles: Mapping[str, Role], actions: set[str]) -> Welfare:
    welfare = Welfare(
        consent_required_for_expert_group=table.boolean("consent_required_for_expert_group"),
        communal_welfare_group_reaches_pupils=table.boolean("communal_welfare_group_reaches_pupils"),
        consent_needed_for_pedagogical_support=table.boolean("consent_needed_for_pedagogical_support"),
        pupil_and_guardians_always_take_part=table.boolean("pupil_and_guardians_always_take_part"),
        record_sealed_when_consent_withdrawn=table.boolean("record_sealed_when_consent_withdrawn"),
        expert_group_role=table.string("expert_group_role", choices=roles, what="role"),
        communal_welfare_group_role=table.string("communal_welfare_group_role", choices=roles, what="role"),
        consent_gated_actions=frozenset(
            table.strings("consent_gated_actions", choices=actions, what="action")),
    )
    table.done()
    return welfare


def _check_levels_and_decisions(top: _Table, levels: list[Level], decisions: Mapping[str, Decision],
                                documents: Mapping[str, Document]) -> None:
    for index, level in enumerate(levels):
        for key in level.decisions:
            if level.key not in decisions[key].levels:
                top.fail(f"decision {key!r} does not move a case to {level.key!r}",
                         f"levels[{index}].decisions")
    used = {key for level in levels for key in level.documents}
    for key in documents:
        if key not in used:
            top.fail("this document is allowed at no level", f"documents.{key}")


def _check_matrix(top: _Table, matrix: Mapping[str, tuple[Grant, ...]], roles: Mapping[str, Role],
                  decisions: Mapping[str, Decision], no_pupil_data: frozenset[str]) -> None:
    for key, decision in decisions.items():
        in_matrix = {grant.role for grant in matrix[key]}
        if in_matrix != decision.roles:
            top.fail(f"roles {sorted(decision.roles)} differ from the matrix's {sorted(in_matrix)}",
                     f"decisions.{key}.roles")
    for action, grants in matrix.items():
        for index, grant in enumerate(grants):
            role = roles[grant.role]
            if not role.pupil_data and action not in no_pupil_data:
                top.fail(f"{grant.role!r} reaches no pupil data, but {action!r} is not in "
                         "no_pupil_data_actions",
                         f"matrix.{action}[{index}]")
            if role.delegate_of and action in decisions and not decisions[action].delegable:
                top.fail(f"{grant.role!r} is a delegate but {action!r} is not delegable",
                         f"matrix.{action}[{index}]")
            for level in grant.levels if grant.include_pending else ():
                if not any(level in decision.levels for decision in decisions.values()):
                    top.fail(f"no decision moves a case to {level!r}, so none can be pending",
                             f"matrix.{action}[{index}].include_pending")


def _check_review_points(top: _Table, points: ReviewPoints, documents: Mapping[str, Document],
                         matrix: Mapping[str, tuple[Grant, ...]]) -> None:
    for key, document in documents.items():
        if document.review_cycle == "grade_points" and document.review_grades != points.grades:
            top.fail(f"grades {list(document.review_grades)} differ from review_points.grades "
                     f"{list(points.grades)}",
                     f"documents.{key}.review_grades")
    recorders = {grant.role for grant in matrix[points.record_action]}
    for role in (points.responsible, *points.participants):
        if role not in recorders:
            top.fail(f"{role!r} takes part in the review but may not {points.record_action}", "review_points")


def _check_welfare(top: _Table, welfare: Welfare, roles: Mapping[str, Role],
                   matrix: Mapping[str, tuple[Grant, ...]]) -> None:
    for action in sorted(welfare.consent_gated_actions):
        others = {grant.role for grant in matrix[action]} - {welfare.expert_group_role}
        if others:
            top.fail(f"consent-gated {action!r} is open to {sorted(others)}, not only the expert group",
                     "welfare.consent_gated_actions")
    communal = roles[welfare.communal_welfare_group_role]
    if not welfare.communal_welfare_group_reaches_pupils and communal.pupil_data:
        top.fail("the communal welfare group reaches no pupil, so its role needs pupil_data = false",
                 "welfare.communal_welfare_group_role")


# --- absence ladders -------------------------------------------------------------------------------


def load_absence_ladder(path_or_id: str | Path) -> AbsenceLadder:
    """Read and check an absence ladder (an id such as "absence-danderyd", or a file path)."""
    path = _path_for(path_or_id)
    top = _read(path)
    ladder_id, version, name, description = _header(top, path, "absence_ladder")
    early = frozenset(top.strings("early_start_allowed_for", choices=TOOL_ROLES, what="role"))
    documents = {}
    for key, table in top.tables("documents").items():
        documents[key] = LadderDocument(
            key=key, name=table.text("name"), framework_document=table.optional_string("framework_document"),
            check_locally=table.boolean("check_locally", default=False),
        )
        table.done()
    steps = [_step(table, set(documents)) for table in top.array_of_tables("steps")]
    numbers = [step.number for step in steps]
    if numbers != list(range(1, len(steps) + 1)):
        top.fail(f"steps must be numbered 1..{len(steps)} in order, got {numbers}", "steps")
    if steps and steps[0].trigger.after_previous_step_days is not None:
        top.fail("step 1 has no previous step", "steps[0].trigger.after_previous_step_days")
    ladder = AbsenceLadder(
        id=ladder_id, version=version, name=name, description=description, early_start_allowed_for=early,
        early_start_requires_reason=top.boolean("early_start_requires_reason"),
        documents=MappingProxyType(documents), steps=tuple(steps), source=path,
    )
    top.done()
    return ladder


def _step(table: _Table, document_keys: set[str]) -> Step:
    trigger_table = table.table("trigger")
    conditions = []
    for condition in trigger_table.array_of_tables("conditions", default=[]):
        value = condition.raw("value")
        if not isinstance(value, int | float | bool):
            condition.fail(f"expected a number or true/false, got {_type_name(value)}", "value")
        conditions.append(Condition(
            metric=condition.string("metric", METRICS), op=condition.string("op", OPERATORS), value=value,
            window=condition.optional_string("window", WINDOWS),
        ))
        condition.done()
    trigger = Trigger(
        after_previous_step_days=trigger_table.optional_integer("after_previous_step_days", minimum=1),
        match=trigger_table.optional_string("match", ("any", "all")) or "all", conditions=tuple(conditions),
    )
    if not conditions and trigger.after_previous_step_days is None:
        trigger_table.fail("a trigger needs conditions or after_previous_step_days")
    trigger_table.done()

    follow_up_table = table.table("follow_up")
    follow_up = FollowUp(
        text=follow_up_table.text("text"), due_days=follow_up_table.optional_integer("due_days", minimum=1),
        every_months=follow_up_table.optional_integer("every_months", minimum=1),
    )
    if (follow_up.due_days is None) == (follow_up.every_months is None):
        follow_up_table.fail("give due_days (once) or every_months (a rhythm), one of them")
    follow_up_table.done()

    documentation = None
    documentation_table = table.optional_table("documentation")
    if documentation_table:
        documentation = Documentation(
            document=documentation_table.string("document", document_keys, what="document"),
            unless_decided=documentation_table.optional_string("unless_decided", document_keys,
                                                               what="document"),
            text=documentation_table.text("text"),
        )
        documentation_table.done()

    coordination = None
    coordination_table = table.optional_table("coordination")
    if coordination_table:
        forms_table = coordination_table.table("forms")
        forms = tuple(Option(key, forms_table.text(key)) for key in forms_table.names())
        forms_table.done()
        coordination = Coordination(
            text=coordination_table.text("text"),
            record_coordinator=coordination_table.boolean("record_coordinator"),
            record_form=coordination_table.boolean("record_form"),
            may_coordinate=coordination_table.strings("may_coordinate", default=[], choices=TOOL_ROLES,
                                                      what="role"),
            keep_informed_when_not_coordinating=coordination_table.strings(
                "keep_informed_when_not_coordinating", default=[], choices=TOOL_ROLES, what="role"),
            forms=forms,
        )
        if coordination.record_form and not forms:
            coordination_table.fail("record_form = true needs the forms to choose from", "forms")
        coordination_table.done()

    actions = tuple(_item(item) for item in table.array_of_tables("actions"))
    consider = tuple(_item(item) for item in table.array_of_tables("consider", default=[]))
    keys = [item.key for item in actions + consider]
    if len(set(keys)) != len(keys):
        table.fail("checklist keys must be unique within a step", "actions")
    if not actions:
        table.fail("a step needs at least one action", "actions")
    step = Step(
        number=table.integer("number", minimum=1), name=table.text("name"),
        starting_point=table.text("starting_point"), trigger=trigger,
        responsible=table.strings("responsible", choices=TOOL_ROLES, what="role"),
        actions=actions, consider=consider,
        documents=table.strings("documents", choices=document_keys, what="document"),
        follow_up=follow_up, documentation=documentation, coordination=coordination,
        check_locally=table.boolean("check_locally", default=False),
    )
    table.done()
    return step


def _item(table: _Table) -> ChecklistItem:
    key = table.string("key")
    if not _NAME.match(key):
        table.fail("keys are lower-case names (a-z, 0-9, _)", "key")
    item = ChecklistItem(
        key=key, text=table.text("text"),
        responsible=table.strings("responsible", default=[], choices=TOOL_ROLES, what="role"),
        advisers=table.strings("advisers", default=[], choices=TOOL_ROLES, what="role"),
        conditional=table.boolean("conditional", default=False),
        due_days=table.optional_integer("due_days", minimum=1),
        action=table.optional_string("action"),
        report_to=table.optional_string("report_to", REPORT_RECIPIENTS),
        note=table.optional_text("note"), check_locally=table.boolean("check_locally", default=False),
    )
    if item.action is not None and not _NAME.match(item.action):
        table.fail("an action is a lower-case name", "action")
    table.done()
    return item


# --- the shipped packs -----------------------------------------------------------------------------


def _kind_of(path: Path) -> str | None:
    try:
        kind = tomllib.loads(path.read_text(encoding="utf-8")).get("kind")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return kind if isinstance(kind, str) else None


@functools.cache
def available_packs() -> tuple[str, ...]:
    """The ids of the framework packs shipped in packs/, sorted."""
    return tuple(sorted(path.stem for path in PACKS_DIR.glob("*.toml") if _kind_of(path) == "framework"))


@functools.cache
def available_absence_ladders() -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in PACKS_DIR.glob("*.toml") if _kind_of(path) == "absence_ladder"))


@functools.cache
def get_pack(pack_id: str) -> Pack:
    """A shipped framework pack by id, loaded once per process (the files are immutable data)."""
    if pack_id not in available_packs():
        raise PackError(f"{pack_id!r} is not a shipped framework pack ({', '.join(available_packs())})")
    return load_pack(pack_id)


@functools.cache
def get_absence_ladder(ladder_id: str) -> AbsenceLadder:
    if ladder_id not in available_absence_ladders():
        shipped = ", ".join(available_absence_ladders())
        raise PackError(f"{ladder_id!r} is not a shipped absence ladder ({shipped})")
    return load_absence_ladder(ladder_id)
