"""The daily digest (manage.py send_due_digest): one email a day to each staff member with things due.

Staff are the people with standing StaffGrant rows (actor_from_grants); mail goes to Django's
locmem backend (mail.outbox). The email says what is due and when, never who or what about.
"""

from __future__ import annotations

import smtplib
from datetime import date, datetime, timedelta, timezone
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from lti_plugin.support.actor import Actor, actor_from_grants
from lti_plugin.support.management.commands import send_due_digest
from lti_plugin.support.models import DigestSent, Person, Plan, SchoolClass, SchoolUnit, StaffGrant
from lti_plugin.support.services import absence, cases, decisions, plans
from lti_plugin.support.services.due import due_for
from lti_plugin.support.services.plans import MeasureInput
from tests.support.conftest import School, make_school

DECIDED_ON = date(2026, 1, 12)
DAY = date(2026, 3, 2)  # the follow-up decided on DECIDED_ON is overdue by then
PUPIL = "Elsa Exempelsson"
CASE_TEXTS = ("Läsförståelse", "Läsning med stöd av inläst text", "Elsa har svårt med läsningen",
              "Föräldrarna oroliga")


@pytest.fixture(autouse=True)
def locmem_email(settings):  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, tzinfo=timezone.utc)


def staff(school: School, role: str, email: str = "", *, unit: SchoolUnit | None = None,
          school_class: SchoolClass | None = None) -> Actor:
    """A staff member as the digest sees them: a person with an address and a standing grant for a
    unit (the school's by default) or, for a class teacher, a class."""
    person = school.person(f"{role} ({email or 'no email'})")
    person.email = email
    person.save(update_fields=["email"])
    StaffGrant.objects.create(person=person, role=role, organisation=school.organisation,
                              unit=None if school_class else unit or school.unit, school_class=school_class,
                              granted_by=grantor(school))
    return actor_from_grants(person)


def grantor(school: School) -> Person:
    return school.people.get("grantor") or school.person("grantor")


def plan_in_force(school: School, teacher: Actor, principal: Actor) -> Plan:
    """Elsa's ÅP, decided on DECIDED_ON: its follow-up falls due 30 days later."""
    pupil = school.pupil(PUPIL)
    case = school.case(pupil)
    with time_machine.travel(noon(DECIDED_ON), tick=False):
        cases.raise_concern(actor=teacher, case=case, text=CASE_TEXTS[2])
        plan = plans.draft_plan(actor=teacher, case=case, document="action_plan", needs=[CASE_TEXTS[0]],
                                measures=[MeasureInput(CASE_TEXTS[1], teacher.person, DECIDED_ON, date(2026, 5, 29))])
        plans.record_hearing(actor=principal, case=case, plan=plan, held_on=DECIDED_ON, pupil_heard=True,
                             guardians_heard=True, summary=CASE_TEXTS[3])
        decisions.decide_new_plan(actor=principal, plan=plan, grounds="Behov av särskilt stöd")
    plan.refresh_from_db()
    return plan


def digest(day: date | None = None) -> str:
    out = StringIO()
    with time_machine.travel(noon(day or DAY), tick=False):
        call_command("send_due_digest", stdout=out, stderr=StringIO())
    return out.getvalue()


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def test_one_email_per_staff_member_with_things_due(se):
    teacher = staff(se, "class_teacher", "klasslarare@skola.example")
    special = staff(se, "special_teacher", "speciallarare@skola.example")
    principal = staff(se, "principal", "rektor@skola.example")
    staff(se, "health_team_member")  # things due (the evaluation) but no address
    plan_in_force(se, teacher, principal)
    assert due_for(principal, today=DAY) == []
    output = digest()
    assert recipients() == ["klasslarare@skola.example", "speciallarare@skola.example"]
    assert all(len(message.to) == 1 for message in mail.outbox)
    for actor in (teacher, special):
        [message] = [m for m in mail.outbox if m.to == [actor.person.email]]
        items = due_for(actor, today=DAY)
        assert [item.kind for item in items] == ["follow_up", "evaluation"]
        assert len(message.body.splitlines()) == len(items) == 2
        assert str(len(items)) in message.subject
        assert "2026-02-11" in message.body  # the follow-up's date (and it is overdue)
    assert set(DigestSent.objects.values_list("person__email", "day", "items")) == {
        ("klasslarare@skola.example", DAY, 2), ("speciallarare@skola.example", DAY, 2)}
    assert "Digests sent: 2" in output


def test_the_email_names_no_pupil_and_quotes_no_case_text(se):
    teacher = staff(se, "class_teacher", "klasslarare@skola.example")
    plan_in_force(se, teacher, se.actor("principal"))
    digest()
    [message] = mail.outbox
    for text in (PUPIL, "Elsa", "Exempelsson", *CASE_TEXTS):
        assert text not in message.subject
        assert text not in message.body
        assert all(text not in str(value) for value in message.extra_headers.values())


def test_running_twice_the_same_day_sends_nothing_the_second_time(se):
    teacher = staff(se, "class_teacher", "klasslarare@skola.example")
    plan_in_force(se, teacher, se.actor("principal"))
    digest()
    assert len(mail.outbox) == 1
    output = digest()
    assert len(mail.outbox) == 1
    assert "already sent today: 1" in output
    assert DigestSent.objects.count() == 1


def test_the_next_day_sends_again(se):
    teacher = staff(se, "class_teacher", "klasslarare@skola.example")
    plan_in_force(se, teacher, se.actor("principal"))
    digest()
    digest(DAY + timedelta(days=1))
    assert recipients() == ["klasslarare@skola.example"] * 2
    assert sorted(DigestSent.objects.values_list("day", flat=True)) == [DAY, DAY + timedelta(days=1)]


def test_the_day_can_be_given(se):
    teacher = staff(se, "class_teacher", "klasslarare@skola.example")
    plan_in_force(se, teacher, se.actor("principal"))
    with time_machine.travel(noon(DAY), tick=False):
        call_command("send_due_digest", "--date", "2026-03-05", stdout=StringIO())
        call_command("send_due_digest", stdout=StringIO())
    assert len(mail.outbox) == 2
    assert sorted(DigestSent.objects.values_list("day", flat=True)) == [DAY, date(2026, 3, 5)]


def test_people_without_items_get_no_email(se):
    teacher = staff(se, "class_teacher", "klasslarare@skola.example")
    plan_in_force(se, teacher, se.actor("principal"))
    StaffGrant.objects.filter(person=teacher.person).update(revoked_at=noon(DECIDED_ON))  # no longer staff there
    staff(se, "class_teacher", "annan.enhet@skola.example", unit=se.other_unit)
    staff(se, "organisation_admin", "admin@kommun.example")
    staff(se, "principal", "rektor@skola.example")
    digest()
    assert mail.outbox == []
    assert not DigestSent.objects.exists()


def test_the_digest_reads_the_list_of_staff_only(se, monkeypatch):
    """Pupils and guardians with an address hold no grant: their lists are not even computed."""
    teacher = staff(se, "class_teacher", "klasslarare@skola.example")
    plan_in_force(se, teacher, se.actor("principal"))
    for name in ("Elev med adress", "Vårdnadshavare med adress"):
        person = se.person(name)
        person.email = f"{name.split()[0].lower()}@hem.example"
        person.save(update_fields=["email"])
    asked: list[str] = []
    real_due_for = send_due_digest.due_for
    monkeypatch.setattr(send_due_digest, "due_for",
                        lambda actor, **kwargs: asked.append(actor.person.email) or real_due_for(actor, **kwargs))
    digest()
    assert asked == ["klasslarare@skola.example"]
    assert recipients() == ["klasslarare@skola.example"]


def test_a_revoked_grant_counts_for_nothing_beside_a_standing_one(se):
    teacher = staff(se, "class_teacher", "klasslarare@skola.example")
    plan_in_force(se, teacher, se.actor("principal"))
    StaffGrant.objects.filter(person=teacher.person).update(revoked_at=noon(DECIDED_ON))
    StaffGrant.objects.create(person=teacher.person, role="special_teacher", organisation=se.organisation,
                              unit=se.other_unit, granted_by=grantor(se))
    assert actor_from_grants(teacher.person).roles == {"special_teacher"}
    digest()
    assert mail.outbox == []


def test_a_class_teacher_by_a_class_grant_gets_the_digest(se):
    teacher = staff(se, "class_teacher", "klasslarare@skola.example", school_class=se.school_class)
    # Named for a class: reaches that class, not the whole unit (DESIGN.md: "their class").
    assert teacher.classes == {se.school_class.pk} and not teacher.covers(se.unit, "class_teacher")
    plan_in_force(se, teacher, se.actor("principal"))
    digest()
    assert recipients() == ["klasslarare@skola.example"]


def test_a_role_covers_only_the_units_it_was_granted_for(se):
    # Principal at Ekskolan, class teacher at Solbackaskolan: no principal's decision at Solbackaskolan.
    person = staff(se, "principal", "dubbelroll@skola.example", unit=se.other_unit).person
    StaffGrant.objects.create(person=person, role="class_teacher", organisation=se.organisation, unit=se.unit,
                              granted_by=grantor(se))
    both = actor_from_grants(person)
    assert both.roles == {"principal", "class_teacher"}
    teacher = se.actor("class_teacher")
    plan = plan_in_force(se, teacher, se.actor("principal"))
    plans.record_evaluation(actor=teacher, plan=plan, text="Utvärderad", evaluated_on=date(2026, 2, 20))
    absence.start_absence_step(actor=teacher, case=plan.case, step=1, started_on=date(2026, 2, 23))
    assert [item.kind for item in due_for(both, today=DAY)] == ["absence_follow_up"]
    digest()
    [message] = mail.outbox
    assert len(message.body.splitlines()) == 1


def test_an_expert_group_naming_alone_sends_no_digest(db):
    fi = make_school("fi-2025")
    person = fi.person("kurator")
    person.email = "kurator@skola.example"
    person.save(update_fields=["email"])
    StaffGrant.objects.create(person=person, role="expert_group_member", organisation=fi.organisation,
                              pupil=fi.pupil(), granted_by=grantor(fi))
    assert actor_from_grants(person).roles == frozenset()
    digest()
    assert mail.outbox == []


def test_a_refused_address_does_not_stop_the_others_and_is_tried_again(se, monkeypatch):
    first = staff(se, "class_teacher", "trasig@skola.example")
    second = staff(se, "special_teacher", "speciallarare@skola.example")
    plan_in_force(se, first, se.actor("principal"))
    real_send_mail = send_due_digest.send_mail

    def smtp(subject, body, sender, to):  # type: ignore[no-untyped-def]
        if to == ["trasig@skola.example"]:  # the mail server refuses this one address
            raise smtplib.SMTPRecipientsRefused({to[0]: (550, b"no such user")})
        return real_send_mail(subject, body, sender, to)

    monkeypatch.setattr(send_due_digest, "send_mail", smtp)
    output = digest()
    assert recipients() == [second.person.email]
    assert "failed: 1" in output
    assert list(DigestSent.objects.values_list("person", flat=True)) == [second.person.pk]
    monkeypatch.setattr(send_due_digest, "send_mail", real_send_mail)
    digest()
    assert recipients() == ["speciallarare@skola.example", "trasig@skola.example"]
