"""The API over the same schools as the pages: everyone arrives through a real LTI launch, and
integrations through tokens that a principal or the education chief made through the API itself."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from lti_plugin.support.models import Plan
from lti_plugin.support.services import decisions, plans
from lti_plugin.support.services.plans import MeasureInput
from tests.frontend.conftest import School, schools_built_once

LAUNCH_HEADER = "X-Elevstod-Launch"


def url(name: str, *args: Any) -> str:
    return reverse(f"api:{name}", args=args)


def as_member(school: School, key: str, method: str, path: str, data: Any = None, **headers: str) -> Any:
    """`key`'s own browser calls the API, naming its launch."""
    member = school[key]
    send = getattr(member.client, method)
    kwargs: dict[str, Any] = {"headers": {LAUNCH_HEADER: member.launch_id, **headers}}
    if method in ("post", "patch", "put"):
        kwargs.update(data=data or {}, content_type="application/json")
    elif data:
        kwargs["data"] = data
    return send(path, **kwargs)


def make_token(school: School, key: str, **fields: Any) -> dict[str, Any]:
    """`key` makes a token through the API; the answer, with the secret (shown this once)."""
    response = as_member(school, key, "post", url("tokens"), {"name": f"{key} {len(fields)}", **fields})
    assert response.status_code == 201, response.json()
    return response.json()


def with_token(client: Any, secret: str, method: str, path: str, data: Any = None, **headers: str) -> Any:
    send = getattr(client, method)
    kwargs: dict[str, Any] = {"headers": {"Authorization": f"Bearer {secret}", **headers}}
    if method in ("post", "patch", "put"):
        kwargs.update(data=data or {}, content_type="application/json")
    elif data:
        kwargs["data"] = data
    return send(path, **kwargs)


PACKS = ("se", "ax")  # se for most; ax for the education chief (no such role in se)


@pytest.fixture(scope="module")
def schools(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, School]]:
    """The page tests' schools (tests/frontend/conftest.py), two packs of them, built once per module
    inside a transaction rolled back at its end; every test runs in a savepoint inside it."""
    yield from schools_built_once(PACKS, django_db_blocker)


@pytest.fixture
def se(schools: dict[str, School], db: None) -> School:
    return schools["se"]


@dataclass
class History:
    """A plan's whole life on the se pupil's case, made through the services by the people who may:
    drafted, heard, decided, followed up, evaluated and closed (so it is in the archive), plus a
    draft that continues it."""

    closed: Plan
    draft: Plan


@pytest.fixture
def history(se: School) -> History:
    return make_history(se)


def make_history(se: School) -> History:
    case = se.case
    special, principal, teacher = se.actor("special_teacher"), se.actor("principal"), se.actor("class_teacher")
    plan = plans.draft_plan(actor=special, case=case, document="action_plan", needs=["Läsförståelse"],
                            measures=[MeasureInput("Högläsning", special.person, date(2026, 1, 12), date(2026, 6, 5))])
    plans.record_hearing(actor=principal, case=case, plan=plan, held_on=date(2026, 1, 8), pupil_heard=True,
                         guardians_heard=True, summary="Eleven och vårdnadshavarna hörda")
    plans.add_own_view(actor=se.actor("pupil"), case=case, plan=plan, text="Jag vill läsa mer")
    decisions.decide_new_plan(actor=principal, plan=plan, grounds="Utredningen visar behov")
    plans.add_follow_up(actor=teacher, plan=plan, text="Läser med stöd", held_on=date(2026, 3, 2))
    plans.record_evaluation(actor=teacher, plan=plan, text="Målen nådda", evaluated_on=date(2026, 6, 5))
    draft = decisions.continue_in_new_plan(actor=principal, plan=plan)
    decisions.decide_close_plan(actor=principal, plan=plan, reason="need_no_longer_remains",
                                grounds="Behovet kvarstår inte")
    plan.refresh_from_db()
    return History(closed=plan, draft=draft)
