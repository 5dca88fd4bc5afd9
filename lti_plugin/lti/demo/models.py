"""The demo platform's own rows: its signing key and the links placed through deep linking."""

from django.db import models
from django.utils import timezone


class DemoKey(models.Model):
    """The demo platform's RSA key (encrypted like the tool's); it signs the demo's id_tokens."""

    kid = models.CharField(max_length=64, unique=True)
    private_key_encrypted = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)


class DemoPlacement(models.Model):
    """An item the tool returned through deep linking, placed in a demo course."""

    course_id = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=500)
    custom = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
