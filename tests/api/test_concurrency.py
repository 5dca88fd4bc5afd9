"""Two clients edit the same plan at the same moment, each in its own thread, connection and browser
session, with the ETag both read: one wins, the other gets 412, and nothing of either is lost or
mixed. On SQLite (a database file, one writer at a time) and on PostgreSQL (row locks)."""

from __future__ import annotations

from lti_plugin.support.models import Plan, PlanRevision
from tests.frontend.conftest import build_school
from tests.support.test_concurrency import a_database_file_on_sqlite, at_once  # noqa: F401 - autouse fixture

from .conftest import as_member, make_history, url


def test_two_clients_update_the_same_plan_one_wins_the_other_gets_412() -> None:
    se = build_school("se")
    draft = make_history(se).draft
    etag = as_member(se, "special_teacher", "get", url("plan", draft.pk))["ETag"]

    def edit(key: str, need: str):  # type: ignore[no-untyped-def]
        return lambda: as_member(se, key, "patch", url("plan", draft.pk), {"needs": [need]}, **{"If-Match": etag})

    outcomes = at_once(edit("special_teacher", "Skrivande"), edit("class_teacher", "Matematik"))
    statuses = sorted(response.status_code for response in outcomes)
    assert statuses == [200, 412], [getattr(response, "content", response) for response in outcomes]
    winner = next(response for response in outcomes if response.status_code == 200)
    plan = Plan.objects.get(pk=draft.pk)
    assert [need.text for need in plan.needs.all()] == [need["text"] for need in winner.json()["needs"]]
    assert winner["ETag"] == f'"{plan.version}"'
    assert PlanRevision.objects.filter(plan=plan).count() == 2  # the copy and the winner's edit
    loser = next(response for response in outcomes if response.status_code == 412)
    retried = as_member(se, "class_teacher", "patch", url("plan", draft.pk), {"needs": ["Matematik"]},
                        **{"If-Match": winner["ETag"]})
    assert loser.json()["code"] == "stale_version" and retried.status_code == 200
