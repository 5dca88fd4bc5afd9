from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from frontend import views as frontend_views

urlpatterns = [
    path("", frontend_views.index, name="index"),
    path("admin/", admin.site.urls),
    path("lti/", include("lti_plugin.lti.urls")),
    path("app/", include("frontend.urls")),
    path("api/", include("api.urls")),
]

if settings.DEMO_PLATFORM:
    # The built-in demo platform exists only in the embedded default; in production /demo/ is a 404.
    urlpatterns.append(path("demo/", include("lti_plugin.lti.demo.urls")))

# --- Production deploy (issue 13): PostgreSQL or Redis unreachable -> a clean 503 page, not a 500.
handler500 = "lti_plugin.ops.server_error"
