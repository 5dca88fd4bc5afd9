"""gunicorn settings for the container image and every production process (deploy/README.md).

Workers come from the environment, so one image fits a small VM and a large pod alike. Logs go to
standard output as one JSON object a line; the access log names the path without its query string
(the OIDC login's query holds the login hint, state and nonce) and the request id.
"""

import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20  # a rolling update or a scale-in lets requests in flight finish
keepalive = 5  # longer than nothing, shorter than the proxy's idle timeout
max_requests = 5000  # recycle workers now and then; the jitter keeps them from restarting together
max_requests_jitter = 500
worker_tmp_dir = os.environ.get("GUNICORN_TMP_DIR", "/dev/shm" if os.path.isdir("/dev/shm") else None)

accesslog = "-" if os.environ.get("ACCESS_LOG", "on") != "off" else None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = (
    '{"ts": "%(t)s", "level": "INFO", "logger": "gunicorn.access", "request_id": "%({x-request-id}o)s", '
    '"method": "%(m)s", "path": "%(U)s", "status": %(s)s, "bytes": "%(B)s", "ms": %(M)s}'
)
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "lti_plugin.logs.JsonFormatter"},
        "line": {"format": "%(message)s"},
    },
    "handlers": {
        "error": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
        "access": {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stdout"},
    },
    "root": {"handlers": ["error"], "level": "INFO"},
    "loggers": {
        "gunicorn.error": {"handlers": ["error"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}
