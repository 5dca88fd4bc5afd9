from django.urls import path

from . import views

app_name = "frontend"

urlpatterns = [
    path("<uuid:launch_id>/", views.home, name="home"),
    path("<uuid:launch_id>/registrations/", views.registrations, name="registrations"),
    path("<uuid:launch_id>/registrations/<int:registration_pk>/approve/", views.registration_approve,
         name="registration-approve"),
]
