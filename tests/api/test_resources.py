"""Each resource over HTTP, for those who may read it and those who may not: a session from a real
launch (the header names which launch) and tokens of each scope. Out of scope is never shown (a
list leaves it out, a detail is a 404); in scope but not allowed is a 403."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from lti_plugin.support.models import AuditEntry
from lti_plugin.support.services import plans

from .conftest import History, School, as_member, make_token, url, with_token

# Each list and how to find the se pupil's rows in it (after `history`).
LISTS: dict[str, Any] = {
    "pupils": lambda se, h: se.case.pupil_id,
    "cases": lambda se, h: se.case.pk,
    "plans": lambda se, h: h.draft.pk,
    "follow-ups": lambda se, h: h.closed.follow_ups.get().pk,
    "evaluations": lambda se, h: h.closed.evaluation.pk,
    "decisions": lambda se, h: h.closed.decisions.get(decision_type="decide_close_plan").pk,
    "hearings": lambda se, h: h.closed.hearings.get().pk,
    "views": lambda se, h: h.closed.views.get().pk,
    "adaptations": lambda se, h: se.adaptation.pk,
    "archive": lambda se, h: h.closed.pk,
}


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize("key", ["principal", "special_teacher", "class_teacher", "pupil", "guardian"])
def test_those_who_see_the_case_get_its_rows(se: School, history: History, key: str) -> None:
    for name, row in LISTS.items():
        assert row(se, history) in ids(as_member(se, key, "get", url(name))), name


@pytest.mark.parametrize("key", ["outsider_principal", "pupil_7b", "guardian_of_other_child", "organisation_admin",
                                 "it_admin"])
def test_those_out_of_scope_get_none_of_its_rows(se: School, history: History, key: str) -> None:
    for name, row in LISTS.items():
        assert row(se, history) not in ids(as_member(se, key, "get", url(name))), name


@pytest.mark.parametrize("name", [*LISTS, "due", "absence-records", "audit", "tokens"])
def test_nobody_without_a_launch_or_token_gets_anything(client: Client, db: None, name: str) -> None:
    response = client.get(url(name))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_list_is_one_audit_entry_naming_what_it_showed(se: School) -> None:
    response = as_member(se, "principal", "get", url("cases"))
    entry = AuditEntry.objects.latest("pk")
    assert (entry.action, entry.object_type, entry.person) == ("list", "support.case", se["principal"].person)
    assert entry.object_ids == ids(response)
    assert str(entry.launch_id) == se["principal"].launch_id


def test_lists_filter_by_unit_level_and_status_and_page_in_a_stable_order(se: School, history: History) -> None:
    assert ids(as_member(se, "principal", "get", url("plans"), {"status": "closed"})) == [history.closed.pk]
    assert se.case.pk not in ids(as_member(se, "principal", "get", url("cases"), {"unit": se.other_unit.pk}))
    assert ids(as_member(se, "principal", "get", url("cases"), {"level": "no_such_level"})) == []
    first = as_member(se, "principal", "get", url("cases"), {"page_size": 1}).json()
    second = as_member(se, "principal", "get", url("cases"), {"page_size": 1, "page": 2}).json()
    assert first["count"] == second["count"] == 2 and first["next"]
    assert first["results"][0]["id"] != second["results"][0]["id"]
    assert ids(as_member(se, "principal", "get", url("cases"))) == ids(as_member(se, "principal", "get", url("cases")))


def test_a_bad_filter_is_a_400_that_names_the_field(se: School) -> None:
    response = as_member(se, "principal", "get", url("plans"), {"status": "open", "unit": "x"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"status", "unit"}


@pytest.mark.parametrize(("key", "status"), [("principal", 200), ("class_teacher", 200), ("pupil", 200),
                                             ("guardian", 200), ("outsider_principal", 404), ("pupil_7b", 404),
                                             ("organisation_admin", 404), ("it_admin", 404)])
def test_a_case_and_its_plan_for_those_who_may_see_them(se: School, history: History, key: str, status: int) -> None:
    case = as_member(se, key, "get", url("case", se.case.pk))
    plan = as_member(se, key, "get", url("plan", history.closed.pk))
    assert (case.status_code, plan.status_code) == (status, status)
    if status == 404:
        assert se.case.pupil.person.name not in case.content.decode() + plan.content.decode()
        return
    assert case.json()["pupil_name"] == se.case.pupil.person.name
    assert plan.json()["needs"][0]["text"] == "Läsförståelse" and plan["ETag"] == f'"{history.closed.version}"'
    read = AuditEntry.objects.latest("pk")
    assert (read.action, read.object_type, read.object_ids) == ("read", "support.plan", [history.closed.pk])


def test_the_case_tells_what_the_requester_may_do(se: School) -> None:
    principal = as_member(se, "principal", "get", url("case", se.case.pk)).json()["allowed_actions"]
    pupil = as_member(se, "pupil", "get", url("case", se.case.pk)).json()["allowed_actions"]
    assert "decide_close_plan" in principal and "decide_close_plan" not in pupil
    assert "add_own_view" in pupil


@pytest.mark.parametrize(("key", "status"), [("principal", 200), ("class_teacher", 403), ("special_teacher", 403),
                                             ("organisation_admin", 403), ("it_admin", 403), ("pupil", 403)])
def test_the_audit_log_for_the_principal_only(se: School, key: str, status: int) -> None:
    response = as_member(se, key, "get", url("audit"))
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"].startswith("not_allowed")


def test_the_due_list_is_what_the_pages_and_digest_say_is_due(se: School, history: History) -> None:
    due = as_member(se, "principal", "get", url("due")).json()["results"]
    assert {"kind": "absence_follow_up", "case": se.case_7b.pk} in [{"kind": i["kind"], "case": i["case"]} for i in due]
    assert as_member(se, "principal", "get", url("due"), {"due_before": "2000-01-01"}).json()["results"] == []
    assert as_member(se, "pupil_7b", "get", url("due")).json()["results"] == []


class TestTokensOfEachScope:
    def test_a_principals_token_reaches_their_unit_only(self, se: School, history: History, client: Client) -> None:
        mine = make_token(se, "principal", units=[se.unit.pk])["secret"]
        theirs = make_token(se, "outsider_principal", units=[se.other_unit.pk])["secret"]
        for name in LISTS:
            assert LISTS[name](se, history) in ids(with_token(client, mine, "get", url(name)))
            assert LISTS[name](se, history) not in ids(with_token(client, theirs, "get", url(name)))
        assert with_token(client, mine, "get", url("case", se.case.pk)).status_code == 200
        assert with_token(client, theirs, "get", url("case", se.case.pk)).status_code == 404
        assert with_token(client, theirs, "get", url("plan", history.closed.pk)).status_code == 404

    def test_the_education_chiefs_token_reaches_the_organisations_audit_log(self, schools: dict[str, School],
                                                                           db: None, client: Client) -> None:
        ax = schools["ax"]
        token = make_token(ax, "education_chief")
        assert token["scope"] == "organisation" and token["units"] == []
        entries = with_token(client, token["secret"], "get", url("audit"), {"page_size": 200}).json()["results"]
        assert {entry["unit"] for entry in entries} >= {ax.unit.pk}
        # Level 1 cases are the principal's; the chief's view of cases is level 3 (DESIGN.md's matrix).
        assert with_token(client, token["secret"], "get", url("case", ax.case.pk)).status_code == 404

    def test_a_principals_token_does_not_read_the_organisations_log(self, se: School, client: Client) -> None:
        secret = make_token(se, "outsider_principal", units=[se.other_unit.pk])["secret"]
        as_member(se, "principal", "get", url("case", se.case.pk))  # a read at the other unit
        entries = with_token(client, secret, "get", url("audit"), {"page_size": 200}).json()["results"]
        assert entries and all(entry["unit"] in (se.other_unit.pk, None) for entry in entries)
        assert se.unit.pk not in {entry["unit"] for entry in entries}


@pytest.mark.parametrize("key", ["principal", "class_teacher", "special_teacher", "pupil", "guardian",
                                 "organisation_admin", "it_admin"])
def test_another_organisations_ids_are_a_404_and_leak_nothing(schools: dict[str, School], db: None,
                                                              key: str) -> None:
    mine, theirs = schools["se"], schools["ax"]
    secret = theirs.case.pupil.person.name
    responses = [as_member(mine, key, "get", url("case", theirs.case.pk)),
                 as_member(mine, key, "post", url("case-action", theirs.case.pk, "raise_concern"), {"text": "Oro"}),
                 as_member(mine, key, "post", url("case-action", mine.case.pk, "add_follow_up"),
                           {"adaptation": theirs.adaptation.pk, "text": "x"})]
    assert [response.status_code for response in responses[:2]] == [404, 404]
    assert responses[2].status_code in (403, 404)
    assert all(secret not in response.content.decode() for response in responses)
    assert not theirs.case.concerns.exists() and not theirs.adaptation.follow_ups.exists()


def test_a_longer_list_takes_no_more_queries(se: School, history: History) -> None:
    def queries(name: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert as_member(se, "special_teacher", "get", url(name)).status_code == 200
        return len(captured)

    before = {name: queries(name) for name in ("plans", "adaptations", "archive")}
    special = se.actor("special_teacher")
    for need in ("Skrivande", "Matematik", "Engelska"):
        plans.draft_plan(actor=special, case=se.case, document="action_plan", needs=[need, "Läsning"])
    assert queries("plans") == before["plans"]
    assert queries("adaptations") == before["adaptations"] and queries("archive") == before["archive"]
