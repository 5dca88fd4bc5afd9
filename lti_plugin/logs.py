"""Structured logs for production: one JSON object a line, with the request id, and nothing personal.

What a line may carry: time, level, logger, the message, the request id, and for an exception its type
and stack (file, line, function). What it never carries: the exception's own text (a database error
can quote a row; a JWT error a claim), request bodies, query strings, tokens, names. The messages the
tool writes itself name codes and ids, never a person (lti/errors.py, send_due_digest); Django's own
name paths, which hold only ids here.
"""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime


class RequestIdFilter(logging.Filter):
    """Stamps every record with the id of the request being served ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from lti_plugin.ops import request_id

        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (for Loki, Elasticsearch, CloudWatch, `jq`)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        status = getattr(record, "status_code", None)
        if isinstance(status, int):
            entry["status"] = status
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _exc, tb = record.exc_info
            entry["exc_type"] = f"{exc_type.__module__}.{exc_type.__qualname__}"
            # Frames only: the exception's message may quote data (a row, a claim), so it stays out.
            entry["stack"] = [f"{frame.filename}:{frame.lineno} in {frame.name}"
                              for frame in traceback.extract_tb(tb)][-15:]
        return json.dumps(entry, ensure_ascii=False)
