import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lti_plugin.settings")
application = get_wsgi_application()

# The URLs and the views they import, loaded before the first request; then everything loaded so far
# (Django, the apps, the packs) is kept out of the garbage collector's sweeps: it lives as long as the
# process, and a request that makes many rows otherwise pays for walking it again and again (a
# principal's task list spent a third of its time in the collector).
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns
gc.freeze()
