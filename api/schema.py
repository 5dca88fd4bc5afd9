"""The OpenAPI schema: every operation declares the errors it can answer with, in one shape."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

from .errors import ErrorSerializer

READ_ERRORS = (400, 401, 403, 404, 406)
WRITE_ERRORS = (415, 422)


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        codes = [*READ_ERRORS]
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += WRITE_ERRORS
        codes += getattr(self.view, "extra_error_codes", ())
        for code in sorted(set(codes)):
            responses.setdefault(str(code), self._get_response_for_code(ErrorSerializer, str(code),
                                                                         direction=direction))
        return responses
