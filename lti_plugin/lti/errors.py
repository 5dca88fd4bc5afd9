"""A refused LTI exchange: a 4xx and a short page that says why, in the user's language."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

log = logging.getLogger("elevstod.lti")


class LtiRefusal(Exception):
    """Why an LTI message or registration was refused; `message` is shown to the user."""

    def __init__(self, message: str, *, status: int = 400, code: str = "refused") -> None:
        super().__init__(str(message))
        self.message = message
        self.status = status
        self.code = code


def render_refusal(request: HttpRequest, refusal: LtiRefusal) -> HttpResponse:
    # The code names the check that failed; never the token, claims or a person's data.
    log.info("lti refusal: %s (%s %s)", refusal.code, request.method, request.path)
    return render(request, "lti/refused.html", {"message": refusal.message, "code": refusal.code},
                  status=refusal.status)
