from django.urls import path

from . import views

app_name = "lti"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("login/<uuid:registration_uuid>/", views.login, name="login-registration"),
    path("launch/", views.launch, name="launch"),
    path("launch/<uuid:registration_uuid>/", views.launch, name="launch-registration"),
    path("jwks/", views.jwks, name="jwks"),
    path("register/", views.register, name="register"),
    path("deep-link/<uuid:launch_id>/", views.deep_link, name="deep-link"),
]
