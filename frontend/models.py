"""What the pages keep of their own: the one-time tokens of submitted forms."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class UsedFormToken(models.Model):
    """A form's one-time token, spent in the same transaction as the write it carried: a second
    submit of the same form (a double click, a resent request) finds it and creates nothing."""

    token = models.UUIDField(unique=True)
    person = models.ForeignKey("support.Person", on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=60)
    used_at = models.DateTimeField(default=timezone.now)
