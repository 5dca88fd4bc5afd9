"""Two requests at the same moment, each on its own database connection (real threads, real commits).

The rules under test are the ones a lock or a constraint has to hold, not the code path: exactly one
evaluation per ÅP (Unikum seed), and a plan edit made from a stale copy is refused, not written over
someone else's. Each must hold on SQLite (one writer at a time) and on PostgreSQL (row locks).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection

from lti_plugin.support.errors import RuleBroken, StaleVersion
from lti_plugin.support.models import Evaluation, Plan, PlanRevision
from lti_plugin.support.services import decisions, plans
from lti_plugin.support.services.plans import MeasureInput

if TYPE_CHECKING:
    from lti_plugin.support.actor import Actor
    from tests.support.conftest import School


@pytest.fixture(autouse=True)
def a_database_file_on_sqlite(transactional_db: None, tmp_path: Path) -> Iterator[None]:
    """On SQLite, run against a database file, as the embedded default does.

    The test runner's in-memory SQLite database is opened in shared-cache mode, where a second writer
    gets "database table is locked" at once instead of waiting its turn as it does on a file (WAL,
    BEGIN IMMEDIATE, a 20 s timeout: settings.py). So each test here gets a copy of the empty test
    database in a file; the in-memory one is kept open aside and given back afterwards.
    """
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    connection.ensure_connection()
    in_memory, name = connection.connection, connection.settings_dict["NAME"]
    path = tmp_path / "elevstod.sqlite3"
    with sqlite3.connect(path) as file:
        in_memory.backup(file)
    file.close()
    # Every thread's connection is made from this same settings dict.
    connection.settings_dict["NAME"] = str(path)
    connection.connection = None  # the next query connects to the file
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = name
        connection.connection = in_memory


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run each call in its own thread and connection, released together; their results or exceptions."""
    start = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            start.wait(timeout=10)
            outcomes[index] = call()
        except Exception as error:  # noqa: BLE001 - the outcome under test
            outcomes[index] = error
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a request never finished: a lock was never released"
    return outcomes


def draft(school: School, teacher: Actor, *, needs: list[str]) -> Plan:
    return plans.draft_plan(actor=teacher, case=school.case(), document="action_plan", needs=needs,
                            measures=[MeasureInput("Läsning med stöd", teacher.person, date(2026, 1, 12),
                                                   date(2026, 3, 13))])


def in_force(school: School, teacher: Actor, principal: Actor) -> Plan:
    plan = draft(school, teacher, needs=["Läsförståelse"])
    plans.record_hearing(actor=principal, case=plan.case, plan=plan, held_on=date(2026, 1, 8), pupil_heard=True,
                         guardians_heard=True, summary="Elev och vårdnadshavare hörda")
    decisions.decide_new_plan(actor=principal, plan=plan, grounds="Utredningen visar behov av särskilt stöd")
    plan.refresh_from_db()
    return plan


@pytest.mark.django_db(transaction=True)
def test_two_evaluations_at_once_leave_exactly_one(se):
    class_teacher, special_teacher = se.actor("class_teacher"), se.actor("special_teacher")
    plan = in_force(se, class_teacher, se.actor("principal"))

    outcomes = at_once(
        lambda: plans.record_evaluation(actor=class_teacher, plan=plan, text="Målen nådda",
                                        evaluated_on=date(2026, 3, 16)),
        lambda: plans.record_evaluation(actor=special_teacher, plan=plan, text="Målen delvis nådda",
                                        evaluated_on=date(2026, 3, 16)),
    )

    won = [outcome for outcome in outcomes if isinstance(outcome, Evaluation)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, RuleBroken)]
    assert len(won) == 1 and len(refused) == 1, outcomes
    assert refused[0].code == "already_evaluated"
    assert Evaluation.objects.filter(plan=plan).count() == 1
    kept = Evaluation.objects.get(plan=plan)
    assert (kept.pk, kept.text, kept.signed_by_id) == (won[0].pk, won[0].text, won[0].signed_by_id)


@pytest.mark.django_db(transaction=True)
def test_two_edits_of_the_same_version_at_once_one_wins_the_other_is_told(se):
    teacher, special_teacher = se.actor("class_teacher"), se.actor("special_teacher")
    plan = draft(se, teacher, needs=["Läsförståelse"])
    assert plan.version == 1

    outcomes = at_once(
        lambda: plans.update_draft(actor=teacher, plan=plan, expected_version=1, needs=["Läsförståelse", "Ordförråd"]),
        lambda: plans.update_draft(actor=special_teacher, plan=plan, expected_version=1, needs=["Koncentration"]),
    )

    won = [outcome for outcome in outcomes if isinstance(outcome, Plan)]
    stale = [outcome for outcome in outcomes if isinstance(outcome, StaleVersion)]
    assert len(won) == 1 and len(stale) == 1, outcomes
    assert stale[0].code == "stale_version"
    plan.refresh_from_db()
    assert plan.version == 2
    winner_needs = [need.text for need in won[0].needs.order_by("order")]
    assert [need.text for need in plan.needs.order_by("order")] == winner_needs
    # Nothing lost: the first state and the winner's edit are both in the history, one revision each.
    revisions = list(PlanRevision.objects.filter(plan=plan).order_by("version"))
    assert [(revision.version, revision.change) for revision in revisions] == [(1, "drafted"), (2, "edited")]
    assert [need["text"] for need in revisions[0].snapshot["needs"]] == ["Läsförståelse"]
    assert [need["text"] for need in revisions[1].snapshot["needs"]] == winner_needs

    # The one who was told reloads and makes the edit on top of the winner's.
    loser = special_teacher if winner_needs == ["Läsförståelse", "Ordförråd"] else teacher
    plans.update_draft(actor=loser, plan=plan, expected_version=2, needs=winner_needs + ["Koncentration"])
    plan.refresh_from_db()
    assert plan.version == 3 and PlanRevision.objects.filter(plan=plan).count() == 3
