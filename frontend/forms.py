"""The forms of the case panel: one per action the policy allows, validated on the server.

A form checks what a person can get wrong (an empty text, a date that is no date, a choice not
offered) and shows the error next to the field; the service then applies the rules. Every form
carries a one-time token so a double submit creates nothing twice (see `frontend.models`).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from lti_plugin.support.actor import Actor

# Titles of the actions, as the person reads them on the button that opens the form.
TITLES: dict[str, Any] = {
    "raise_concern": _("Raise a concern"),
    "report_to_principal": _("Report to the principal"),
    "log_adaptation": _("Log an adaptation"),
    "add_follow_up": _("Add a follow-up"),
    "add_adaptation_follow_up": _("Follow up an adaptation"),
    "start_assessment": _("Start an assessment"),
    "process_assessment": _("Process the assessment"),
    "request_investigation": _("Request an investigation"),
    "conduct_investigation": _("Write the investigation"),
    "draft_plan": _("Draft an action plan"),
    "draft_ip": _("Draft an individual plan"),
    "update_draft": _("Edit the draft"),
    "record_evaluation": _("Write the evaluation"),
    "record_review": _("Record the review"),
    "add_own_view": _("Add your view"),
    "record_guardian_view": _("Record a guardian's view"),
    "record_hearing": _("Record the hearing"),
    "decide_new_plan": _("Decide on the plan"),
    "continue_in_new_plan": _("Continue in a new plan"),
    "decide_close_plan": _("Close the plan"),
    "decide_not_to_draw_up_plan": _("Decide not to draw up a plan"),
    "prepare_level_3": _("Prepare and present the case"),
    "request_resources": _("Ask for extra resources"),
    "start_absence_step": _("Start the next step of the absence ladder"),
    "start_absence_step_early": _("Start a step early"),
    "check_absence_action": _("Check off an item"),
    "add_absence_follow_up": _("Add an absence follow-up"),
    "record_report_to_social_services": _("Record a report to social services"),
    "record_consent": _("Record consent"),
    "withdraw_consent": _("Record that consent is withdrawn"),
    "convene_expert_group": _("Convene the expert group"),
    "write_expert_group_record": _("Write in the expert group's record"),
}

LABELS: dict[str, Any] = {
    "text": _("Text"), "date": _("Date"), "course": _("Course or subject"), "mapping": _("Mapping"),
    "conclude": _("The investigation is concluded"), "need": _("Needs (one a line)"),
    "measure": _("Measures (one a line)"), "starts_on": _("Measures start"), "ends_on": _("Measures end"),
    "grade": _("Grade"), "guardian": _("The guardian's name"), "pupil_heard": _("The pupil was heard"),
    "guardians_heard": _("The guardians were heard"), "level": _("Support level"), "reason": _("Reason"),
    "option": _("Outcome"), "step": _("Step"), "item": _("Item"), "given_by": _("Given by"),
    "member": _("Members"), "adaptation": _("Adaptation"), "investigation": _("Investigation"),
}

# Per action: (field, kind, required). Kinds: text, line, date, bool, int, choice, lines, hidden, multi.
FIELDS: dict[str, list[tuple[str, str, bool]]] = {
    "raise_concern": [("text", "text", True)],
    "report_to_principal": [("text", "text", True)],
    "log_adaptation": [("text", "text", True), ("date", "date", False), ("course", "line", False)],
    "add_follow_up": [("plan", "hidden", True), ("text", "text", True), ("date", "date", False)],
    "add_adaptation_follow_up": [("adaptation", "choice", True), ("text", "text", True), ("date", "date", False)],
    "start_assessment": [("text", "text", False)],
    "process_assessment": [("assessment", "hidden", True), ("text", "text", True)],
    "request_investigation": [],
    "conduct_investigation": [("investigation", "hidden", True), ("mapping", "text", True),
                              ("text", "text", True), ("conclude", "bool", False)],
    "draft_plan": [("need", "lines", True), ("measure", "lines", True), ("starts_on", "date", False),
                   ("ends_on", "date", False), ("investigation", "choice", False)],
    "draft_ip": [("need", "lines", True), ("measure", "lines", True), ("starts_on", "date", False),
                 ("ends_on", "date", False), ("investigation", "choice", False)],
    "update_draft": [("plan", "hidden", True), ("version", "hidden", True), ("need", "lines", True),
                     ("measure", "lines", True), ("starts_on", "date", False), ("ends_on", "date", False)],
    "record_evaluation": [("plan", "hidden", True), ("text", "text", True), ("date", "date", False)],
    "record_review": [("plan", "hidden", True), ("grade", "int", True), ("text", "text", True),
                      ("date", "date", False)],
    "add_own_view": [("plan", "hidden", False), ("text", "text", True)],
    "record_guardian_view": [("plan", "hidden", False), ("guardian", "line", True), ("text", "text", True)],
    "record_hearing": [("plan", "hidden", False), ("date", "date", False), ("pupil_heard", "bool", False),
                       ("guardians_heard", "bool", False), ("text", "text", True)],
    "decide_new_plan": [("plan", "hidden", True), ("text", "text", True)],
    "continue_in_new_plan": [("plan", "hidden", True)],
    "decide_close_plan": [("plan", "hidden", True), ("reason", "choice", True), ("text", "text", True)],
    "decide_not_to_draw_up_plan": [("text", "text", True)],
    "prepare_level_3": [("text", "text", True)],
    "request_resources": [("text", "text", True)],
    "start_absence_step": [("step", "hidden", True), ("date", "date", False)],
    "start_absence_step_early": [("step", "hidden", True), ("date", "date", False), ("reason", "text", True)],
    "check_absence_action": [("record", "hidden", True), ("item", "choice", True), ("text", "text", False)],
    "add_absence_follow_up": [("record", "hidden", True), ("text", "text", True), ("date", "date", False)],
    "record_report_to_social_services": [("text", "text", True)],
    "record_consent": [("given_by", "line", True)],
    "withdraw_consent": [("consent", "hidden", True)],
    "convene_expert_group": [("member", "multi", False)],
    "write_expert_group_record": [("group", "hidden", True), ("text", "text", True)],
}
GENERIC_FIELDS = [("plan", "hidden", False), ("option", "choice", False), ("level", "choice", False),
                  ("text", "text", True)]

# The door action each form posts to (a follow-up on an adaptation goes through add_follow_up).
DOOR = {"add_adaptation_follow_up": "add_follow_up"}


# Fields naming an object of the case: offered as a choice, but judged by the view (an object of
# another case is a 404 there, as if it did not exist), not refused here as "not a valid choice".
OBJECT_FIELDS = {"adaptation", "investigation", "member", "assessment", "record", "consent", "group", "plan"}


class ObjectChoiceField(forms.ChoiceField):
    def valid_value(self, value: Any) -> bool:
        return True


class ObjectMultipleChoiceField(forms.MultipleChoiceField):
    def valid_value(self, value: Any) -> bool:
        return True


class DateInput(forms.DateInput):
    input_type = "date"


def _field(kind: str, name: str, required: bool, choices: list[tuple[str, str]] | None) -> forms.Field:
    label = LABELS.get(name, name)
    if kind == "text" or kind == "lines":
        return forms.CharField(label=label, required=required, max_length=20000,
                               widget=forms.Textarea(attrs={"rows": 3}))
    if kind == "line":
        return forms.CharField(label=label, required=required, max_length=200)
    if kind == "date":
        return forms.DateField(label=label, required=required, initial=date.today, widget=DateInput)
    if kind == "bool":
        return forms.BooleanField(label=label, required=False)
    if kind == "int":
        return forms.IntegerField(label=label, required=required, min_value=0, max_value=12)
    if kind == "choice":
        return (ObjectChoiceField if name in OBJECT_FIELDS else forms.ChoiceField)(label=label, required=required,
                                 choices=([("", "–")] if not required else []) + list(choices or []))
    if kind == "multi":
        return (ObjectMultipleChoiceField if name in OBJECT_FIELDS else forms.MultipleChoiceField)(label=label, required=required, choices=choices or [],
                                         widget=forms.CheckboxSelectMultiple)
    return forms.CharField(required=required, widget=forms.HiddenInput)


@dataclass
class ActionForm:
    """One action's form on the panel: its title, the Django form and where it posts. The Django form
    is made when first used: a panel lists a dozen actions and shows the form of one, if any."""

    action: str
    title: str
    door: str
    make: Callable[[], forms.Form] = field(repr=False)
    key: str = ""  # the form's id on the page (an action may have several, e.g. two plans)
    open: bool = False
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def form(self) -> forms.Form:
        return self.make()


def build(actor: Actor, action: str, *, data: Any = None, initial: dict[str, Any] | None = None,
          choices: dict[str, list[tuple[str, str]]] | None = None, key: str = "") -> ActionForm:
    """The form for `action`: bound to `data` when it was posted, else with `initial` values."""
    key = key or action

    def make() -> forms.Form:
        specs = FIELDS.get(action, GENERIC_FIELDS)
        offered = choices or {}
        fields = {name: _field(kind, name, required, offered.get(name)) for name, kind, required in specs}
        fields["form_token"] = forms.UUIDField(widget=forms.HiddenInput, required=False)
        form_class = type("ActionFormClass", (forms.Form,), fields)
        values = {"form_token": uuid.uuid4(), **(initial or {})}
        sent = data
        if sent is not None and not sent.get("form_token"):
            sent = sent.copy()  # a form sent back with errors gets a token for its next submit
            sent["form_token"] = str(values["form_token"])
        return form_class(data=sent, initial=values, auto_id=f"{key}-%s")

    if action in TITLES:
        title = TITLES[action]
    elif action in actor.pack.decisions:
        title = actor.pack.decision(action).name.get(actor.language)
    else:
        title = action
    return ActionForm(action=action, title=str(title), door=DOOR.get(action, action), make=make, key=key)


def lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]
