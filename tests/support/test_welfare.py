"""Individual welfare in the Finnish packs (seed: stöd och elevvård): consent, the expert group, its record.

Pedagogical support needs no consent; the expert group is convened only with consent; its record is
read and written only by the group's members in the expert-group role while consent stands, and is
sealed (kept, unreadable) when consent is withdrawn. The communal welfare group reaches no pupil.
"""

from __future__ import annotations

from datetime import date

import pytest

from lti_plugin.support import policy
from lti_plugin.support.actor import Actor
from lti_plugin.support.errors import NotAllowed, RuleBroken
from lti_plugin.support.models import (
    AuditEntry,
    Case,
    Concern,
    Consent,
    ExpertGroup,
    ExpertGroupRecord,
    Person,
    Plan,
    StaffGrant,
)
from lti_plugin.support.pack import get_pack
from lti_plugin.support.queries import cases_visible_to
from lti_plugin.support.services import absence, cases, plans, welfare
from lti_plugin.support.services.plans import MeasureInput
from tests.support.conftest import School, make_school

RECORD_TEXT = "Kuratorn och hälsovårdaren träffar Elsa varannan vecka."


@pytest.fixture(params=["fi-2025", "fi-2010"])
def fi(request, db) -> School:
    return make_school(request.param)


def expert(school: School, case: Case, *, role: str = "expert_group_member") -> Actor:
    """A staff member the principal has named to this pupil's expert group (a grant naming the pupil)."""
    person = school.person(f"{role} named to the group")
    StaffGrant.objects.create(person=person, role="expert_group_member", organisation=school.organisation,
                              pupil=case.pupil, granted_by=school.actor("principal").person)
    return school.actor(role, person=person)


def with_consent(school: School, case: Case) -> Consent:
    return welfare.record_consent(actor=school.actor("class_teacher"), case=case, given_by="Vårdnadshavare Eva")


def convened(school: School, case: Case, *others: Actor) -> tuple[ExpertGroup, Actor]:
    """An expert group convened with consent; the convener and `others` are its members."""
    with_consent(school, case)
    convener = expert(school, case)
    group = welfare.convene_expert_group(actor=convener, case=case, members=[o.person for o in others])
    return group, convener


def written() -> tuple[int, int, int]:
    return Consent.objects.count(), ExpertGroup.objects.count(), ExpertGroupRecord.objects.count()


# --- consent is for individual welfare, never for pedagogical support ----------------------------------


def test_pedagogical_support_needs_no_consent(fi):
    pupil = fi.pupil()
    case = fi.case(pupil)
    teacher = fi.actor("class_teacher")
    pack = get_pack(case.pack_id)
    assert pack.welfare is not None and not pack.welfare.consent_needed_for_pedagogical_support
    concern = cases.raise_concern(actor=teacher, case=case, text="Elsa behöver stöd i matematik")
    cases.raise_concern(actor=fi.guardian_actor(pupil), case=case, text="Vi är oroliga")
    cases.log_adaptation(actor=teacher, case=case, description="Stödundervisning i matematik",
                         started_on=date(2026, 3, 2))
    document = next(key for key in pack.level_by_rank(2).documents if pack.document(key).draft_action == "draft_plan")
    plan = plans.draft_plan(actor=fi.actor("special_teacher"), case=case, document=document, needs=["Taluppfattning"],
                            measures=[MeasureInput("Stöd av speciallärare", teacher.person, date(2026, 3, 2),
                                                   date(2026, 5, 29))])
    assert concern.pk and plan.status == Plan.Status.DRAFT
    assert Concern.objects.filter(case=case).count() == 2
    assert not Consent.objects.exists()


# --- the expert group is convened only with consent --------------------------------------------------------


def test_no_expert_group_without_consent(fi):
    case = fi.case()
    member = expert(fi, case)
    with pytest.raises(RuleBroken) as refused:
        welfare.convene_expert_group(actor=member, case=case, members=[])
    assert refused.value.code == "consent_missing"
    assert written() == (0, 0, 0)


def test_with_consent_the_expert_group_is_convened(fi):
    case = fi.case()
    consent = with_consent(fi, case)
    assert (consent.given_by, consent.stands) == ("Vårdnadshavare Eva", True)
    member, kurator = expert(fi, case), expert(fi, case)
    group = welfare.convene_expert_group(actor=member, case=case, members=[kurator.person])
    assert (group.pupil, group.consent, group.convened_by) == (case.pupil, consent, member.person)
    assert set(group.members.all()) == {member.person, kurator.person}
    assert AuditEntry.objects.filter(action="expert_group.convened", object_ids=[group.pk]).count() == 1


def test_withdrawn_consent_convenes_no_new_group(fi):
    case = fi.case()
    consent = with_consent(fi, case)
    welfare.withdraw_consent(actor=fi.actor("principal"), case=case, consent=consent)
    with pytest.raises(RuleBroken) as refused:
        welfare.convene_expert_group(actor=expert(fi, case), case=case, members=[])
    assert refused.value.code == "consent_missing"
    assert not ExpertGroup.objects.exists()


def test_consent_for_another_pupil_convenes_nothing(fi):
    case, other = fi.case(), fi.case(fi.pupil("Olle Annansson"))
    with_consent(fi, other)
    with pytest.raises(RuleBroken) as refused:
        welfare.convene_expert_group(actor=expert(fi, case), case=case, members=[])
    assert refused.value.code == "consent_missing"
    assert not ExpertGroup.objects.exists()


@pytest.mark.parametrize("role", ["principal", "special_teacher", "class_teacher", "health_team_member",
                                  "expert_group_member"])
def test_only_someone_named_to_the_pupil_s_group_convenes_it(fi, role):
    case, other = fi.case(), fi.case(fi.pupil("Olle Annansson"))
    with_consent(fi, case)
    before = written()
    # `expert_group_member` here is named to another pupil's group, not this one's.
    actor = expert(fi, other) if role == "expert_group_member" else fi.actor(role)
    with pytest.raises(NotAllowed):
        welfare.convene_expert_group(actor=actor, case=case, members=[])
    assert written() == before


def test_a_revoked_naming_convenes_nothing(fi):
    case = fi.case()
    with_consent(fi, case)
    member = expert(fi, case)
    StaffGrant.objects.filter(person=member.person).update(revoked_at="2026-03-01T10:00:00Z")
    with pytest.raises(NotAllowed):
        welfare.convene_expert_group(actor=member, case=case, members=[])
    assert not ExpertGroup.objects.exists()


# --- the record: members only, every read logged ------------------------------------------------------------


def test_members_write_and_read_the_record_and_every_read_is_logged(fi):
    case = fi.case()
    kurator = expert(fi, case)
    group, convener = convened(fi, case, kurator)
    record = welfare.write_expert_group_record(actor=convener, group=group, text=RECORD_TEXT)
    assert (record.written_by, record.text) == (convener.person, RECORD_TEXT)
    reads = AuditEntry.objects.filter(action="read", object_type="support.expertgroup", object_ids=[group.pk])
    for reader, count in ((kurator, 1), (convener, 2), (kurator, 3)):
        assert welfare.read_expert_group_records(actor=reader, group=group) == [record]
        assert reads.count() == count
        assert reads.order_by("-at", "-pk").first().person == reader.person  # type: ignore[union-attr]


@pytest.mark.parametrize("role", ["principal", "special_teacher", "class_teacher", "health_team_member",
                                  "education_chief", "communal_welfare_group_member"])
def test_staff_outside_the_group_neither_read_nor_write(fi, role):
    case = fi.case()
    group, convener = convened(fi, case)
    welfare.write_expert_group_record(actor=convener, group=group, text=RECORD_TEXT)
    outsider = fi.actor(role)
    before, audited = written(), AuditEntry.objects.count()
    with pytest.raises(NotAllowed):
        welfare.read_expert_group_records(actor=outsider, group=group)
    with pytest.raises(NotAllowed):
        welfare.write_expert_group_record(actor=outsider, group=group, text="Anteckning")
    assert (written(), AuditEntry.objects.count()) == (before, audited)


def test_a_member_of_another_pupil_s_group_does_not_reach_this_one(fi):
    case, other = fi.case(), fi.case(fi.pupil("Olle Annansson"))
    group, _ = convened(fi, case)
    _, other_convener = convened(fi, other)
    with pytest.raises(NotAllowed):
        welfare.read_expert_group_records(actor=other_convener, group=group)


@pytest.mark.parametrize("role", ["principal", "special_teacher", "health_team_member"])
def test_being_listed_in_the_group_is_not_enough_without_the_expert_group_role(fi, role):
    case = fi.case()
    staff = fi.actor(role)
    group, convener = convened(fi, case, staff)  # the convener listed them, but they act as `role`
    welfare.write_expert_group_record(actor=convener, group=group, text=RECORD_TEXT)
    before = written()
    with pytest.raises(NotAllowed):
        welfare.read_expert_group_records(actor=staff, group=group)
    with pytest.raises(NotAllowed):
        welfare.write_expert_group_record(actor=staff, group=group, text="Anteckning")
    assert written() == before


def test_pupil_and_guardian_do_not_read_the_record_through_the_tool(fi):
    pupil = fi.pupil()
    case = fi.case(pupil)
    group, _ = convened(fi, case)
    for actor in (fi.pupil_actor(pupil), fi.guardian_actor(pupil)):
        with pytest.raises(NotAllowed):
            welfare.read_expert_group_records(actor=actor, group=group)


# --- withdrawn consent seals the record --------------------------------------------------------------------


def test_withdrawn_consent_seals_the_record_and_keeps_it(fi):
    case = fi.case()
    kurator = expert(fi, case)
    group, convener = convened(fi, case, kurator)
    welfare.write_expert_group_record(actor=convener, group=group, text=RECORD_TEXT)
    welfare.write_expert_group_record(actor=kurator, group=group, text="Uppföljning")
    welfare.withdraw_consent(actor=fi.actor("class_teacher"), case=case, consent=group.consent)
    before, reads = written(), AuditEntry.objects.filter(action="read").count()
    for member in (convener, kurator):
        with pytest.raises(RuleBroken) as refused:
            welfare.read_expert_group_records(actor=member, group=group)
        assert refused.value.code == "sealed"
        with pytest.raises(RuleBroken) as refused:
            welfare.write_expert_group_record(actor=member, group=group, text="Efter återkallandet")
        assert refused.value.code == "sealed"
    assert written() == before
    assert ExpertGroupRecord.objects.filter(group=group).count() == 2  # kept, not deleted
    assert AuditEntry.objects.filter(action="read").count() == reads
    assert AuditEntry.objects.filter(action="consent.withdrawn").count() == 1


def test_new_consent_does_not_unseal_the_old_record(fi):
    case = fi.case()
    group, convener = convened(fi, case)
    welfare.write_expert_group_record(actor=convener, group=group, text=RECORD_TEXT)
    welfare.withdraw_consent(actor=fi.actor("principal"), case=case, consent=group.consent)
    with_consent(fi, case)
    with pytest.raises(RuleBroken) as refused:
        welfare.read_expert_group_records(actor=convener, group=group)
    assert refused.value.code == "sealed"
    new_group = welfare.convene_expert_group(actor=convener, case=case, members=[])
    assert welfare.read_expert_group_records(actor=convener, group=new_group) == []


def test_consent_is_withdrawn_once(fi):
    case = fi.case()
    consent = with_consent(fi, case)
    welfare.withdraw_consent(actor=fi.actor("principal"), case=case, consent=consent)
    consent.refresh_from_db()
    withdrawn_at = consent.withdrawn_at
    with pytest.raises(RuleBroken) as refused:
        welfare.withdraw_consent(actor=fi.actor("class_teacher"), case=case, consent=consent)
    assert refused.value.code == "already_withdrawn"
    consent.refresh_from_db()
    assert consent.withdrawn_at == withdrawn_at


def test_a_consent_is_withdrawn_only_on_its_own_pupil_s_case(fi):
    case, other = fi.case(), fi.case(fi.pupil("Olle Annansson"))
    consent = with_consent(fi, other)
    with pytest.raises(RuleBroken) as refused:
        welfare.withdraw_consent(actor=fi.actor("principal"), case=case, consent=consent)
    assert refused.value.code == "other_pupil"
    consent.refresh_from_db()
    assert consent.stands


def test_consent_needs_a_name(fi):
    with pytest.raises(RuleBroken) as refused:
        welfare.record_consent(actor=fi.actor("class_teacher"), case=fi.case(), given_by="  ")
    assert refused.value.code == "empty"
    assert not Consent.objects.exists()


@pytest.mark.parametrize("who", ["pupil", "guardian", "it_admin", "organisation_admin"])
def test_consent_is_recorded_by_staff(fi, who):
    pupil = fi.pupil()
    case = fi.case(pupil)
    actor = {"pupil": fi.pupil_actor, "guardian": fi.guardian_actor}.get(who, lambda _: fi.actor(who))(pupil)
    with pytest.raises(NotAllowed):
        welfare.record_consent(actor=actor, case=case, given_by="Elsa")
    assert not Consent.objects.exists()


# --- the communal welfare group never handles an individual pupil ------------------------------------------


def test_the_communal_welfare_group_reaches_no_pupil(fi):
    pupil = fi.pupil()
    case = fi.case(pupil)
    group, convener = convened(fi, case)
    welfare.write_expert_group_record(actor=convener, group=group, text=RECORD_TEXT)
    pack = get_pack(case.pack_id)
    role = pack.welfare.communal_welfare_group_role  # type: ignore[union-attr]
    assert role == "communal_welfare_group_member" and not pack.role(role).pupil_data
    member = fi.actor(role)
    # Every action of the matrix, on this pupil's case: none, not even with consent standing.
    assert [action for action in sorted(pack.actions) if policy.can(member, action, case)] == []
    assert list(cases_visible_to(member)) == []
    before, audited = written(), AuditEntry.objects.count()
    calls = [
        lambda: cases.raise_concern(actor=member, case=case, text="Oro"),
        lambda: cases.log_adaptation(actor=member, case=case, description="Anpassning", started_on=date(2026, 3, 2)),
        lambda: cases.start_assessment(actor=member, case=case),
        lambda: welfare.record_consent(actor=member, case=case, given_by="Elsa"),
        lambda: welfare.withdraw_consent(actor=member, case=case, consent=group.consent),
        lambda: welfare.convene_expert_group(actor=member, case=case, members=[]),
        lambda: welfare.read_expert_group_records(actor=member, group=group),
        lambda: welfare.write_expert_group_record(actor=member, group=group, text="Anteckning"),
        lambda: absence.start_absence_step(actor=member, case=case, step=1, started_on=date(2026, 3, 2)),
        lambda: absence.record_report_to_social_services(actor=member, pupil=pupil, case=case, text="Oro"),
    ]
    for call in calls:
        with pytest.raises(NotAllowed):
            call()
    assert (written(), AuditEntry.objects.count()) == (before, audited)


def test_a_communal_welfare_group_member_listed_in_a_group_still_reads_nothing(fi):
    case = fi.case()
    member = fi.actor("communal_welfare_group_member")
    group, _ = convened(fi, case, member)
    with pytest.raises(NotAllowed):
        welfare.read_expert_group_records(actor=member, group=group)


# --- Sweden and Åland have no expert group --------------------------------------------------------------------


@pytest.mark.parametrize("pack", ["se", "ax"])
def test_se_and_ax_have_no_expert_group(db, pack):
    school = make_school(pack)
    case = school.case()
    assert get_pack(pack).welfare is None
    member = school.actor("expert_group_member")
    with pytest.raises(RuleBroken) as refused:
        welfare.record_consent(actor=school.actor("principal"), case=case, given_by="Elsa")
    assert refused.value.code == "no_welfare"
    with pytest.raises(RuleBroken) as refused:
        welfare.convene_expert_group(actor=member, case=case, members=[Person.objects.first()])
    assert refused.value.code == "no_welfare"
    assert written() == (0, 0, 0)
