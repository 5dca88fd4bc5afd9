"""Writes: every case action through the pages' own door (the policy, then the service), and plan
edits with optimistic concurrency: a stale If-Match is a 412 and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from lti_plugin.support.models import Plan, PlanRevision

from .conftest import History, School, as_member, url


def act(se: School, key: str, action: str, data: dict[str, Any], case: Any = None) -> Any:
    return as_member(se, key, "post", url("case-action", (case or se.case).pk, action), data)


@pytest.mark.parametrize(("key", "status"), [("class_teacher", 201), ("pupil", 201), ("guardian", 201),
                                             ("outsider_principal", 404), ("pupil_7b", 404), ("it_admin", 404),
                                             ("organisation_admin", 404)])
def test_raising_a_concern(se: School, key: str, status: int) -> None:
    response = act(se, key, "raise_concern", {"text": "Oro för läsningen"})
    assert response.status_code == status, response.json()
    assert se.case.concerns.count() == (1 if status == 201 else 0)
    if status == 201:
        assert response.json()["object_type"] == "support.concern"


@pytest.mark.parametrize("key", ["pupil", "class_teacher", "special_teacher"])
def test_only_the_principal_decides(se: School, history: History, key: str) -> None:
    response = act(se, key, "decide_new_plan", {"plan": history.draft.pk, "text": "Fortsätt"})
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed:decide_new_plan"
    assert Plan.objects.get(pk=history.draft.pk).status == "draft"


def test_a_principal_decides_through_the_api_and_the_decision_is_read_only(se: School, history: History) -> None:
    draft = history.draft
    heard = act(se, "principal", "record_hearing", {"plan": draft.pk, "text": "Hörda", "pupil_heard": True,
                                                     "guardians_heard": True})
    assert heard.status_code == 201
    decided = act(se, "principal", "decide_new_plan", {"plan": draft.pk, "text": "Fortsatt behov"})
    assert decided.status_code == 201, decided.json()
    assert Plan.objects.get(pk=draft.pk).status == "active"
    decision = decided.json()["object_id"]
    assert decision in [row["id"] for row in as_member(se, "principal", "get", url("decisions")).json()["results"]]
    for method in ("post", "patch", "put", "delete"):
        assert as_member(se, "principal", method, url("decisions")).status_code == 405


def test_another_cases_object_named_in_an_action_is_a_404(se: School) -> None:
    response = act(se, "special_teacher", "add_follow_up", {"adaptation": se.foreign["adaptation"].pk, "text": "x"})
    assert response.status_code == 404
    assert not se.foreign["adaptation"].follow_ups.exists()


@pytest.mark.parametrize(("data", "field"), [({"text": "x", "date": "igår"}, "date"),
                                             ({"text": "x", "plan": "nio"}, "plan"),
                                             ({"text": "x", "plan": 2**40}, "plan"),
                                             ({"text": "x\x00"}, "text"),
                                             ({"text": "x", "date": "9999-12-31"}, "date")])
def test_bad_input_is_a_400_naming_the_field(se: School, data: dict[str, Any], field: str) -> None:
    response = act(se, "special_teacher", "add_follow_up", data)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_an_unknown_action_or_case_is_a_404_and_not_json_is_a_400(se: School) -> None:
    assert act(se, "principal", "delete_everything", {}).status_code == 404
    missing = as_member(se, "principal", "post", url("case-action", 10**9, "raise_concern"), {"text": "x"})
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    member = se["principal"]
    broken = member.client.post(url("case-action", se.case.pk, "raise_concern"), "{not json",
                                content_type="application/json", headers={"X-Elevstod-Launch": member.launch_id})
    assert broken.status_code == 400 and broken.json()["code"] == "parse_error"


def edit(se: School, key: str, plan: Plan, data: dict[str, Any], if_match: str | None) -> Any:
    headers = {"If-Match": if_match} if if_match is not None else {}
    return as_member(se, key, "patch", url("plan", plan.pk), data, **headers)


def test_an_edit_with_the_current_etag_is_saved_and_gets_a_new_one(se: School, history: History) -> None:
    read = as_member(se, "special_teacher", "get", url("plan", history.draft.pk))
    response = edit(se, "special_teacher", history.draft, {"needs": ["Skrivande"]}, read["ETag"])
    assert response.status_code == 200, response.json()
    assert [need["text"] for need in response.json()["needs"]] == ["Skrivande"]
    assert response["ETag"] == f'"{int(read["ETag"].strip(chr(34))) + 1}"'


def test_two_editors_with_the_same_etag_one_wins_the_other_gets_412(se: School, history: History) -> None:
    etag = as_member(se, "special_teacher", "get", url("plan", history.draft.pk))["ETag"]
    first = edit(se, "special_teacher", history.draft, {"needs": ["Skrivande"]}, etag)
    second = edit(se, "class_teacher", history.draft, {"needs": ["Matematik"]}, etag)
    assert (first.status_code, second.status_code) == (200, 412)
    assert second.json()["code"] == "stale_version"
    plan = Plan.objects.get(pk=history.draft.pk)
    assert [need.text for need in plan.needs.all()] == ["Skrivande"]  # nothing of the loser written
    assert PlanRevision.objects.filter(plan=plan).count() == 2  # copied, then the one edit: nothing lost


def test_an_edit_without_if_match_is_refused(se: School, history: History) -> None:
    response = edit(se, "special_teacher", history.draft, {"needs": ["Skrivande"]}, None)
    assert response.status_code == 428
    assert edit(se, "special_teacher", history.draft, {"needs": ["Skrivande"]}, '"nonsense"').status_code == 412
    assert [need.text for need in Plan.objects.get(pk=history.draft.pk).needs.all()] == ["Läsförståelse"]


@pytest.mark.parametrize(("key", "status"), [("pupil", 403), ("principal", 403), ("outsider_principal", 404)])
def test_only_those_who_draft_edit_a_draft(se: School, history: History, key: str, status: int) -> None:
    response = edit(se, key, history.draft, {"needs": ["Annat"]}, f'"{history.draft.version}"')
    assert response.status_code == status


def test_a_decided_or_closed_plan_is_not_edited(se: School, history: History) -> None:
    response = edit(se, "special_teacher", history.closed, {"needs": ["Annat"]}, f'"{history.closed.version}"')
    assert response.status_code == 422
    assert response.json()["code"] == "plan_closed"


def test_a_measure_needs_a_period_in_order(se: School, history: History) -> None:
    measure = {"text": "Stöd", "starts_on": "2026-05-01", "ends_on": "2026-04-01"}
    response = edit(se, "special_teacher", history.draft, {"measures": [measure]}, f'"{history.draft.version}"')
    assert response.status_code == 422 and response.json()["code"] == "measure_period"
    bad = edit(se, "special_teacher", history.draft, {"measures": [{"text": "Stöd"}]}, f'"{history.draft.version}"')
    assert bad.status_code == 400 and "measures.0.starts_on" in bad.json()["fields"]
