"""Who may do what, over HTTP, per framework pack: DESIGN.md "Who may do what" walked role by role.

The expected answers are written out here by hand from DESIGN.md (the `ax` table and the `se`/`fi`
differences), never read from the packs or policy.py. Every person launches from the LMS with their
own browser; every case action is a POST to /app/<launch>/cases/<case>/<action>/. Allowed: the
service runs (302). In scope but not allowed: 403 and nothing written. Out of scope (the case is not
theirs to see at all): 404 and nothing written, exactly as for a case that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from frontend.cases import ACTIONS, READS
from lti_plugin.support.models import AuditEntry, Plan, Submission
from lti_plugin.support.services import absence, cases, decisions, plans, welfare
from lti_plugin.support.services.plans import MeasureInput

from .conftest import PACKS, School, draft_document

from tests.design_matrix import AX, CHIEF, CLASS, DELEGATE, EXPERT, FI_2010, FI_2025, GUARDIAN, HEALTH  # noqa: E402
from tests.design_matrix import PRINCIPAL, PUPIL, SE, SPECIAL, SUBJECT  # noqa: E402

# DESIGN.md's answers (tests/design_matrix.py), for the actions that are case actions over HTTP.
MATRIX = {pack: {action: roles for action, roles in table.items() if action in ACTIONS or action in READS}
          for pack, table in {"se": SE, "ax": AX, "fi-2025": FI_2025, "fi-2010": FI_2010}.items()}

# "view case" of the walked pupil (in class 7A, in the subject teacher's course 101, at the unit):
# self, own child, their class + pupils they teach, unit (special teacher, principal, elevhälsa);
# in `se` the delegate decides ÅP at the unit. The education chief: organisation, level 3 only
# (or a case presented for that decision), see CHIEF_LEVEL.
VIEWERS = {
    "se": {PUPIL, GUARDIAN, CLASS, SUBJECT, SPECIAL, PRINCIPAL, HEALTH, DELEGATE},
    "ax": {PUPIL, GUARDIAN, CLASS, SUBJECT, SPECIAL, PRINCIPAL, HEALTH},
    "fi-2025": {PUPIL, GUARDIAN, CLASS, SUBJECT, SPECIAL, PRINCIPAL, HEALTH},
    "fi-2010": {PUPIL, GUARDIAN, CLASS, SUBJECT, SPECIAL, PRINCIPAL, HEALTH},
}
# The pack's top level, which the education chief sees (`ax` mångprofessionellt stöd, `fi-2010`
# särskilt stöd; `fi-2025` has two levels: pupil-specific support is the one taking a decision).
CHIEF_LEVEL = {"ax": "multiprofessional_support", "fi-2010": "special_support",
               "fi-2025": "pupil_specific_support"}
# Another pupil at the same unit, in class 7B and course 102: neither the class teacher's class nor
# a pupil the subject teacher teaches.
VIEWERS_7B = {
    "se": {"pupil_7b", "guardian_of_other_child", SPECIAL, PRINCIPAL, HEALTH, DELEGATE},
    "ax": {"pupil_7b", "guardian_of_other_child", SPECIAL, PRINCIPAL, HEALTH},
    "fi-2025": {"pupil_7b", "guardian_of_other_child", SPECIAL, PRINCIPAL, HEALTH},
    "fi-2010": {"pupil_7b", "guardian_of_other_child", SPECIAL, PRINCIPAL, HEALTH},
}
VIEWERS_ELSEWHERE = {"pupil_elsewhere", "outsider_principal"}  # a pupil at the other unit
# DESIGN.md names no case view for a member of a pupil's expert group: for what they may not do,
# 403 (sees the case) and 404 (does not) both fit.
UNSAID = {EXPERT}

# Where the pack's own rules refuse an allowed role whatever the state (the permission holds, the
# service then says no): DESIGN.md allows the role, so it passes the door, and gets the rule's 4xx
# (the service's refusal code, for the reader; the page does not show it).
RULE_REFUSES = {
    ("fi-2025", "record_evaluation"): "not_single_evaluation",  # a support plan is reviewed when needed
    ("fi-2010", "record_evaluation"): "not_single_evaluation",  # a learning plan is reviewed when needed
    ("fi-2010", "record_review"): "no_review_point",  # the IP is reviewed periodically, not at grades
}

ALLOWED, FORBIDDEN, NOT_FOUND, REFUSED = "allowed (302)", "403", "404", "403 or 404"


# --- states, built through the services --------------------------------------------------------------


def today() -> str:
    return timezone.localdate().isoformat()


def hearing(school: School, plan: Plan | None = None) -> None:
    """The principal hears the pupil and the guardians (before a decision)."""
    plans.record_hearing(actor=school.actor(PRINCIPAL), case=school.case, plan=plan,
                         held_on=timezone.localdate(), pupil_heard=True, guardians_heard=True,
                         summary="Elev och vårdnadshavare hörda")


def drafted(school: School, document: str | None = None, by: str = CLASS) -> Plan:
    teacher = school.actor(by)
    start = timezone.localdate()
    return plans.draft_plan(actor=teacher, case=school.case, document=document or draft_document(school.pack),
                            needs=["Läsförståelse"],
                            measures=[MeasureInput("Läsning med stöd", teacher.person, start,
                                                   start + timedelta(60))])


def in_force(school: School) -> Plan:
    """A plan in force: the `ax` ÅP at level 1 and the `fi-2010` learning plan need no decision;
    the `se` first ÅP and the `fi-2025` support plan come into force by the principal's decision."""
    plan = drafted(school)
    if school.pack in ("ax", "fi-2010"):
        decisions.put_in_force(actor=school.actor(CLASS), plan=plan)
    else:
        hearing(school, plan)
        decisions.decide_new_plan(actor=school.actor(PRINCIPAL), plan=plan, grounds="Behov av särskilt stöd")
    plan.refresh_from_db()
    assert plan.status == Plan.Status.ACTIVE
    return plan


def at_top_level(school: School) -> None:
    """The case at the level the education chief decides or sees."""
    if school.pack == "ax":
        present(school)
        decisions.decide(actor=school.actor(CHIEF), case=school.case, decision_type="decide_level_3",
                         grounds="Mångprofessionellt stöd behövs")
    else:
        hearing(school)
        decisions.decide(actor=school.actor(PRINCIPAL), case=school.case, decision_type="decide_support",
                         grounds="Stödet behövs", to_level=CHIEF_LEVEL[school.pack])
    school.case.refresh_from_db()
    assert school.case.level == CHIEF_LEVEL[school.pack]


def ip_in_force(school: School) -> Plan:
    """An IP in force: `ax` at level 3 by the education chief; `fi-2010` with the move to särskilt stöd."""
    if school.pack == "ax":
        at_top_level(school)
    plan = drafted(school, "individual_plan", by=SPECIAL)
    hearing(school, plan)
    decisions.decide_new_plan(actor=school.actor(CHIEF if school.pack == "ax" else PRINCIPAL), plan=plan,
                              grounds="IP", to_level="" if school.pack == "ax" else CHIEF_LEVEL[school.pack])
    plan.refresh_from_db()
    assert plan.status == Plan.Status.ACTIVE
    return plan


def step_one(school: School) -> int:
    return absence.start_absence_step(actor=school.actor(CLASS), case=school.case, step=1,
                                      started_on=timezone.localdate()).pk


def _evaluated_and_continued(school: School) -> dict[str, Any]:
    plan = in_force(school)
    plans.record_evaluation(actor=school.actor(CLASS), plan=plan, text="Målen delvis nådda",
                            evaluated_on=timezone.localdate())
    new = decisions.continue_in_new_plan(actor=school.actor(PRINCIPAL), plan=plan)
    hearing(school, new)
    return {"plan": new.pk, "text": "Fortsatt stöd i nytt åtgärdsprogram"}


def _closable(school: School) -> dict[str, Any]:
    plan = in_force(school)
    hearing(school, plan)
    return {"plan": plan.pk, "reason": "need_no_longer_remains", "text": "Behovet kvarstår inte"}


def present(school: School) -> None:
    """`ax`: the principal prepares and presents the case for level 3, and holds the hearing."""
    cases.prepare_level_3(actor=school.actor(PRINCIPAL), case=school.case, text="Mångprofessionellt stöd")
    hearing(school)


def _presented(school: School) -> dict[str, Any]:
    present(school)
    return {"text": "Mångprofessionellt stöd beviljas"}


def _decide_support(school: School) -> dict[str, Any]:
    hearing(school)
    return {"text": "Stödet behövs", "level": {"fi-2025": "pupil_specific_support",
                                               "fi-2010": "intensified_support"}.get(school.pack, "")}


def _convened(school: School) -> dict[str, Any]:
    group = welfare.convene_expert_group(actor=school.actor(EXPERT), case=school.case, members=[])
    return {"group": group.pk, "text": "Möte med elev och vårdnadshavare"}


def _with_plan_measures(document: str) -> dict[str, Any]:
    start = timezone.localdate()
    return {"document": document, "need": ["Läsförståelse", "Ordförråd"], "measure": ["Läsning med stöd"],
            "starts_on": start.isoformat(), "ends_on": (start + timedelta(60)).isoformat()}


Form = Callable[[School], dict[str, Any]]
# Each action: the state it needs (built through the services, in the test's transaction) and the
# form a person posts. An action the pack lacks gets the same form; the door refuses it first.
STATES: dict[str, Form] = {
    "raise_concern": lambda s: {"text": "Oro för läsningen"},
    "report_to_principal": lambda s: {"text": "Eleven kan behöva särskilt stöd"},
    "log_adaptation": lambda s: {"text": "Inläst material", "date": today(), "course": "SV7A"},
    "add_follow_up": lambda s: {"adaptation": s.adaptation.pk, "text": "Fungerar bra", "date": today()},
    "start_assessment": lambda s: {"text": "Läsning och skrivning"},
    "process_assessment": lambda s: {
        "assessment": cases.start_assessment(actor=s.actor(CLASS), case=s.case, text="Läsning").pk,
        "text": "Rekommenderar utredning"},
    "request_investigation": lambda s: {},
    "conduct_investigation": lambda s: {
        "investigation": cases.request_investigation(actor=s.actor(SPECIAL), case=s.case).pk,
        "mapping": "Kartläggning av läsning", "text": "Pedagogisk bedömning", "conclude": "on"},
    "draft_plan": lambda s: _with_plan_measures(draft_document(s.pack)),
    "draft_ip": lambda s: _with_plan_measures("individual_plan"),
    "record_evaluation": lambda s: {"plan": in_force(s).pk, "text": "Målen nådda", "date": today()},
    "record_review": lambda s: {"plan": ip_in_force(s).pk if s.pack in ("ax", "fi-2010") else "",
                                "grade": 6, "text": "Granskning åk 6", "date": today()},
    "add_own_view": lambda s: {"text": "Jag vill ha mer tid på proven"},
    "record_guardian_view": lambda s: {"guardian": "Eva Exempelsson", "text": "Hemma fungerar läsningen"},
    "record_hearing": lambda s: {"text": "Elev och vårdnadshavare hörda", "date": today(),
                                 "pupil_heard": "on", "guardians_heard": "on"},
    "decide_level_2": lambda s: (hearing(s), {"text": "Specialpedagogiskt stöd behövs"})[1],
    "decide_new_plan": lambda s: _evaluated_and_continued(s) if s.pack in ("se", "ax") else {"text": "Nytt"},
    "decide_close_plan": lambda s: _closable(s) if s.pack in ("se", "ax") else {"text": "Avslut"},
    "decide_not_to_draw_up_plan": lambda s: {"text": "Inget åtgärdsprogram behövs"},
    "decide_special_group": lambda s: {"text": "Särskild undervisningsgrupp",
                                       "option": "special_teaching_group"},
    "decide_adapted_studies": lambda s: {"text": "Anpassad studiegång"},
    "prepare_level_3": lambda s: {"text": "Ärendet beretts och föredras"},
    "request_resources": lambda s: {"text": "Resurs: elevassistent 50 %"},
    "decide_level_3": lambda s: _presented(s) if s.pack == "ax" else {"text": "Nivå 3"},
    "decide_review_outcome": lambda s: (
        (at_top_level(s), {"text": "Stödet fortsätter", "level": "multiprofessional_support"})[1]
        if s.pack == "ax" else {"text": "Granskning"}),
    "decide_support": _decide_support,
    "start_absence_step": lambda s: {"step": 1, "date": today()},
    "start_absence_step_early": lambda s: (step_one(s), {"step": 2, "date": today(),
                                                         "reason": "Frånvaron ökar snabbt"})[1],
    "check_absence_action": lambda s: {"record": step_one(s), "item": "call_pupil_and_guardian",
                                       "text": "Ringt hem"},
    "add_absence_follow_up": lambda s: {"record": step_one(s), "text": "Uppföljningsmöte", "date": today()},
    "record_report_to_social_services": lambda s: {"text": "Orosanmälan: lång frånvaro"},
    "record_consent": lambda s: {"given_by": "Eleven själv"},
    "withdraw_consent": lambda s: {"consent": welfare.active_consent(s.case.pupil).pk
                                   if welfare.active_consent(s.case.pupil) else ""},
    "convene_expert_group": lambda s: {},
    "write_expert_group_record": lambda s: _convened(s) if EXPERT in s.people else {"text": "Anteckning"},
}
# The same action again at the top level, where the education chief sees the case.
VARIANTS: dict[tuple[str, str], Form] = {
    ("ax", "record_report_to_social_services"): lambda s: (at_top_level(s), STATES[
        "record_report_to_social_services"](s))[1],
    ("fi-2025", "decide_support"): lambda s: (at_top_level(s), hearing(s),
                                              {"text": "Stödet upphör", "level": "group_support"})[2],
    ("fi-2010", "decide_support"): lambda s: (at_top_level(s), hearing(s),
                                              {"text": "Stödet minskas", "level": "intensified_support"})[2],
    ("fi-2025", "record_report_to_social_services"): lambda s: (at_top_level(s), STATES[
        "record_report_to_social_services"](s))[1],
}


# --- reading what happened ----------------------------------------------------------------------------


def row_counts() -> tuple[int, ...]:
    """How many rows every support table holds (audit trail included), in one query."""
    quote = connection.ops.quote_name
    tables = [model._meta.db_table for model in apps.get_app_config("support").get_models()]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(table)})" for table in tables))
        return tuple(cursor.fetchone())


def said(response: Any) -> str:
    """The message of a refusal page, for the failure report."""
    found = re.search(r"<p>(.*?)</p>", response.content.decode(errors="replace"), re.DOTALL)
    return found.group(1).strip()[:120] if found and response.status_code >= 400 else ""


def chief_sees(school: School) -> bool:
    """DESIGN.md: the education chief sees level-3 cases (and one presented for that decision)."""
    school.case.refresh_from_db()
    return school.case.level == CHIEF_LEVEL.get(school.pack) or Submission.objects.filter(
        case=school.case, kind=Submission.Kind.PRESENTED).exists()


def expectation(school: School, action: str, person: str) -> str:
    """A role acts only on cases it sees: the matrix row, within the "view case" row."""
    viewers = VIEWERS[school.pack] | ({CHIEF} if CHIEF in school.people and chief_sees(school) else set())
    if person not in viewers and person not in UNSAID:
        return NOT_FOUND
    if person in MATRIX[school.pack].get(action, set()):
        return ALLOWED
    return REFUSED if person in UNSAID else FORBIDDEN


def walk(school: School, action: str, form: dict[str, Any]) -> list[str]:
    """Every person posts the same form to the same case; each post is undone before the next."""
    mismatches = []
    expected = {person: expectation(school, action, person) for person in school.people}
    before = row_counts()  # the same before every post: each one is rolled back
    for person, want in expected.items():
        savepoint = transaction.savepoint()
        response = school.post(person, school.case, action, form)
        wrote = row_counts() != before
        transaction.savepoint_rollback(savepoint)
        status = response.status_code
        rule = RULE_REFUSES.get((school.pack, action))
        if want == ALLOWED and rule is None:
            ok = status == 302 and wrote
        elif want == ALLOWED:  # past the door; the pack's own rule says no
            ok = status not in (403, 404) and 400 <= status < 500 and not wrote
        elif want == FORBIDDEN:
            ok = status == 403 and not wrote
        elif want == NOT_FOUND:
            ok = status == 404 and not wrote
        else:
            ok = status in (403, 404) and not wrote
        if not ok:
            mismatches.append(f"{school.pack} {action}: {person} — DESIGN.md: {want}; the tool: {status}"
                              f"{' (wrote rows)' if wrote else ''} {said(response)}".rstrip())
    return mismatches


# --- the walk -----------------------------------------------------------------------------------------

CELLS = [pytest.param(pack, action, None, id=f"{pack}-{action}")
         for pack in PACKS for action in sorted(ACTIONS)]
CELLS += [pytest.param(pack, action, "top", id=f"{pack}-{action}-top") for pack, action in VARIANTS]


@pytest.mark.parametrize(("pack", "action", "variant"), CELLS)
def test_every_role_gets_the_answer_design_gives(schools: dict[str, School], db: None, pack: str, action: str,
                                                 variant: str | None) -> None:
    """Allowed: done (302). Sees the case but may not: 403, nothing written. Does not see it: 404."""
    school = schools[pack]
    form = (VARIANTS[(pack, action)] if variant else STATES[action])(school)
    mismatches = walk(school, action, form)
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("pack", PACKS)
def test_every_case_action_design_gives_the_pack_has_a_door(pack: str) -> None:
    """The matrix is walked over HTTP: each action DESIGN.md gives the pack is one the frontend takes."""
    assert sorted(set(MATRIX[pack]) - set(ACTIONS) - set(READS)) == []


# --- view case ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("pack", PACKS)
def test_each_person_sees_exactly_the_cases_design_gives_them(schools: dict[str, School], db: None,
                                                              pack: str) -> None:
    """A detail page: 200 for those who see the case, 404 (as for a missing case) for everyone else."""
    school = schools[pack]
    mismatches = []
    for case, viewers in ((school.case, VIEWERS[pack]), (school.case_7b, VIEWERS_7B[pack]),
                          (school.case_elsewhere, VIEWERS_ELSEWHERE)):
        for person in school.people:
            if person in UNSAID:
                continue
            status = school.view(person, case).status_code
            want = 200 if person in viewers else 404
            if status != want:
                mismatches.append(f"{pack} view case of {case.pupil}: {person} — DESIGN.md: {want}; "
                                  f"the tool: {status}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("pack", PACKS)
def test_a_missing_case_and_an_unknown_action_are_404(schools: dict[str, School], db: None,
                                                      pack: str) -> None:
    school = schools[pack]
    before = row_counts()
    missing = school.case_elsewhere.pk + 10_000
    assert school.post(PRINCIPAL, school.case, "delete_case").status_code == 404
    response = school[PRINCIPAL].post(school.action_url(PRINCIPAL, school.case, "raise_concern").replace(
        f"/cases/{school.case.pk}/", f"/cases/{missing}/"), {"text": "Oro"})
    assert response.status_code == 404
    assert row_counts() == before


# --- ids swapped across boundaries ---------------------------------------------------------------------


@pytest.mark.parametrize("pack", PACKS)
def test_a_principal_reaches_only_their_own_units_cases(schools: dict[str, School], db: None,
                                                        pack: str) -> None:
    school = schools[pack]
    outsider = "outsider_principal"
    before = row_counts()
    form = {"text": "Oro för frånvaron"}
    assert school.post(PRINCIPAL, school.case_elsewhere, "raise_concern", form).status_code == 404
    assert school.post(outsider, school.case, "raise_concern", form).status_code == 404
    assert school.view(outsider, school.case).status_code == 404
    assert row_counts() == before
    # The other unit's principal does reach their own unit's case through the same door.
    assert school.post(outsider, school.case_elsewhere, "raise_concern", form).status_code == 302


@pytest.mark.parametrize("pack", PACKS)
def test_a_pupil_or_guardian_reaches_no_other_childs_case(schools: dict[str, School], db: None,
                                                          pack: str) -> None:
    school = schools[pack]
    before = row_counts()
    for person, action in ((PUPIL, "raise_concern"), (PUPIL, "add_own_view"), (GUARDIAN, "add_own_view"),
                           ("pupil_7b", "add_own_view"), ("guardian_of_other_child", "raise_concern")):
        case = school.case if person in ("pupil_7b", "guardian_of_other_child") else school.case_7b
        response = school.post(person, case, action, {"text": "Min syn"})
        assert response.status_code == 404, (person, action, response.status_code)
    assert row_counts() == before


@pytest.mark.parametrize("pack", PACKS)
def test_an_object_of_another_case_named_in_the_form_is_a_404(schools: dict[str, School], db: None,
                                                              pack: str) -> None:
    """A plan, adaptation, assessment, investigation or absence step of another pupil, posted on this
    pupil's case by someone allowed the action here, is a 404 like a missing one, and writes nothing."""
    school = schools[pack]
    foreign = school.foreign
    posts = [
        (SPECIAL, "add_follow_up", {"adaptation": foreign["adaptation"].pk, "text": "x", "date": today()}),
        (SPECIAL, "add_follow_up", {"plan": foreign["plan"].pk, "text": "x", "date": today()}),
        (HEALTH, "process_assessment", {"assessment": foreign["assessment"].pk, "text": "x"}),
        (SPECIAL, "conduct_investigation", {"investigation": foreign["investigation"].pk, "text": "x"}),
        (SPECIAL, "draft_plan", {**_with_plan_measures(draft_document(pack)),
                                 "investigation": foreign["investigation"].pk}),
        (SPECIAL, "record_evaluation", {"plan": foreign["plan"].pk, "text": "x", "date": today()}),
        (PRINCIPAL, "record_hearing", {"plan": foreign["plan"].pk, "text": "x", "pupil_heard": "on"}),
        (PRINCIPAL, "record_guardian_view", {"plan": foreign["plan"].pk, "guardian": "Eva", "text": "x"}),
        (PUPIL, "add_own_view", {"plan": foreign["plan"].pk, "text": "x"}),
        (CLASS, "check_absence_action", {"record": foreign["record"].pk, "item": "call_pupil_and_guardian"}),
        (HEALTH, "add_absence_follow_up", {"record": foreign["record"].pk, "text": "x", "date": today()}),
    ]
    if pack in ("se", "ax"):
        posts.append((PRINCIPAL, "decide_close_plan", {"plan": foreign["plan"].pk, "text": "x",
                                                       "reason": "need_no_longer_remains"}))
        posts.append((PRINCIPAL, "decide_new_plan", {"plan": foreign["plan"].pk, "text": "x"}))
    before = row_counts()
    wrong = []
    for person, action, form in posts:
        response = school.post(person, school.case, action, form)
        if response.status_code != 404:
            wrong.append(f"{pack} {action} by {person} with {sorted(form)}: {response.status_code} "
                         f"{said(response)}")
    assert not wrong, "\n".join(wrong)
    assert row_counts() == before


@pytest.mark.parametrize("pack", PACKS)
def test_one_persons_launch_does_not_work_in_another_persons_browser(schools: dict[str, School], db: None,
                                                                     pack: str) -> None:
    school = schools[pack]
    before = row_counts()
    stolen = school.action_url(PRINCIPAL, school.case, "raise_concern")  # the principal's launch id
    assert school[PUPIL].post(stolen, {"text": "Oro"}).status_code == 403
    assert school[PUPIL].get(school.case_url(PRINCIPAL, school.case)).status_code == 403
    assert row_counts() == before


# --- the audit trail ----------------------------------------------------------------------------------


@pytest.mark.parametrize("pack", PACKS)
def test_only_the_principal_and_the_education_chief_read_the_audit_log(schools: dict[str, School], db: None,
                                                                       pack: str) -> None:
    """DESIGN.md: the principal reads it for the unit, the education chief for the organisation."""
    school = schools[pack]
    readers = {PRINCIPAL, "outsider_principal", CHIEF}
    wrong = []
    for person in school.people:
        entries = AuditEntry.objects.count()
        response = school[person].get(school.audit_url(person))
        want = 200 if person in readers else 403
        written = AuditEntry.objects.count() - entries
        if response.status_code != want or written != (1 if want == 200 else 0):
            wrong.append(f"{pack} audit log: {person} — DESIGN.md: {want}; the tool: {response.status_code},"
                         f" {written} entries written")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("pack", PACKS)
def test_the_principal_reads_their_units_trail_not_the_other_units(schools: dict[str, School], db: None,
                                                                   pack: str) -> None:
    school = schools[pack]
    school.view("outsider_principal", school.case_elsewhere)
    school.view(SPECIAL, school.case)
    response = school[PRINCIPAL].get(school.audit_url(PRINCIPAL), {"pupil": school.case.pupil_id})
    assert response.status_code == 200
    listed = AuditEntry.objects.filter(person=school[PRINCIPAL].person, action="list",
                                       object_type="support.auditentry").latest("at")
    shown = AuditEntry.objects.filter(pk__in=listed.object_ids)
    assert shown.exists() and set(shown.values_list("pupil_id", flat=True)) == {school.case.pupil_id}
    assert not AuditEntry.objects.filter(pk__in=listed.object_ids, unit=school.other_unit).exists()


@pytest.mark.parametrize("pack", PACKS)
def test_a_detail_view_is_one_audit_entry_for_the_case_read(schools: dict[str, School], db: None,
                                                            pack: str) -> None:
    school = schools[pack]
    last = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    assert school.view(SPECIAL, school.case).status_code == 200
    entry = AuditEntry.objects.get(pk__gt=last)
    assert (entry.action, entry.object_type, entry.object_ids) == ("read", "support.case", [school.case.pk])
    assert entry.person == school[SPECIAL].person and entry.unit == school.unit
    assert entry.pupil_id == school.case.pupil_id and str(entry.launch_id) == school[SPECIAL].launch_id
    # A case out of reach is a 404 and no read is logged.
    assert school.view("outsider_principal", school.case).status_code == 404
    assert not AuditEntry.objects.filter(pk__gt=entry.pk).exists()


@pytest.mark.parametrize("pack", PACKS)
def test_the_case_list_is_one_audit_entry_naming_the_cases_it_showed(schools: dict[str, School], db: None,
                                                                     pack: str) -> None:
    """The caseload per person as DESIGN.md gives it (their class, pupils they teach, the unit...)."""
    school = schools[pack]
    mine, other_class, elsewhere = school.case.pk, school.case_7b.pk, school.case_elsewhere.pk
    expected = {
        PUPIL: {mine}, GUARDIAN: {mine}, CLASS: {mine}, SUBJECT: {mine}, SPECIAL: {mine, other_class},
        PRINCIPAL: {mine, other_class}, HEALTH: {mine, other_class}, "outsider_principal": {elsewhere},
        "pupil_7b": {other_class}, "guardian_of_other_child": {other_class}, "pupil_elsewhere": {elsewhere},
        "organisation_admin": set(), "it_admin": set(),
        CHIEF: set(),  # every case is at level 1: none is the chief's
        DELEGATE: {mine, other_class},
    }
    wrong = []
    for person in school.people:
        if person in UNSAID:
            continue
        last = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        response = school[person].get(school.list_url(person))
        entries = list(AuditEntry.objects.filter(pk__gt=last))
        listed = set(entries[0].object_ids) if len(entries) == 1 and entries[0].action == "list" else None
        if response.status_code != 200 or listed != expected[person]:
            wrong.append(f"{pack} case list: {person} — DESIGN.md: {sorted(expected[person])}; the tool: "
                         f"{response.status_code}, entries {[(e.action, e.object_ids) for e in entries]}")
    assert not wrong, "\n".join(wrong)


# --- the expert group (fi) ----------------------------------------------------------------------------


@pytest.mark.parametrize("pack", ["fi-2025", "fi-2010"])
def test_a_staff_member_named_to_the_pupils_expert_group_convenes_it_and_writes_its_record(
        schools: dict[str, School], db: None, pack: str) -> None:
    """The expert group's actions are for that pupil's members while consent stands (DESIGN.md): a
    special teacher at the unit who is also named to the group may; one who sees the case but is not
    in the group gets a 403; another unit's principal a 404."""
    from lti_plugin.support.models import ExpertGroup, ExpertGroupRecord
    from lti_plugin.support.services import grants

    school = schools[pack]
    grants.grant_role(actor=school.actor(PRINCIPAL), person=school[SPECIAL].person, role=EXPERT,
                      pupil=school.case.pupil)
    before = row_counts()
    assert school.post(HEALTH, school.case, "convene_expert_group").status_code == 403
    assert school.post("outsider_principal", school.case, "convene_expert_group").status_code == 404
    assert row_counts() == before

    response = school.post(SPECIAL, school.case, "convene_expert_group")
    assert response.status_code == 302, said(response)
    group = ExpertGroup.objects.get(pupil=school.case.pupil)
    form = {"group": group.pk, "text": "Möte med elev och vårdnadshavare"}
    assert school.post(HEALTH, school.case, "write_expert_group_record", form).status_code == 403
    response = school.post(SPECIAL, school.case, "write_expert_group_record", form)
    assert response.status_code == 302, said(response)
    assert ExpertGroupRecord.objects.get(group=group).written_by == school[SPECIAL].person


@pytest.mark.parametrize("pack", PACKS)
def test_a_person_holding_several_roles_acts_and_is_audited(schools: dict[str, School], db: None,
                                                            pack: str) -> None:
    """A class teacher who is also the unit's special teacher (and a subject teacher by their launch):
    the change is made and the audit trail names every role they hold."""
    from lti_plugin.support.services import grants

    school = schools[pack]
    grants.grant_role(actor=school.actor(PRINCIPAL), person=school[CLASS].person, role=SPECIAL,
                      unit=school.unit)
    response = school.post(CLASS, school.case_7b, "raise_concern", {"text": "Oro"})
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(person=school[CLASS].person, action="concern.raised").get()
    assert set(entry.role.split(",")) == {CLASS, SPECIAL, SUBJECT}


@pytest.mark.parametrize("pack", ["fi-2025"])
def test_the_expert_groups_record_is_read_by_its_members_only_and_each_read_is_logged(
        schools: dict[str, School], db: None, pack: str) -> None:
    from django.urls import reverse

    from lti_plugin.support.models import AuditEntry

    school = schools[pack]
    record_url = lambda key: reverse("frontend:expert-group", args=[school[key].launch_id, school.case.pk])  # noqa: E731
    assert school.post("expert_group_member", school.case, "convene_expert_group", {}).status_code == 302
    assert school.post("expert_group_member", school.case, "write_expert_group_record",
                       {"group": str(school.case.pupil.expert_groups.get().pk), "text": "Samtal med eleven"}
                       ).status_code == 302
    reads = AuditEntry.objects.filter(action="read", object_type="support.expertgroup").count()

    page = school["expert_group_member"].get(record_url("expert_group_member"))

    assert page.status_code == 200 and "Samtal med eleven" in page.content.decode()
    assert AuditEntry.objects.filter(action="read", object_type="support.expertgroup").count() == reads + 1
    refused = school["principal"].get(record_url("principal"))
    assert refused.status_code in (403, 404) and "Samtal med eleven" not in refused.content.decode()
