"""Reaching a case: out of scope is a 404, like a missing one; every read is logged."""

from __future__ import annotations

import pytest
from django.http import Http404

from lti_plugin.support import policy
from lti_plugin.support.models import AuditEntry


def test_a_principal_reads_a_case_at_their_unit_and_the_read_is_logged(se):
    case = se.case()
    principal = se.actor("principal")
    assert policy.access_case(principal, case.pk) == case
    entry = AuditEntry.objects.get(action="read", object_type="support.case")
    assert entry.object_ids == [case.pk] and entry.person == principal.person and entry.unit == se.unit


def test_a_case_at_another_unit_is_a_404_and_leaves_no_read(se):
    case = se.case()
    outsider = se.actor("principal", unit=se.other_unit)
    with pytest.raises(Http404):
        policy.access_case(outsider, case.pk)
    with pytest.raises(Http404):
        policy.access_case(outsider, 999_999)
    assert not AuditEntry.objects.filter(action="read").exists()


def test_a_pupil_reaches_their_own_case_only(se):
    mine, theirs = se.case(se.pupil("Elsa")), se.case(se.pupil("Noah"))
    pupil = se.pupil_actor(mine.pupil)
    assert policy.access_case(pupil, mine.pk) == mine
    with pytest.raises(Http404):
        policy.access_case(pupil, theirs.pk)


def test_the_organisation_and_it_admins_reach_no_pupil(se):
    case = se.case()
    for role in ("organisation_admin", "it_admin"):
        with pytest.raises(Http404):
            policy.access_case(se.actor(role), case.pk)


def test_the_principal_reads_the_units_audit_log_by_pupil_or_by_person(se):
    from lti_plugin.support import queries
    from lti_plugin.support.errors import NotAllowed
    from lti_plugin.support.services import cases

    elsa, noah = se.case(se.pupil("Elsa")), se.case(se.pupil("Noah"))
    teacher, principal = se.actor("class_teacher"), se.actor("principal")
    cases.raise_concern(actor=teacher, case=elsa, text="Oro för läsningen")
    policy.access_case(principal, noah.pk)
    elsewhere = se.actor("principal", unit=se.other_unit)

    by_pupil = queries.audit_log_for(principal, pupil_id=elsa.pupil_id)
    assert [entry.action for entry in by_pupil] == ["concern.raised"]
    by_person = queries.audit_log_for(principal, person_id=principal.person.pk)
    assert [(entry.action, entry.pupil_id) for entry in by_person] == [("read", noah.pupil_id)]
    assert not queries.audit_log_for(elsewhere).exists()  # another unit's principal sees none of it
    with pytest.raises(NotAllowed):
        queries.audit_log_for(teacher)


def test_the_education_chief_sees_a_case_once_the_principal_presents_it_for_level_3(ax):
    from lti_plugin.support.services import cases

    case = ax.case()
    chief = ax.actor("education_chief")
    with pytest.raises(Http404):  # level 1, nothing presented: not the chief's case
        policy.access_case(chief, case.pk)
    cases.prepare_level_3(actor=ax.actor("principal"), case=case, text="Behov av mångprofessionellt stöd")
    assert policy.access_case(chief, case.pk) == case
