from django.urls import path

from . import admin, cases, panels, views

app_name = "frontend"

urlpatterns = [
    path("<uuid:launch_id>/", views.home, name="home"),
    path("<uuid:launch_id>/registrations/", views.registrations, name="registrations"),
    path("<uuid:launch_id>/registrations/<int:registration_pk>/approve/", views.registration_approve,
         name="registration-approve"),
    path("<uuid:launch_id>/course/", panels.course_panel, name="course"),
    path("<uuid:launch_id>/course/pupils/<int:pupil_id>/<str:action>/", panels.course_pupil_action,
         name="course-pupil-action"),
    path("<uuid:launch_id>/course/pupils/<int:pupil_id>/<str:action>/form/", panels.course_pupil_form,
         name="course-pupil-form"),
    path("<uuid:launch_id>/tasks/", panels.tasks, name="tasks"),
    path("<uuid:launch_id>/cases/", panels.case_list, name="cases"),
    path("<uuid:launch_id>/cases/<int:case_id>/", cases.case_detail, name="case"),
    path("<uuid:launch_id>/cases/<int:case_id>/archive/", panels.archive, name="archive"),
    path("<uuid:launch_id>/cases/<int:case_id>/expert-group/", cases.expert_group_record, name="expert-group"),
    path("<uuid:launch_id>/cases/<int:case_id>/forms/<str:key>/", cases.case_form, name="case-form"),
    path("<uuid:launch_id>/cases/<int:case_id>/<str:action>/", cases.case_action, name="case-action"),
    path("<uuid:launch_id>/plans/<int:plan_id>/print/", panels.plan_print, name="plan-print"),
    path("<uuid:launch_id>/decisions/<int:decision_id>/print/", panels.decision_print, name="decision-print"),
    path("<uuid:launch_id>/audit/", cases.audit_log, name="audit"),
    path("<uuid:launch_id>/staff/", admin.staff, name="staff"),
    path("<uuid:launch_id>/staff/grant/", admin.staff_grant, name="staff-grant"),
    path("<uuid:launch_id>/staff/<int:grant_id>/end/", admin.staff_revoke, name="staff-revoke"),
    path("<uuid:launch_id>/courses/map/", admin.course_map, name="course-map"),
    path("<uuid:launch_id>/welfare-group/", admin.welfare_group, name="welfare-group"),
]
