"""Staff grants: who gives which role, never to themselves, dated and revocable, within the owner."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from lti_plugin.support.actor import actor_from_grants
from lti_plugin.support.errors import NotAllowed, RuleBroken
from lti_plugin.support.models import AuditEntry, StaffGrant
from lti_plugin.support.services import grants

from .conftest import make_school


@pytest.fixture
def org_admin(se):
    person = se.person("Olle Organisationsadmin")
    grants.name_first_organisation_admin(organisation=se.organisation, person=person)
    return actor_from_grants(person)


def test_the_operator_names_the_first_organisation_admin_by_command(se):
    out = StringIO()
    call_command("name_organisation_admin", organisation=str(se.organisation.pk), issuer="https://moodle.example.edu",
                 sub="7", name="Ada Admin", stdout=out)
    grant = StaffGrant.objects.get(role="organisation_admin")
    assert grant.person.sub == "7" and grant.granted_by is None
    assert "organisation admin" in out.getvalue()


def test_the_organisation_admin_names_a_principal_who_names_the_units_staff(se, org_admin):
    principal_person = se.person("Petra Rektor")
    grants.grant_role(actor=org_admin, person=principal_person, role="principal", unit=se.unit)
    principal = actor_from_grants(principal_person)
    teacher = se.person("Tove Lärare")

    grant = grants.grant_role(actor=principal, person=teacher, role="class_teacher", school_class=se.school_class)

    assert grant.granted_by == principal_person and grant.unit == se.unit
    assert AuditEntry.objects.filter(action="grant.class_teacher", object_ids=[grant.pk]).exists()
    assert "class_teacher" in actor_from_grants(teacher).roles


def test_nobody_grants_a_role_to_themselves(se, org_admin):
    with pytest.raises(NotAllowed) as refused:
        grants.grant_role(actor=org_admin, person=org_admin.person, role="principal", unit=se.unit)
    assert refused.value.code == "self_grant"
    assert not StaffGrant.objects.filter(role="principal").exists()


def test_a_principal_gives_roles_only_at_their_own_unit_and_not_principal(se, org_admin):
    principal_person = se.person("Petra Rektor")
    grants.grant_role(actor=org_admin, person=principal_person, role="principal", unit=se.unit)
    principal = actor_from_grants(principal_person)
    with pytest.raises(NotAllowed) as other_unit:
        grants.grant_role(actor=principal, person=se.person("S"), role="special_teacher", unit=se.other_unit)
    assert other_unit.value.code == "other_unit"
    with pytest.raises(NotAllowed):
        grants.grant_role(actor=principal, person=se.person("P2"), role="principal", unit=se.unit)
    with pytest.raises(NotAllowed):  # a teacher gives no roles
        grants.grant_role(actor=se.actor("class_teacher"), person=se.person("X"), role="special_teacher",
                          unit=se.unit)


def test_roles_from_the_platform_are_not_granted(se, org_admin):
    with pytest.raises(RuleBroken) as refused:
        grants.grant_role(actor=org_admin, person=se.person("Y"), role="it_admin")
    assert refused.value.code == "not_grantable"


def test_a_revoked_grant_is_kept_dated_and_no_longer_counts(se, org_admin):
    person = se.person("Petra Rektor")
    grant = grants.grant_role(actor=org_admin, person=person, role="principal", unit=se.unit)
    grants.revoke_grant(actor=org_admin, grant=grant)
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_by == org_admin.person
    assert "principal" not in actor_from_grants(person).roles
    with pytest.raises(RuleBroken):
        grants.revoke_grant(actor=org_admin, grant=grant)


def test_a_delegate_exists_only_where_the_pack_has_one(ax):
    admin_person = ax.person("Admin")
    grants.name_first_organisation_admin(organisation=ax.organisation, person=admin_person)
    principal_person = ax.person("Rektor")
    grants.grant_role(actor=actor_from_grants(admin_person), person=principal_person, role="principal", unit=ax.unit)
    with pytest.raises(RuleBroken) as refused:
        grants.grant_role(actor=actor_from_grants(principal_person), person=ax.person("D"),
                          role="principal_delegate", unit=ax.unit)
    assert refused.value.code == "unknown_role"


def test_expert_group_members_are_named_per_pupil_only_while_consent_stands(db):
    from lti_plugin.support.services import welfare

    school = make_school("fi-2025")
    admin_person = school.person("Admin")
    grants.name_first_organisation_admin(organisation=school.organisation, person=admin_person)
    principal_person = school.person("Rektor")
    grants.grant_role(actor=actor_from_grants(admin_person), person=principal_person, role="principal",
                      unit=school.unit)
    principal = actor_from_grants(principal_person)
    case = school.case()
    with pytest.raises(RuleBroken) as refused:
        grants.grant_role(actor=principal, person=school.person("Kurator"), role="expert_group_member",
                          pupil=case.pupil)
    assert refused.value.code == "consent_missing"
    welfare.record_consent(actor=principal, case=case, given_by="Vårdnadshavaren Anna")
    grant = grants.grant_role(actor=principal, person=school.person("Kurator"), role="expert_group_member",
                              pupil=case.pupil)
    assert grant.pupil == case.pupil
