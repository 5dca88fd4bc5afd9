"""The API: another interface over the same services and the same policy as the pages.

Reads go through the policy's gates (policy.access_case / access_plan for one object, the cases the
actor may view for lists) and are written to the audit trail like the pages' reads; writes go
through frontend.cases.ACTIONS, the one door every case action goes through, or a service.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from frontend.cases import ACTIONS
from lti_plugin.support import audit, policy, queries
from lti_plugin.support.actor import Actor
from lti_plugin.support.errors import StaleVersion
from lti_plugin.support.models import (
    AbsenceRecord,
    Adaptation,
    Case,
    Decision,
    Evaluation,
    Hearing,
    Person,
    Plan,
    PlanFollowUp,
    Pupil,
    View,
)
from lti_plugin.support.services import plans as plan_services
from lti_plugin.support.services.due import due_for

from . import serializers as s
from .errors import PreconditionFailed, PreconditionRequired
from .models import ApiToken
from .tokens import create_token, revoke_token, tokens_of

ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": s.MAX_ID}


def id_parameter(name: str) -> OpenApiParameter:
    return OpenApiParameter(name, ID_SCHEMA, OpenApiParameter.PATH)


def actor_of(request: Request) -> Actor:
    return request.user.actor  # type: ignore[union-attr]


class WritesAllowed(permissions.BasePermission):
    """A read-only token reads; writing takes a read-write token or a launch."""

    message = _("This token is read-only.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return not (isinstance(request.auth, ApiToken) and request.auth.read_only)


def visible_cases(actor: Actor) -> QuerySet[Case]:
    """The cases the actor may view, case by case as the policy says (the caseload of the pages)."""
    candidates = queries.cases_visible_to(actor).select_related("pupil", "unit")
    return Case.objects.filter(pk__in=[case.pk for case in candidates if policy.can(actor, "view_case", case)])


def _filters(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class Api(APIView):
    permission_classes = [permissions.IsAuthenticated, WritesAllowed]


class CaseDataListApi(Api, generics.ListAPIView):
    """A list of rows on the cases the actor may view: filtered, paginated, stably ordered, audited."""

    model: type[Model]
    case_path = "case"
    ordering: tuple[str, ...] = ("pk",)
    filter_class: type[serializers.Serializer] = s.CaseFilterSerializer
    object_type = ""
    related: tuple[str, ...] = ()  # what the serializer shows of each row, fetched per page not per row

    def rows(self, actor: Actor, filters: dict[str, Any]) -> QuerySet:
        rows = self.model.objects.filter(**{f"{self.case_path}__in": visible_cases(actor)})
        case = "" if self.case_path == "pk" else f"{self.case_path}__"
        if "unit" in filters:
            rows = rows.filter(**{f"{case}unit_id": filters["unit"]})
        if "level" in filters:
            rows = rows.filter(**{f"{case}level": filters["level"]})
        if "status" in filters:
            rows = rows.filter(status=filters["status"])
        return rows.distinct().order_by(*self.ordering).prefetch_related(*self.related)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        actor = actor_of(request)
        page = self.paginate_queryset(self.rows(actor, _filters(self.filter_class, request)))
        audit.record_list(actor, page, self.object_type or self.model._meta.label_lower)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


def list_api(name: str, model: type[Model], serializer: type[serializers.Serializer], *,
             filters: type[serializers.Serializer] = s.CaseFilterSerializer, case_path: str = "case",
             ordering: tuple[str, ...] = ("pk",), related: tuple[str, ...] = (),
             description: str = "") -> type[CaseDataListApi]:
    @extend_schema(parameters=[filters], description=description)
    def get(self: CaseDataListApi, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request)

    return type(name, (CaseDataListApi,), {"model": model, "serializer_class": serializer, "filter_class": filters,
                                           "case_path": case_path, "ordering": ordering, "related": related,
                                           "__doc__": description,
                                           "get": get})


CaseListApi = list_api("CaseListApi", Case, s.CaseSerializer, case_path="pk", ordering=("unit__name", "pk"),
                       related=("pupil__person", "unit"),
                       description="The cases the requester may view (their caseload).")
PlanListApi = list_api("PlanListApi", Plan, s.PlanSerializer, filters=s.PlanFilterSerializer,
                       ordering=("-created_at", "pk"), related=("case", "needs", "measures"),
                       description="Plans with their needs and measures.")
FollowUpListApi = list_api("FollowUpListApi", PlanFollowUp, s.FollowUpSerializer, case_path="plan__case",
                           ordering=("-held_on", "pk"), description="Follow-ups of plans.")
EvaluationListApi = list_api("EvaluationListApi", Evaluation, s.EvaluationSerializer, case_path="plan__case",
                             ordering=("-evaluated_on", "pk"), description="The one evaluation of each plan.")
DecisionListApi = list_api("DecisionListApi", Decision, s.DecisionSerializer, ordering=("-decided_at", "pk"),
                           description="Decisions: read only; made through the decision actions.")
HearingListApi = list_api("HearingListApi", Hearing, s.HearingSerializer, ordering=("-held_on", "pk"),
                          description="Hearings of the pupil and the guardians.")
ViewListApi = list_api("ViewListApi", View, s.ViewSerializer, ordering=("-created_at", "pk"),
                       description="The pupil's and the guardians' own views.")
AdaptationListApi = list_api("AdaptationListApi", Adaptation, s.AdaptationSerializer,
                             ordering=("-started_on", "pk"), related=("follow_ups",),
                             description="Extra adaptations and remedial teaching.")
AbsenceRecordListApi = list_api("AbsenceRecordListApi", AbsenceRecord, s.AbsenceRecordSerializer,
                                ordering=("-started_on", "pk"), related=("checks", "follow_ups"),
                                description="Steps on the absence ladder.")


class PupilListApi(CaseDataListApi):
    """Pupils in scope: those whose cases the requester may view."""

    model = Pupil
    serializer_class = s.PupilSerializer
    object_type = "support.pupil"

    def rows(self, actor: Actor, filters: dict[str, Any]) -> QuerySet:
        cases = visible_cases(actor)
        if "unit" in filters:
            cases = cases.filter(unit_id=filters["unit"])
        if "level" in filters:
            cases = cases.filter(level=filters["level"])
        return (Pupil.objects.filter(pk__in=cases.values("pupil_id")).select_related("person", "school_class")
                .order_by("person__name", "pk"))

    @extend_schema(parameters=[s.CaseFilterSerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request)


class ArchiveListApi(CaseDataListApi):
    """Closed plans: read-only, kept in the pupil's archive."""

    model = Plan
    serializer_class = s.PlanSerializer
    related = ("case", "needs", "measures")

    def rows(self, actor: Actor, filters: dict[str, Any]) -> QuerySet:
        return super().rows(actor, filters).filter(status=Plan.Status.CLOSED).order_by("-closed_at", "pk")

    @extend_schema(parameters=[s.CaseFilterSerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request)


class CaseDetailApi(Api, generics.GenericAPIView):
    serializer_class = s.CaseDetailSerializer

    @extend_schema(parameters=[id_parameter("case_id")])
    def get(self, request: Request, case_id: int) -> Response:
        actor = actor_of(request)
        case = policy.access_case(actor, case_id)  # 404 out of scope; the read is logged
        case.allowed_actions = sorted(policy.allowed_actions(actor, case, list(ACTIONS)))  # type: ignore[attr-defined]
        return Response(self.get_serializer(case).data)


def etag(plan: Plan) -> str:
    return f'"{plan.version}"'


def expected_version(header: str) -> int | None:
    """The version an If-Match names (`"3"`, `W/"3"`); None when it names none we made."""
    for part in header.split(","):
        value = part.strip().removeprefix("W/").strip('"')
        if value.isdigit() and len(value) < 10:
            return int(value)
    return None


ETAG_HEADER = OpenApiParameter("ETag", str, OpenApiParameter.HEADER, response=[200],
                               description="The plan's version; send it back in If-Match to update.")


class PlanDetailApi(Api, generics.GenericAPIView):
    serializer_class = s.PlanDetailSerializer
    extra_error_codes = (409, 412, 428)

    @extend_schema(parameters=[id_parameter("plan_id"), ETAG_HEADER])
    def get(self, request: Request, plan_id: int) -> Response:
        plan = policy.access_plan(actor_of(request), plan_id)  # 404 out of scope; the read is logged
        return Response(self.get_serializer(plan).data, headers={"ETag": etag(plan)})

    @extend_schema(
        request=s.PlanUpdateSerializer,
        parameters=[id_parameter("plan_id"), ETAG_HEADER,
                    OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True,
                                     description="The ETag the plan had when it was read.")],
        description="Edit a drafted plan. A stale If-Match gets 412 and changes nothing.")
    def patch(self, request: Request, plan_id: int) -> Response:
        actor = actor_of(request)
        header = request.headers.get("If-Match", "")
        if not header:
            raise PreconditionRequired(_("Send If-Match with the plan's ETag: it keeps you from overwriting "
                                         "someone else's change."))
        plan = Plan.objects.select_related("case").filter(pk=plan_id).first()
        if plan is None:
            raise Http404
        policy.access_case_without_log(actor, plan.case_id)  # 404 out of scope
        data = s.PlanUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "measures" in values:
            values["measures"] = [self._measure(actor, measure) for measure in values["measures"]]
        version = expected_version(header)
        try:
            if version is None or version != plan.version:
                raise StaleVersion(_("Someone else changed this plan after you opened it. Reload it and try again."))
            plan = plan_services.update_draft(actor=actor, plan=plan, expected_version=version, **values)
        except StaleVersion as stale:
            raise PreconditionFailed(stale.message) from None
        plan = Plan.objects.get(pk=plan.pk)
        return Response(self.get_serializer(plan).data, headers={"ETag": etag(plan)})

    @staticmethod
    def _measure(actor: Actor, measure: dict[str, Any]) -> plan_services.MeasureInput:
        responsible = actor.person
        if measure.get("responsible"):
            responsible = Person.objects.filter(pk=measure["responsible"], organisation=actor.organisation).first()
            if responsible is None:
                raise serializers.ValidationError({"measures": [_("No such person in your organisation.")]})
        return plan_services.MeasureInput(measure["text"], responsible, measure["starts_on"], measure["ends_on"])


class FormData(dict):
    """Validated input in the shape the case actions read (a form's get/getlist), all as text."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__()
        for key, value in values.items():
            items = value if isinstance(value, list) else [value]
            self[key] = [self._text(item) for item in items]

    @staticmethod
    def _text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return value.isoformat() if hasattr(value, "isoformat") else str(value)

    def get(self, key: str, default: Any = "") -> Any:  # type: ignore[override]
        values = super().get(key)
        return values[-1] if values else default

    def getlist(self, key: str) -> list[str]:
        return list(super().get(key) or [])


class CaseActionApi(Api):
    """Every case action, through the same door as the case page: the policy, then the service."""

    @extend_schema(
        request=s.ActionInputSerializer,
        responses={201: s.ActionResultSerializer},
        parameters=[id_parameter("case_id"),
                    OpenApiParameter("action", OpenApiTypes.STR, OpenApiParameter.PATH, enum=sorted(ACTIONS))],
        description="Take an action on a case: 404 out of scope, 403 when the role may not, 422 when a rule "
                    "refuses (with its message).")
    def post(self, request: Request, case_id: int, action: str) -> Response:
        actor = actor_of(request)
        if action not in ACTIONS:
            raise Http404
        case = policy.access_for_action(actor, case_id, action)
        data = s.ActionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy.require(actor, action, case)
        made = ACTIONS[action](actor, case, FormData(data.validated_data))
        result = {"action": action, "case": case.pk,
                  "object_type": made._meta.label_lower if isinstance(made, Model) else None,
                  "object_id": made.pk if isinstance(made, Model) else None}
        return Response(result, status=status.HTTP_201_CREATED)


class DueListApi(Api, generics.ListAPIView):
    """What is due for the requester, soonest first (the same list as the pages and the digest)."""

    serializer_class = s.DueItemSerializer

    @extend_schema(parameters=[s.DueFilterSerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        actor = actor_of(request)
        filters = _filters(s.DueFilterSerializer, request)
        items = due_for(actor)
        visible = visible_cases(actor)
        if "unit" in filters:
            visible = visible.filter(unit_id=filters["unit"])
        if "level" in filters:
            visible = visible.filter(level=filters["level"])
        case_ids = set(visible.values_list("pk", flat=True))
        items = [item for item in items if item.case_id in case_ids
                 and ("due_before" not in filters or item.due_on < filters["due_before"])]
        page = self.paginate_queryset(items)
        shown = Case.objects.filter(pk__in={item.case_id for item in page}).order_by("pk")
        audit.record_list(actor, shown, "support.case")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class AuditLogApi(Api, generics.ListAPIView):
    """The audit trail: the principal for their units, the education chief for the organisation."""

    serializer_class = s.AuditEntrySerializer

    @extend_schema(parameters=[s.AuditFilterSerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        actor = actor_of(request)
        filters = _filters(s.AuditFilterSerializer, request)
        entries = queries.audit_log_for(actor, pupil_id=filters.get("pupil"), person_id=filters.get("person"))
        if "unit" in filters:
            entries = entries.filter(unit_id=filters["unit"])
        page = self.paginate_queryset(entries.order_by("-at", "-pk"))
        audit.record_list(actor, page, "support.auditentry")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class SessionOnly(permissions.BasePermission):
    """Tokens are made and ended by a person in the tool (a launch), never by another token."""

    message = _("Tokens are managed from the tool, not with a token.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return not isinstance(request.auth, ApiToken)


class TokenListApi(Api, generics.ListCreateAPIView):
    """API tokens: the requester's own; the education chief sees the organisation's."""

    permission_classes = [permissions.IsAuthenticated, SessionOnly]
    serializer_class = s.TokenSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(tokens_of(actor_of(request)))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=s.TokenCreateSerializer, responses={201: s.TokenCreatedSerializer},
                   description="Make a token: a principal for their units, the education chief for the "
                               "organisation. The secret is in this answer only.")
    def post(self, request: Request) -> Response:
        data = s.TokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        token, secret = create_token(actor=actor_of(request), name=values["name"], unit_ids=values["units"],
                                     role=values.get("role", ""), read_only=values["read_only"],
                                     expires_in_days=values["expires_in_days"])
        token.secret = secret  # type: ignore[attr-defined]
        return Response(s.TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenRevokeApi(Api, generics.GenericAPIView):
    permission_classes = [permissions.IsAuthenticated, SessionOnly]
    serializer_class = s.TokenSerializer

    @extend_schema(request=None, parameters=[id_parameter("token_id")])
    def post(self, request: Request, token_id: int) -> Response:
        token = tokens_of(actor_of(request)).filter(pk=token_id).first()
        if token is None:
            raise Http404
        return Response(self.get_serializer(revoke_token(actor=actor_of(request), token=token)).data)

