from django.urls import path

from . import views

app_name = "demo"

urlpatterns = [
    path("", views.index, name="index"),
    path("start/", views.start, name="start"),
    path("auth/", views.auth, name="auth"),
    path("token/", views.token, name="token"),
    path("nrps/<str:course_id>/memberships", views.memberships, name="memberships"),
    path("deep-link-return/", views.deep_link_return, name="deep-link-return"),
]
