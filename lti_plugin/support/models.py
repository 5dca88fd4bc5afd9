"""The domain's rows and the constraints the database can hold. Workflows live in services/.

Nothing here is hard-deleted in normal use (foreign keys PROTECT); decisions are immutable; every
change to a plan is kept in PlanRevision. Words follow the glossary in DESIGN.md.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyQuerySet(models.QuerySet):
    """Rows that are never changed or removed: bulk update and delete are refused too."""

    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError(f"{self.model.__name__} rows are immutable.")

    def delete(self):  # type: ignore[no-untyped-def]
        raise ValueError(f"{self.model.__name__} rows are never deleted.")

    _raw_delete = delete


class Organisation(models.Model):
    """A school owner (municipality or independent provider): owns registrations and picks a pack."""

    name = models.CharField(_("name"), max_length=200)
    # The framework pack (se, ax, fi-2010, fi-2025); support/packs/ holds them as data files.
    pack = models.CharField(_("framework pack"), max_length=20, default="se")
    absence_ladder = models.CharField(max_length=40, default="absence-danderyd")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class SchoolUnit(models.Model):
    """A school unit (enhet): where a plan is valid."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="units")
    name = models.CharField(_("name"), max_length=200)
    municipality = models.CharField(_("municipality"), max_length=100, blank=True)

    def __str__(self) -> str:
        return self.name


class CourseMapping(models.Model):
    """An LMS course (LTI context id of a deployment) belongs to a school unit."""

    deployment = models.ForeignKey("lti.Deployment", on_delete=models.PROTECT)
    context_id = models.CharField(max_length=255)
    unit = models.ForeignKey(SchoolUnit, on_delete=models.PROTECT, related_name="courses")
    title = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deployment", "context_id"], name="course_mapping_unique")]


class CourseMember(models.Model):
    """Someone in an LMS course, from launches and the NRPS roster (refreshed on launch).

    Moodle lists non-editing teachers as Learner: a member who has launched as Instructor in the
    course, holds a staff grant or was marked staff by a teacher is staff, never a pupil.
    """

    deployment = models.ForeignKey("lti.Deployment", on_delete=models.PROTECT)
    context_id = models.CharField(max_length=255)
    person = models.ForeignKey("Person", on_delete=models.PROTECT, related_name="memberships")
    roster_roles = models.JSONField(default=list)  # as the roster lists them (Moodle: short names)
    launched_as_instructor = models.BooleanField(default=False)
    marked_staff_by = models.ForeignKey("Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    active = models.BooleanField(default=True)  # gone from the latest roster: kept, not deleted
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deployment", "context_id", "person"],
                                               name="course_member_unique")]


class SchoolClass(models.Model):
    unit = models.ForeignKey(SchoolUnit, on_delete=models.PROTECT, related_name="classes")
    name = models.CharField(_("name"), max_length=50)
    grade = models.PositiveSmallIntegerField(_("grade"))

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """Someone the platform knows (LTI issuer + sub): pupil, guardian or staff."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="people")
    issuer = models.CharField(max_length=255)
    sub = models.CharField(max_length=255)
    name = models.CharField(_("name"), max_length=255, blank=True)
    email = models.EmailField(_("email"), blank=True)  # for the digest of what is due; never in logs

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "issuer", "sub"], name="person_unique")]

    def __str__(self) -> str:
        return self.name or self.sub


class Pupil(models.Model):
    """A pupil: where they are now (unit, class, grade) and their home municipality."""

    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="pupil")
    unit = models.ForeignKey(SchoolUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="pupils")
    school_class = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="pupils")
    grade = models.PositiveSmallIntegerField(_("grade"), null=True, blank=True)
    home_municipality = models.CharField(_("home municipality"), max_length=100, blank=True)

    def __str__(self) -> str:
        return str(self.person)


class GuardianLink(models.Model):
    """A guardian of a pupil (from an LTI Mentor launch, or recorded by staff)."""

    guardian = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="wards")
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="guardians")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["guardian", "pupil"], name="guardian_link_unique")]


class StaffGrant(models.Model):
    """A staff role given in the tool: dated, revocable, never self-granted (services enforce)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="grants")
    role = models.CharField(max_length=40)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT)
    unit = models.ForeignKey(SchoolUnit, on_delete=models.PROTECT, null=True, blank=True)
    school_class = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, null=True, blank=True)
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, null=True, blank=True)  # expert group (fi)
    granted_by = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(granted_by=models.F("person")), name="grant_not_to_self"),
        ]


class Case(models.Model):
    """A pupil's support at one unit, under the pack version it was opened with."""

    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="cases")
    unit = models.ForeignKey(SchoolUnit, on_delete=models.PROTECT, related_name="cases")
    pack_id = models.CharField(max_length=20)
    pack_version = models.CharField(max_length=40)
    level = models.CharField(max_length=60)
    opened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pupil", "unit"], name="one_case_per_pupil_and_unit")]

    def __str__(self) -> str:
        return f"{self.pupil} @ {self.unit}"


class LevelChange(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="level_history")
    from_level = models.CharField(max_length=60, blank=True)
    to_level = models.CharField(max_length=60)
    decision = models.ForeignKey("Decision", on_delete=models.PROTECT, null=True, blank=True)
    changed_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)


class Concern(models.Model):
    """A signal that support may be needed; in `se` a staff member's report to the principal."""

    class Kind(models.TextChoices):
        CONCERN = "concern", _("concern")
        REPORT_TO_PRINCIPAL = "report_to_principal", _("report to principal")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="concerns")
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.CONCERN)
    raised_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    raised_as = models.CharField(max_length=40)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)


class Adaptation(models.Model):
    """An extra adaptation or remedial teaching: within ordinary teaching, no decision."""

    class Kind(models.TextChoices):
        ADAPTATION = "adaptation", _("extra adaptation")
        REMEDIAL_TEACHING = "remedial_teaching", _("remedial teaching")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="adaptations")
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.ADAPTATION)
    description = models.TextField()
    course = models.CharField(max_length=255, blank=True)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    absence_record = models.ForeignKey("AbsenceRecord", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="adaptations")


class AdaptationFollowUp(models.Model):
    adaptation = models.ForeignKey(Adaptation, on_delete=models.PROTECT, related_name="follow_ups")
    text = models.TextField()
    held_on = models.DateField()
    signed_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)


class Assessment(models.Model):
    """Pedagogisk bedömning: initiated by the class teacher, processed by the elevhälsa."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assessments")
    started_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    text = models.TextField(blank=True)
    processed_by = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    processed_at = models.DateTimeField(null=True, blank=True)
    recommendation = models.TextField(blank=True)


class Investigation(models.Model):
    """Utredning: outlives the plan it led to; a later plan, or a new unit, can start from it."""

    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="investigations")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="investigations")
    requested_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    conducted_by = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    mapping = models.TextField(blank=True)
    assessment = models.TextField(blank=True)
    concluded_at = models.DateTimeField(null=True, blank=True)


class Plan(models.Model):
    """A plan (ÅP, IP, plan för lärande) at one unit. `version` detects concurrent edits."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ACTIVE = "active", _("active")
        CLOSED = "closed", _("closed")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="plans")
    document = models.CharField(max_length=40)  # the pack's document key: action_plan, individual_plan...
    pack_id = models.CharField(max_length=20)
    pack_version = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    investigation = models.ForeignKey(Investigation, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="plans")
    previous = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="next")
    follow_up_method = models.TextField(blank=True)
    evaluation_method = models.TextField(blank=True)
    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            # One plan of a kind in force at a time per case.
            models.UniqueConstraint(fields=["case", "document"], condition=Q(status="active"),
                                    name="one_active_plan_per_case_and_document"),
        ]

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class Need(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="needs")
    text = models.TextField()
    order = models.PositiveSmallIntegerField(default=0)


class Measure(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="measures")
    text = models.TextField()
    responsible = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    starts_on = models.DateField()
    ends_on = models.DateField()
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")),
                                              name="measure_period_ordered")]
        # A plan's last measure's end (when its evaluation is due) is one step in this index.
        indexes = [models.Index(fields=["plan", "ends_on"], name="measure_plan_ends")]


class PlanFollowUp(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="follow_ups")
    text = models.TextField()
    held_on = models.DateField()
    signed_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # A plan's latest follow-up (what the next one is dated by; the panel's latest ten) is read
        # from the end of this index instead of from all of the plan's follow-ups.
        indexes = [models.Index(fields=["plan", "held_on"], name="plan_follow_up_held")]


class Evaluation(models.Model):
    """The one evaluation of a plan (Unikum rule): a OneToOne keeps it one anywhere."""

    plan = models.OneToOneField(Plan, on_delete=models.PROTECT, related_name="evaluation")
    text = models.TextField()
    evaluated_on = models.DateField()
    signed_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)


class Review(models.Model):
    """A review of a level-3 decision at a grade point (Åland: end of grades 2, 6 and 8)."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="reviews")
    grade = models.PositiveSmallIntegerField()
    text = models.TextField()
    held_on = models.DateField()
    recorded_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "grade"], name="one_review_per_grade_point")]


class Hearing(models.Model):
    """The principal hears the parties before a decision on a plan."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="hearings")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="hearings")
    held_on = models.DateField()
    held_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    pupil_heard = models.BooleanField(default=False)
    guardians_heard = models.BooleanField(default=False)
    summary = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)


class View(models.Model):
    """The pupil's or a guardian's own view, by themselves or recorded by staff for them."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="views")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="views")
    whose = models.CharField(max_length=20)  # pupil | guardian
    author = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    on_behalf_of = models.CharField(max_length=200, blank=True)  # a guardian without an LMS account
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)


class Decision(models.Model):
    """Immutable: who decided what, as which role, on which grounds, under which pack and appeal text."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="decisions")
    decision_type = models.CharField(max_length=60)
    outcome = models.CharField(max_length=60, blank=True)
    close_reason = models.CharField(max_length=60, blank=True)
    grounds = models.TextField()
    decided_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    decided_as = models.CharField(max_length=40)
    decided_at = models.DateTimeField(default=timezone.now)
    pack_id = models.CharField(max_length=20)
    pack_version = models.CharField(max_length=40)
    appealable = models.BooleanField()
    appeal_text_sv = models.TextField(blank=True)
    appeal_text_en = models.TextField(blank=True)
    hearing = models.ForeignKey(Hearing, on_delete=models.PROTECT, null=True, blank=True)
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections")
    new_plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = AppendOnlyQuerySet.as_manager()

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None and not self._state.adding:
            raise ValueError("Decisions are immutable: record a new decision that corrects this one.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("Decisions are never deleted.")


class Submission(models.Model):
    """The principal's part in Åland level 3: the case prepared and presented for the education
    chief's decision, or a request for extra resources."""

    class Kind(models.TextChoices):
        PRESENTED = "presented", _("prepared and presented for decision")
        RESOURCES = "resources", _("request for extra resources")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="submissions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    decision_type = models.CharField(max_length=60, blank=True)  # the decision it is presented for
    text = models.TextField()
    submitted_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)


class PlanRevision(models.Model):
    """Append-only content history: the whole plan (needs, measures) after each change."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="revisions")
    version = models.PositiveIntegerField()
    snapshot = models.JSONField()
    change = models.CharField(max_length=100)
    changed_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "version"], name="plan_revision_unique")]


# -- absence ladder ------------------------------------------------------------------------------

class AbsenceRecord(models.Model):
    """A pupil's step on the absence ladder; a new step is a new record."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="absence_steps")
    ladder_id = models.CharField(max_length=40)
    step = models.PositiveSmallIntegerField()
    started_on = models.DateField()
    started_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    early_reason = models.TextField(blank=True)  # the principal started it before its starting point
    ended_on = models.DateField(null=True, blank=True)
    coordinator = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    coordination_form = models.CharField(max_length=60, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "step"], name="absence_step_once_per_case")]


class AbsenceCheck(models.Model):
    record = models.ForeignKey(AbsenceRecord, on_delete=models.PROTECT, related_name="checks")
    item = models.CharField(max_length=60)
    checked_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["record", "item"], name="absence_check_once")]


class AbsenceFollowUp(models.Model):
    record = models.ForeignKey(AbsenceRecord, on_delete=models.PROTECT, related_name="follow_ups")
    text = models.TextField()
    held_on = models.DateField()
    signed_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)


class SocialServicesReport(models.Model):
    """A report of concern (orosanmälan): any staff member, any time; to the home municipality."""

    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="social_services_reports")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True)
    absence_record = models.ForeignKey(AbsenceRecord, on_delete=models.PROTECT, null=True, blank=True)
    reported_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    reported_as = models.CharField(max_length=40)
    municipality = models.CharField(max_length=100)
    text = models.TextField()
    reported_at = models.DateTimeField(default=timezone.now)


# -- welfare (fi packs) ---------------------------------------------------------------------------

class Consent(models.Model):
    """Consent to individual welfare work (the expert group); withdrawing it seals the record."""

    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="consents")
    given_by = models.CharField(max_length=200)  # the pupil or a named guardian
    recorded_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    given_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_recorded_by = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True,
                                               related_name="+")

    @property
    def stands(self) -> bool:
        return self.withdrawn_at is None


class ExpertGroup(models.Model):
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="expert_groups")
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="expert_groups")
    convened_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    convened_at = models.DateTimeField(default=timezone.now)
    members = models.ManyToManyField(Person, related_name="expert_groups")


class ExpertGroupRecord(models.Model):
    group = models.ForeignKey(ExpertGroup, on_delete=models.PROTECT, related_name="records")
    text = models.TextField()
    written_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField(default=timezone.now)


class DigestSent(models.Model):
    """One digest of due items per person and day: running the command twice sends nothing twice."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    items = models.PositiveIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "day"], name="one_digest_per_day")]


# -- audit ------------------------------------------------------------------------------------------

class AuditEntry(models.Model):
    """Append-only: every read and change of case data (who, role, what, when, through which launch)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    role = models.CharField(max_length=255)  # every role the person acted with, comma separated
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_ids = models.JSONField(default=list)
    unit = models.ForeignKey(SchoolUnit, on_delete=models.PROTECT, null=True, blank=True)
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True)
    launch_id = models.UUIDField(null=True, blank=True)
    context_id = models.CharField(max_length=255, blank=True)
    api_token = models.CharField(max_length=100, blank=True)  # the token's name when the API was used with one
    at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self._state.adding:
            raise ValueError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("The audit trail is append-only.")
