"""Shared checks for the support tests: a refusal writes nothing at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.apps import apps

from lti_plugin.support.errors import RuleBroken


def rows() -> dict[str, int]:
    """How many rows every support table holds (the audit trail included)."""
    return {model.__name__: model.objects.count() for model in apps.get_app_config("support").get_models()}


@contextmanager
def refused(code: str, kind: type[RuleBroken] = RuleBroken) -> Iterator[None]:
    """The block is refused with `code`, and nothing at all was written."""
    before = rows()
    with pytest.raises(kind) as refusal:
        yield
    assert refusal.value.code == code, refusal.value.message
    after = rows()
    assert after == before, {table: (before[table], after[table]) for table in before if after[table] != before[table]}
