"""Every API read classified in CASE_READS (tests/frontend/test_boundaries_and_audit.py) writes
exactly one audit entry, by the reader, through their launch or under their token's name."""

from __future__ import annotations

import pytest
from django.test import Client

from lti_plugin.support.models import AuditEntry
from tests.frontend.test_boundaries_and_audit import CASE_READS

from .conftest import History, School, as_member, make_token, url, with_token

API_READS = sorted(name.removeprefix("api:") for name in CASE_READS if name.startswith("api:"))


def args(name: str, se: School, history: History) -> list[int]:
    return {"case": [se.case.pk], "plan": [history.closed.pk]}.get(name, [])


@pytest.mark.parametrize("name", API_READS)
def test_each_api_read_writes_exactly_one_audit_entry(se: School, history: History, client: Client,
                                                      name: str) -> None:
    secret = make_token(se, "principal", units=[se.unit.pk], name="Walk")["secret"]
    for call in (lambda: as_member(se, "principal", "get", url(name, *args(name, se, history))),
                 lambda: with_token(client, secret, "get", url(name, *args(name, se, history)))):
        before = AuditEntry.objects.count()
        assert call().status_code == 200
        assert AuditEntry.objects.count() == before + 1
        entry = AuditEntry.objects.latest("pk")
        assert entry.person == se["principal"].person and entry.action in ("read", "list")
    assert entry.api_token == "Walk"


def test_a_refused_api_read_writes_no_entry(se: School) -> None:
    before = AuditEntry.objects.count()
    assert as_member(se, "outsider_principal", "get", url("case", se.case.pk)).status_code == 404
    assert as_member(se, "class_teacher", "get", url("audit")).status_code == 403
    assert AuditEntry.objects.count() == before
