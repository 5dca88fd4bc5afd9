from django.urls import path

from . import cases, views

app_name = "frontend"

urlpatterns = [
    path("<uuid:launch_id>/", views.home, name="home"),
    path("<uuid:launch_id>/registrations/", views.registrations, name="registrations"),
    path("<uuid:launch_id>/registrations/<int:registration_pk>/approve/", views.registration_approve,
         name="registration-approve"),
    path("<uuid:launch_id>/cases/", cases.case_list, name="cases"),
    path("<uuid:launch_id>/cases/<int:case_id>/", cases.case_detail, name="case"),
    path("<uuid:launch_id>/cases/<int:case_id>/expert-group/", cases.expert_group_record, name="expert-group"),
    path("<uuid:launch_id>/cases/<int:case_id>/<str:action>/", cases.case_action, name="case-action"),
    path("<uuid:launch_id>/audit/", cases.audit_log, name="audit"),
]
