"""What the API shows and accepts. Output is read-only model data; input is parsed here and handed
to the services, which hold every rule."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from lti_plugin.support.models import (
    AbsenceCheck,
    AbsenceFollowUp,
    AbsenceRecord,
    Adaptation,
    AdaptationFollowUp,
    AuditEntry,
    Case,
    Decision,
    Evaluation,
    Hearing,
    Measure,
    Need,
    Plan,
    PlanFollowUp,
    Pupil,
    Review,
    View,
)

from .models import ApiToken

MAX_ID = 2**31 - 1
EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)


def _in_range(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise serializers.ValidationError(_("Choose a date between 1900 and 2199."))
    return value


class SchoolDateField(serializers.DateField):
    """A date a school would write down (dates far away would break the arithmetic of what is due)."""

    def __init__(self, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.validators.append(_in_range)


def IdField(**kwargs):  # type: ignore[no-untyped-def]  # noqa: N802
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


# -- output --------------------------------------------------------------------------------------

class ReadSerializer(serializers.ModelSerializer):
    """Model data as the API shows it: every field read-only (so the schema is the same on SQLite
    and PostgreSQL, whose integer ranges differ)."""

    def get_extra_kwargs(self) -> dict:  # type: ignore[type-arg]
        extra = super().get_extra_kwargs()
        for name in self.Meta.fields:
            extra.setdefault(name, {})["read_only"] = True
        return extra


class PupilSerializer(ReadSerializer):
    name = serializers.CharField(source="person.name", read_only=True)
    school_class = serializers.CharField(source="school_class.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Pupil
        fields = ["id", "name", "unit", "school_class", "grade"]


class CaseSerializer(ReadSerializer):
    pupil_name = serializers.CharField(source="pupil.person.name", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = Case
        fields = ["id", "pupil", "pupil_name", "unit", "unit_name", "level", "pack_id", "pack_version", "opened_at"]


class CaseDetailSerializer(CaseSerializer):
    allowed_actions = serializers.ListField(child=serializers.CharField(), read_only=True,
                                            help_text="What the requester may do now: POST to actions/<action>/.")

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "allowed_actions"]


class NeedSerializer(ReadSerializer):
    class Meta:
        model = Need
        fields = ["id", "text", "order"]


class MeasureSerializer(ReadSerializer):
    class Meta:
        model = Measure
        fields = ["id", "text", "responsible", "starts_on", "ends_on", "order"]


class FollowUpSerializer(ReadSerializer):
    class Meta:
        model = PlanFollowUp
        fields = ["id", "plan", "text", "held_on", "signed_by", "created_at"]


class EvaluationSerializer(ReadSerializer):
    class Meta:
        model = Evaluation
        fields = ["id", "plan", "text", "evaluated_on", "signed_by", "created_at"]


class ReviewSerializer(ReadSerializer):
    class Meta:
        model = Review
        fields = ["id", "plan", "grade", "text", "held_on", "recorded_by", "created_at"]


class PlanSerializer(ReadSerializer):
    unit = serializers.IntegerField(source="case.unit_id", read_only=True)
    needs = NeedSerializer(many=True, read_only=True)
    measures = MeasureSerializer(many=True, read_only=True)

    class Meta:
        model = Plan
        fields = ["id", "case", "unit", "document", "status", "version", "pack_id", "pack_version", "previous",
                  "investigation", "follow_up_method", "evaluation_method", "created_at", "activated_at",
                  "closed_at", "needs", "measures"]


class PlanDetailSerializer(PlanSerializer):
    follow_ups = FollowUpSerializer(many=True, read_only=True)
    evaluation = EvaluationSerializer(read_only=True, allow_null=True, default=None)
    reviews = ReviewSerializer(many=True, read_only=True)

    class Meta(PlanSerializer.Meta):
        fields = [*PlanSerializer.Meta.fields, "follow_ups", "evaluation", "reviews"]


class DecisionSerializer(ReadSerializer):
    class Meta:
        model = Decision
        fields = ["id", "case", "plan", "decision_type", "outcome", "close_reason", "grounds", "decided_by",
                  "decided_as", "decided_at", "pack_id", "pack_version", "appealable", "appeal_text_sv",
                  "appeal_text_en", "hearing", "corrects", "new_plan"]


class HearingSerializer(ReadSerializer):
    class Meta:
        model = Hearing
        fields = ["id", "case", "plan", "held_on", "held_by", "pupil_heard", "guardians_heard", "summary",
                  "created_at"]


class ViewSerializer(ReadSerializer):
    class Meta:
        model = View
        fields = ["id", "case", "plan", "whose", "author", "on_behalf_of", "text", "created_at"]


class AdaptationFollowUpSerializer(ReadSerializer):
    class Meta:
        model = AdaptationFollowUp
        fields = ["id", "text", "held_on", "signed_by", "created_at"]


class AdaptationSerializer(ReadSerializer):
    follow_ups = AdaptationFollowUpSerializer(many=True, read_only=True)

    class Meta:
        model = Adaptation
        fields = ["id", "case", "kind", "description", "course", "started_on", "ended_on", "created_by",
                  "created_at", "absence_record", "follow_ups"]


class AbsenceCheckSerializer(ReadSerializer):
    class Meta:
        model = AbsenceCheck
        fields = ["id", "item", "note", "checked_by", "checked_at"]


class AbsenceFollowUpSerializer(ReadSerializer):
    class Meta:
        model = AbsenceFollowUp
        fields = ["id", "text", "held_on", "signed_by", "created_at"]


class AbsenceRecordSerializer(ReadSerializer):
    checks = AbsenceCheckSerializer(many=True, read_only=True)
    follow_ups = AbsenceFollowUpSerializer(many=True, read_only=True)

    class Meta:
        model = AbsenceRecord
        fields = ["id", "case", "ladder_id", "step", "started_on", "started_by", "early_reason", "ended_on",
                  "coordinator", "coordination_form", "checks", "follow_ups"]


class DueItemSerializer(serializers.Serializer):
    kind = serializers.CharField()
    due_on = serializers.DateField()
    case = serializers.IntegerField(source="case_id")
    plan = serializers.IntegerField(source="plan_id", allow_null=True)
    label = serializers.CharField()
    overdue = serializers.BooleanField()


class AuditEntrySerializer(ReadSerializer):
    object_ids = serializers.ListField(child=serializers.IntegerField())

    class Meta:
        model = AuditEntry
        fields = ["id", "at", "person", "role", "action", "object_type", "object_ids", "unit", "pupil",
                  "launch_id", "context_id", "api_token"]


class TokenSerializer(ReadSerializer):
    scope = serializers.SerializerMethodField()
    units = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "role", "scope", "units", "read_only", "created_by", "created_at", "expires_at",
                  "revoked_at", "last_used_at"]

    def get_scope(self, token: ApiToken) -> str:
        return "organisation" if token.role == "education_chief" else "units"


class TokenCreatedSerializer(TokenSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown once: keep it; only its hash is stored.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "secret"]


class ActionResultSerializer(serializers.Serializer):
    action = serializers.CharField()
    case = serializers.IntegerField()
    object_type = serializers.CharField(allow_null=True)
    object_id = serializers.IntegerField(allow_null=True)


# -- input ---------------------------------------------------------------------------------------

class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    units = serializers.ListField(child=IdField(), required=False, default=list, max_length=100,
                                  help_text="A principal's token: the units (of theirs) it reaches.")
    role = serializers.ChoiceField(choices=["principal", "education_chief"], required=False,
                                   help_text="Which of the requester's roles the token acts in.")
    read_only = serializers.BooleanField(default=True)
    expires_in_days = serializers.IntegerField(min_value=1, max_value=365, default=90)


class MeasureInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)
    starts_on = SchoolDateField()
    ends_on = SchoolDateField()
    responsible = IdField(required=False, help_text="A person of the organisation; the requester if left out.")


class PlanUpdateSerializer(serializers.Serializer):
    needs = serializers.ListField(child=serializers.CharField(max_length=5000), required=False, max_length=100)
    measures = MeasureInputSerializer(many=True, required=False, max_length=100)
    follow_up_method = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    evaluation_method = serializers.CharField(max_length=5000, required=False, allow_blank=True)


def _text(max_length: int = 5000, **kwargs):  # type: ignore[no-untyped-def]
    return serializers.CharField(max_length=max_length, required=False, allow_blank=True, **kwargs)


class ActionInputSerializer(serializers.Serializer):
    """The fields the case actions read (the same as the case page's forms); each action reads its own."""

    text = _text(help_text="The concern, note, summary, grounds or recommendation.")
    date = SchoolDateField(required=False, help_text="When it happened (today if left out).")
    course = _text(255)
    plan = IdField(required=False)
    adaptation = IdField(required=False)
    assessment = IdField(required=False)
    investigation = IdField(required=False)
    record = IdField(required=False, help_text="An absence-ladder record.")
    consent = IdField(required=False)
    group = IdField(required=False, help_text="An expert group.")
    member = serializers.ListField(child=IdField(), required=False, max_length=50)
    mapping = _text()
    conclude = serializers.BooleanField(required=False)
    grade = serializers.IntegerField(min_value=0, max_value=13, required=False)
    step = serializers.IntegerField(min_value=1, max_value=20, required=False)
    pupil_heard = serializers.BooleanField(required=False)
    guardians_heard = serializers.BooleanField(required=False)
    level = _text(60)
    reason = _text(60, help_text="A close reason, or why an absence step starts early.")
    option = _text(60, help_text="A decision's outcome, where the pack offers options.")
    guardian = _text(200)
    given_by = _text(200)
    item = _text(60)
    document = _text(40)
    need = serializers.ListField(child=serializers.CharField(max_length=5000), required=False, max_length=100)
    measure = serializers.ListField(child=serializers.CharField(max_length=5000), required=False, max_length=100)
    starts_on = SchoolDateField(required=False)
    ends_on = SchoolDateField(required=False)


# -- filters -------------------------------------------------------------------------------------

class CaseFilterSerializer(serializers.Serializer):
    unit = IdField(required=False)
    level = serializers.CharField(max_length=60, required=False)


class PlanFilterSerializer(CaseFilterSerializer):
    status = serializers.ChoiceField(choices=Plan.Status.choices, required=False)


class DueFilterSerializer(CaseFilterSerializer):
    due_before = SchoolDateField(required=False, help_text="Only items due before this day.")


class AuditFilterSerializer(serializers.Serializer):
    unit = IdField(required=False)
    pupil = IdField(required=False)
    person = IdField(required=False)
