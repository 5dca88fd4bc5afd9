"""RuleBroken: a refusal the user may read (the UI and API turn it into a 4xx in their language)."""

from __future__ import annotations


class RuleBroken(Exception):
    """A service refused an operation; `message` is for the person, `code` for machines and tests."""

    def __init__(self, message: str, *, code: str = "rule_broken", status: int = 422) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.status = status


class NotAllowed(RuleBroken):
    """The person's role may not take this action here (403)."""

    def __init__(self, message: str, *, code: str = "not_allowed") -> None:
        super().__init__(message, code=code, status=403)


class StaleVersion(RuleBroken):
    """Someone else changed the object since this person read it (409/412)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="stale_version", status=409)
