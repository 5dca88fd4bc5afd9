"""Administration pages: staff roles, courses mapped to units, the welfare group's counts."""

from __future__ import annotations

from django.urls import reverse

from lti_plugin.support.models import CourseMapping, StaffGrant
from lti_plugin.support.services import grants

from .conftest import School


def url(school: School, key: str, name: str, *args: object) -> str:
    return reverse(f"frontend:{name}", args=[school[key].launch_id, *args])


def test_the_principal_gives_and_ends_a_role_at_their_unit(schools: dict[str, School], db: None) -> None:
    school = schools["se"]
    principal = school["principal"]
    page = principal.get(url(school, "principal", "staff")).content.decode()
    assert "Pupil X" not in page  # a pupil is never offered a staff role
    newcomer = school["subject_teacher"].person
    response = principal.post(url(school, "principal", "staff-grant"),
                              {"person": newcomer.pk, "role": "special_teacher", "unit": school.unit.pk})
    assert response.status_code == 302
    grant = StaffGrant.objects.get(person=newcomer, role="special_teacher", revoked_at__isnull=True)
    assert grant.granted_by == principal.person
    # At another unit: refused, nothing given.
    refused = principal.post(url(school, "principal", "staff-grant"),
                             {"person": newcomer.pk, "role": "health_team_member", "unit": school.other_unit.pk})
    assert refused.status_code in (403, 422)
    assert not StaffGrant.objects.filter(person=newcomer, role="health_team_member").exists()
    assert principal.post(url(school, "principal", "staff-revoke", grant.pk)).status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_by == principal.person  # ended, kept


def test_a_grant_form_with_errors_shows_them_by_the_field(schools: dict[str, School], db: None) -> None:
    school = schools["se"]
    response = school["principal"].post(url(school, "principal", "staff-grant"), {"role": "nonsense"})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'aria-describedby="grant-person_error"' in page and "obligatoriskt" in page


def test_a_teacher_has_no_administration(schools: dict[str, School], db: None) -> None:
    school = schools["se"]
    for key in ("subject_teacher", "pupil", "guardian"):
        assert school[key].get(url(school, key, "staff")).status_code == 403


def test_the_organisation_admin_links_a_course_to_a_unit_and_sees_no_pupil(schools: dict[str, School],
                                                                           db: None) -> None:
    school = schools["se"]
    admin = school["organisation_admin"]
    page = admin.get(url(school, "organisation_admin", "staff")).content.decode()
    assert "Personalrum" in page  # a course the tool has seen launches from, not yet linked
    assert "Pupil X" not in page and "Guardian X" not in page
    deployment = school.lms.registration.deployments.get()
    response = admin.post(url(school, "organisation_admin", "course-map"),
                          {"course": f"{deployment.pk}:900", "unit": school.other_unit.pk})
    assert response.status_code == 302
    assert CourseMapping.objects.get(deployment=deployment, context_id="900").unit == school.other_unit


def test_the_communal_welfare_group_sees_counts_and_no_pupil(schools: dict[str, School], db: None) -> None:
    school = schools["fi-2025"]
    member = school["health_team_member"]
    grants.grant_role(actor=school.actor("principal"), person=member.person,
                      role="communal_welfare_group_member", unit=school.unit)
    page = member.get(url(school, "health_team_member", "welfare-group"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Solbackaskolan" in text and "färre än 5" in text
    assert "Pupil X" not in text
    assert school["class_teacher"].get(url(school, "class_teacher", "welfare-group")).status_code == 403
