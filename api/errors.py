"""One error shape for every refusal: {"code", "message", "fields"}, in the requester's language.

Services raise RuleBroken (422, or the status it names), NotAllowed (403), StaleVersion; DRF raises
its own for parsing, authentication and validation; a missing or out-of-scope object is a 404.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from lti_plugin.support.errors import RuleBroken


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="For machines: e.g. not_found, invalid, not_allowed:decide_close_plan.")
    message = serializers.CharField(help_text="For people, in the requester's language.")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   help_text="Per input field, what is wrong with it.")


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "stale_version"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_code = "if_match_required"


def _fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail, flattened: {"measures.0.text": ["..."]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            out.update(_fields(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(detail, list) and detail and not all(isinstance(item, str) for item in detail):
        for index, value in enumerate(detail):
            out.update(_fields(value, f"{prefix}.{index}" if prefix else str(index)))
    elif isinstance(detail, list):
        out[prefix or "non_field_errors"] = [str(item) for item in detail]
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"code": code, "message": str(message), "fields": fields or {}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, RuleBroken):
        status_code = exc.status if 400 <= exc.status < 500 else 422
        return Response(body(exc.code, exc.message), status=status_code)
    if isinstance(exc, Http404):
        return Response(body("not_found", _("Not found.")), status=404)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(body("not_allowed", _("Your role may not do this here.")), status=403)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=serializers.as_serializer_error(exc))
    if isinstance(exc, exceptions.ValidationError):
        return Response(body("invalid", _("Check the fields."), _fields(exc.detail)), status=400)
    if isinstance(exc, exceptions.APIException):
        if getattr(exc, "auth_header", None):  # set by DRF: 401 with how to authenticate
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait))
        detail = exc.detail
        message = detail if isinstance(detail, str) else _("The request was refused.")
        code = getattr(detail, "code", None) or exc.default_code
        return Response(body(str(code), str(message)), status=exc.status_code, headers=headers)
    return None
