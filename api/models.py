"""API tokens for school information systems and scripts: hashed, scoped, revocable, expiring."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lti_plugin.support.models import Organisation, Person, SchoolUnit


class ApiToken(models.Model):
    """A named token acting in its creator's role, never beyond the creator's own scope.

    Only the SHA-256 of the secret is kept; the secret is shown once when the token is made. A
    principal's token reaches the units it names (a subset of theirs); the education chief's the
    organisation. Every use is in the audit trail under the token's name.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    secret_hash = models.CharField(max_length=64, unique=True)
    role = models.CharField(max_length=40)  # the creator's role the token acts in
    units = models.ManyToManyField(SchoolUnit, blank=True, related_name="+")  # empty: the organisation
    read_only = models.BooleanField(_("read only"), default=True)
    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="api_tokens")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="api_token_name_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
