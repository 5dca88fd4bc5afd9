from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import views

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("pupils/", views.PupilListApi.as_view(), name="pupils"),
    path("cases/", views.CaseListApi.as_view(), name="cases"),
    path("cases/<int:case_id>/", views.CaseDetailApi.as_view(), name="case"),
    path("cases/<int:case_id>/actions/<str:action>/", views.CaseActionApi.as_view(), name="case-action"),
    path("plans/", views.PlanListApi.as_view(), name="plans"),
    path("plans/<int:plan_id>/", views.PlanDetailApi.as_view(), name="plan"),
    path("follow-ups/", views.FollowUpListApi.as_view(), name="follow-ups"),
    path("evaluations/", views.EvaluationListApi.as_view(), name="evaluations"),
    path("decisions/", views.DecisionListApi.as_view(), name="decisions"),
    path("hearings/", views.HearingListApi.as_view(), name="hearings"),
    path("views/", views.ViewListApi.as_view(), name="views"),
    path("adaptations/", views.AdaptationListApi.as_view(), name="adaptations"),
    path("absence-records/", views.AbsenceRecordListApi.as_view(), name="absence-records"),
    path("archive/", views.ArchiveListApi.as_view(), name="archive"),
    path("due/", views.DueListApi.as_view(), name="due"),
    path("audit/", views.AuditLogApi.as_view(), name="audit"),
    path("tokens/", views.TokenListApi.as_view(), name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.TokenRevokeApi.as_view(), name="token-revoke"),
]
