"""Cases, concerns, adaptations, assessments, investigations and transfers."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import audit, policy
from ..actor import Actor
from ..errors import NotAllowed, RuleBroken
from ..models import (
    Adaptation,
    AdaptationFollowUp,
    Assessment,
    Case,
    Concern,
    Investigation,
    Pupil,
    SchoolUnit,
)
from ..pack import get_pack


def _require_text(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise RuleBroken(_("%(what)s cannot be empty.") % {"what": what}, code="empty")
    return text


def case_for(pupil: Pupil, unit: SchoolUnit) -> Case:
    """The pupil's case at the unit, opened at the pack's first level under its current version."""
    pack = get_pack(unit.organisation.pack)
    try:
        with transaction.atomic():
            case, _created = Case.objects.get_or_create(
                pupil=pupil, unit=unit,
                defaults={"pack_id": pack.id, "pack_version": pack.version, "level": pack.levels[0].key},
            )
    except IntegrityError:  # opened at the same moment by someone else
        case = Case.objects.get(pupil=pupil, unit=unit)
    return case


@transaction.atomic
def raise_concern(*, actor: Actor, case: Case, text: str) -> Concern:
    """Anyone the pack lets raise a concern: the pupil, a guardian or staff. Support needs no consent."""
    role = policy.require(actor, "raise_concern", case)
    concern = Concern.objects.create(case=case, raised_by=actor.person, raised_as=role,
                                     text=_require_text(text, _("The concern")))
    audit.record(actor, "concern.raised", concern)
    return concern


@transaction.atomic
def report_to_principal(*, actor: Actor, case: Case, text: str) -> Concern:
    """`se`: a staff member's report that a pupil may need särskilt stöd; the principal must have it investigated."""
    role = policy.require(actor, "report_to_principal", case)
    report = Concern.objects.create(case=case, kind=Concern.Kind.REPORT_TO_PRINCIPAL, raised_by=actor.person,
                                    raised_as=role, text=_require_text(text, _("The report")))
    audit.record(actor, "report_to_principal.made", report)
    return report


@transaction.atomic
def log_adaptation(*, actor: Actor, case: Case, description: str, started_on: date, course: str = "",
                   kind: str = Adaptation.Kind.ADAPTATION, absence_record=None) -> Adaptation:  # type: ignore[no-untyped-def]
    """An extra adaptation or remedial teaching, logged in seconds; no decision, not appealable."""
    policy.require(actor, "log_adaptation", case)
    if kind not in Adaptation.Kind.values:
        raise RuleBroken(_("Unknown kind of adaptation."), code="bad_kind")
    if absence_record is not None and absence_record.case_id != case.pk:
        raise RuleBroken(_("That absence step belongs to another case."), code="other_case")
    adaptation = Adaptation.objects.create(case=case, kind=kind, course=course, started_on=started_on,
                                           description=_require_text(description, _("The adaptation")),
                                           created_by=actor.person, absence_record=absence_record)
    audit.record(actor, "adaptation.logged", adaptation)
    return adaptation


@transaction.atomic
def add_adaptation_follow_up(*, actor: Actor, adaptation: Adaptation, text: str, held_on: date) -> AdaptationFollowUp:
    policy.require(actor, "add_follow_up", adaptation.case)
    if adaptation.ended_on and held_on > adaptation.ended_on:
        raise RuleBroken(_("The adaptation had ended by then."), code="adaptation_ended")
    follow_up = AdaptationFollowUp.objects.create(adaptation=adaptation, held_on=held_on, signed_by=actor.person,
                                                  text=_require_text(text, _("The follow-up")))
    audit.record(actor, "adaptation.followed_up", follow_up)
    return follow_up


@transaction.atomic
def start_assessment(*, actor: Actor, case: Case, text: str = "") -> Assessment:
    """Pedagogisk bedömning: the class teacher initiates it (the special teacher or principal may too)."""
    policy.require(actor, "start_assessment", case)
    assessment = Assessment.objects.create(case=case, started_by=actor.person, text=text)
    audit.record(actor, "assessment.started", assessment)
    return assessment


@transaction.atomic
def process_assessment(*, actor: Actor, assessment: Assessment, recommendation: str) -> Assessment:
    """The elevhälsa processes the assessment and recommends; the principal gets the papers."""
    policy.require(actor, "process_assessment", assessment.case)
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.processed_at is not None:
        raise RuleBroken(_("This assessment has already been processed."), code="already_processed")
    assessment.recommendation = _require_text(recommendation, _("The recommendation"))
    assessment.processed_by = actor.person
    assessment.processed_at = timezone.now()
    assessment.save(update_fields=["recommendation", "processed_by", "processed_at"])
    audit.record(actor, "assessment.processed", assessment)
    return assessment


@transaction.atomic
def request_investigation(*, actor: Actor, case: Case) -> Investigation:
    """The special teacher takes the initiative, the principal requests it (in `se` after a report)."""
    policy.require(actor, "request_investigation", case)
    investigation = Investigation.objects.create(pupil=case.pupil, case=case, requested_by=actor.person)
    audit.record(actor, "investigation.requested", investigation)
    return investigation


@transaction.atomic
def conduct_investigation(*, actor: Actor, investigation: Investigation, mapping: str, assessment: str,
                          conclude: bool = False) -> Investigation:
    """Record the mapping and the pedagogical assessment; a concluded investigation is kept as it is."""
    policy.require(actor, "conduct_investigation", investigation.case)
    investigation = Investigation.objects.select_for_update().get(pk=investigation.pk)
    if investigation.concluded_at is not None:
        raise RuleBroken(_("A concluded investigation is not changed; request a new one."), code="concluded")
    investigation.mapping = mapping
    investigation.assessment = assessment
    investigation.conducted_by = actor.person
    if conclude:
        _require_text(assessment, _("The assessment"))
        investigation.concluded_at = timezone.now()
    investigation.save(update_fields=["mapping", "assessment", "conducted_by", "concluded_at"])
    audit.record(actor, "investigation.concluded" if conclude else "investigation.updated", investigation)
    return investigation


@transaction.atomic
def move_pupil(*, actor: Actor, pupil: Pupil, to_unit: SchoolUnit) -> Case:
    """The pupil changes unit. Plans stay at the old unit (valid only there); its principal gets a
    "decide on closing" item (due.py), never an automatic close. The new unit gets a case, and may
    start a plan from the existing investigation."""
    if to_unit.organisation_id != actor.organisation.pk:
        raise NotAllowed(_("That unit belongs to another school owner."), code="other_organisation")
    if not ({"principal", "organisation_admin"} & actor.roles) or (
            "principal" in actor.roles and "organisation_admin" not in actor.roles
            and not (actor.covers(to_unit) or (pupil.unit_id and actor.covers(pupil.unit_id)))):
        raise NotAllowed(_("Only a principal of either unit or the organisation admin records a move."),
                         code="not_allowed:move_pupil")
    pupil = Pupil.objects.select_for_update().get(pk=pupil.pk)
    if pupil.unit_id == to_unit.pk:
        raise RuleBroken(_("The pupil is already at that unit."), code="same_unit")
    pupil.unit = to_unit
    pupil.school_class = None
    pupil.save(update_fields=["unit", "school_class"])
    case = case_for(pupil, to_unit)
    audit.record(actor, "pupil.moved", case)
    return case


@transaction.atomic
def prepare_level_3(*, actor: Actor, case: Case, text: str) -> "Submission":
    """Åland: the principal prepares and presents the case for the education chief's level-3 decision."""
    from ..models import Submission

    policy.require(actor, "prepare_level_3", case)
    decision_type = next((key for key, spec in get_pack(case.pack_id).decisions.items()
                          if spec.prepared_through == "prepare_level_3"), "")
    submission = Submission.objects.create(case=case, kind=Submission.Kind.PRESENTED, decision_type=decision_type,
                                           text=_require_text(text, _("The presentation")), submitted_by=actor.person)
    audit.record(actor, "case.presented", submission)
    return submission


@transaction.atomic
def request_resources(*, actor: Actor, case: Case, text: str) -> "Submission":
    """Åland level 3: the principal asks for extra resources."""
    from ..models import Submission

    policy.require(actor, "request_resources", case)
    submission = Submission.objects.create(case=case, kind=Submission.Kind.RESOURCES,
                                           text=_require_text(text, _("The request")), submitted_by=actor.person)
    audit.record(actor, "resources.requested", submission)
    return submission
