"""Individual welfare in `fi` packs (seed: stöd och elevvård): the expert group and its record.

Pedagogical support needs no consent. The expert group is convened only with the pupil's or a
guardian's consent, the pupil and guardians always take part, its record exists only with recorded
consent, is readable only by the group's members while consent stands, and is sealed (kept,
unreadable) when consent is withdrawn. The communal welfare group never handles an individual pupil.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import audit, policy
from ..actor import Actor
from ..errors import NotAllowed, RuleBroken
from ..models import Case, Consent, ExpertGroup, ExpertGroupRecord, Person, Pupil, StaffGrant
from .cases import _require_text


def _welfare_pack(actor: Actor) -> None:
    if actor.pack.welfare is None:
        raise RuleBroken(_("This framework has no expert group."), code="no_welfare")


def active_consent(pupil: Pupil) -> Consent | None:
    return pupil.consents.filter(withdrawn_at__isnull=True).order_by("-given_at").first()


@transaction.atomic
def record_consent(*, actor: Actor, case: Case, given_by: str) -> Consent:
    """Staff record the pupil's or a guardian's consent (named) to individual welfare work."""
    _welfare_pack(actor)
    policy.require(actor, "record_consent", case)
    consent = Consent.objects.create(pupil=case.pupil, recorded_by=actor.person,
                                     given_by=_require_text(given_by, _("Who gave consent")))
    audit.record(actor, "consent.recorded", consent)
    return consent


@transaction.atomic
def withdraw_consent(*, actor: Actor, case: Case, consent: Consent) -> Consent:
    """Withdrawn consent seals the expert group's record: kept, but no one reads it."""
    _welfare_pack(actor)
    policy.require(actor, "withdraw_consent", case)
    consent = Consent.objects.select_for_update().filter(pk=consent.pk, pupil=case.pupil).first()
    if consent is None:
        raise RuleBroken(_("That consent is about another pupil."), code="other_pupil")
    if consent.withdrawn_at is not None:
        raise RuleBroken(_("That consent is already withdrawn."), code="already_withdrawn")
    consent.withdrawn_at = timezone.now()
    consent.withdrawal_recorded_by = actor.person
    consent.save(update_fields=["withdrawn_at", "withdrawal_recorded_by"])
    audit.record(actor, "consent.withdrawn", consent)
    return consent


@transaction.atomic
def convene_expert_group(*, actor: Actor, case: Case, members: Iterable[Person]) -> ExpertGroup:
    """Only with consent standing; the pupil and the guardians always take part (recorded as members' duty)."""
    _welfare_pack(actor)
    _require_designated(actor, case, "convene_expert_group")
    consent = active_consent(case.pupil)
    if consent is None:
        raise RuleBroken(_("An expert group is convened only with the pupil's or a guardian's consent."),
                         code="consent_missing")
    group = ExpertGroup.objects.create(pupil=case.pupil, consent=consent, convened_by=actor.person)
    group.members.set([actor.person, *members])
    audit.record(actor, "expert_group.convened", group)
    return group


def _require_designated(actor: Actor, case: Case, action: str) -> None:
    """The pack's `expert_group` scope, which policy.py leaves to this service: a standing grant of the
    expert-group role naming this pupil (before the group exists, that is what makes someone its member)."""
    role = actor.pack.welfare.expert_group_role
    if policy.can(actor, action, case):
        return
    if role in actor.roles and role in actor.pack.roles_for(action) and StaffGrant.objects.filter(
            person=actor.person, role=role, pupil=case.pupil, organisation=actor.organisation,
            revoked_at__isnull=True).exists():
        return
    raise NotAllowed(_("Only someone named to this pupil's expert group may do this."), code=f"not_allowed:{action}")


def _member_with_consent(actor: Actor, group: ExpertGroup, action: str) -> None:
    role = actor.pack.welfare.expert_group_role
    # A member of the group, acting in the expert-group role: another role (principal...) is not enough.
    if not group.members.filter(pk=actor.person.pk).exists() or role not in actor.roles or \
            action not in actor.pack.actions_for(role):
        raise NotAllowed(_("Only the members of this pupil's expert group reach its record."),
                         code=f"not_allowed:{action}")
    # Asked of the database, not the caller's copy of the group: a withdrawal seals at once.
    if not Consent.objects.filter(pk=group.consent_id, withdrawn_at__isnull=True).exists():
        raise RuleBroken(_("Consent has been withdrawn: the expert group's record is sealed."), code="sealed",
                         status=403)


@transaction.atomic
def write_expert_group_record(*, actor: Actor, group: ExpertGroup, text: str) -> ExpertGroupRecord:
    _welfare_pack(actor)
    _member_with_consent(actor, group, "write_expert_group_record")
    record = ExpertGroupRecord.objects.create(group=group, written_by=actor.person,
                                              text=_require_text(text, _("The record")))
    audit.record(actor, "expert_group.record_written", record)
    return record


def read_expert_group_records(*, actor: Actor, group: ExpertGroup) -> list[ExpertGroupRecord]:
    """The record, for the group's members while consent stands; every read is logged."""
    _welfare_pack(actor)
    _member_with_consent(actor, group, "read_expert_group_record")
    records = list(group.records.order_by("written_at"))
    audit.record_read(actor, group)
    return records
