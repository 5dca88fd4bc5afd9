"""Across boundaries nothing leaks; every read path writes its audit entry; new views are classified."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from lti_plugin.support.models import AuditEntry

from .conftest import School

# Every named view of the tool's pages is listed here. A view that reads case data must be in
# CASE_READS (and is walked below); a new view that is in neither list fails the first test.
CASE_READS = {"frontend:case", "frontend:cases", "frontend:audit", "frontend:expert-group", "frontend:course",
              "frontend:tasks", "frontend:archive", "frontend:plan-print", "frontend:decision-print",
              "frontend:case-form",
              # The API's reads (tests/api/test_audit_walk.py walks each of them).
              "api:pupils", "api:cases", "api:case", "api:plans", "api:plan", "api:follow-ups", "api:evaluations",
              "api:decisions", "api:hearings", "api:views", "api:adaptations", "api:absence-records", "api:archive",
              "api:due", "api:audit"}
NO_CASE_DATA = {"frontend:home", "frontend:registrations", "frontend:registration-approve",
                "frontend:case-action",  # case-action writes: the services audit every change
                "frontend:course-pupil-action",
                "frontend:course-pupil-form",  # an empty form and the pupil's name, as on the course panel
                # Administration: staff roles, course mapping, the welfare group's counts (no pupil).
                "frontend:staff", "frontend:staff-grant", "frontend:staff-revoke", "frontend:course-map",
                "frontend:welfare-group",
                "api:case-action",  # the same door as frontend:case-action
                "api:schema", "api:docs", "api:redoc", "api:tokens", "api:token-revoke"}


def named_views(patterns: list[Any], namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= named_views(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name and namespace.startswith(("frontend:", "api:")):
            names.add(namespace + pattern.name)
    return names


def test_every_view_of_the_tools_pages_is_classified_for_the_audit_walk() -> None:
    unclassified = named_views(get_resolver().url_patterns) - CASE_READS - NO_CASE_DATA
    assert not unclassified, f"new views: list them in CASE_READS (and audit their reads) or NO_CASE_DATA: {unclassified}"


def reads(case_ids: list[int] | None = None) -> int:
    entries = AuditEntry.objects.filter(action__in=["read", "list"])
    return sum(1 for entry in entries if case_ids is None or entry.object_ids == case_ids)


def test_each_read_path_writes_exactly_its_audit_entries(schools: dict[str, School], db: None) -> None:
    school = schools["se"]
    principal, case = school["principal"], school.case
    before = AuditEntry.objects.count()
    assert principal.get(school.case_url("principal", case)).status_code == 200
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.latest("pk")
    assert (entry.action, entry.object_type, entry.object_ids, entry.person) == (
        "read", "support.case", [case.pk], principal.person)
    assert str(entry.launch_id) == principal.launch_id

    listed = principal.get(school.list_url("principal"))
    assert listed.status_code == 200
    entry = AuditEntry.objects.latest("pk")
    assert entry.action == "list" and case.pk in entry.object_ids

    assert principal.get(school.audit_url("principal")).status_code == 200
    assert AuditEntry.objects.latest("pk").object_type == "support.auditentry"


def test_a_refused_read_writes_no_read_entry(schools: dict[str, School], db: None) -> None:
    school = schools["se"]
    before = AuditEntry.objects.count()
    assert school["outsider_principal"].get(school.case_url("outsider_principal", school.case)).status_code == 404
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize("person", ["principal", "class_teacher", "subject_teacher", "pupil", "guardian",
                                    "special_teacher", "health_team_member", "organisation_admin", "it_admin"])
def test_another_organisations_ids_are_a_404_and_leak_nothing(schools: dict[str, School], db: None,
                                                              person: str) -> None:
    mine, theirs = schools["se"], schools["ax"]
    member = mine[person]
    other_case = theirs.case
    secret = str(other_case.pupil.person.name)
    page = member.get(reverse("frontend:case", args=[member.launch_id, other_case.pk]))
    action = member.post(reverse("frontend:case-action", args=[member.launch_id, other_case.pk, "raise_concern"]),
                         {"text": "Oro"})
    # The other owner's ids in a form about one's own case.
    swapped = member.post(mine.action_url(person, mine.case, "add_follow_up"),
                          {"adaptation": str(theirs.adaptation.pk), "text": "x", "date": "2026-03-02"})
    for response in (page, action):
        assert response.status_code == 404
        assert secret not in response.content.decode()
    assert swapped.status_code in (403, 404)
    assert secret not in swapped.content.decode()
    assert other_case.concerns.count() == 0
