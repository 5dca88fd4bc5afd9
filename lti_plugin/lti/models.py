"""Platform registrations, deployments, the tool's keys, OIDC state and verified launches.

Nothing here lives in process memory: any app process can finish a login another one began.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lti_plugin.support.models import Organisation


class Status(models.TextChoices):
    PENDING = "pending", _("pending approval")
    ACTIVE = "active", _("active")
    DISABLED = "disabled", _("disabled")


class Registration(models.Model):
    """One platform client: issuer + client id, its endpoints and how we get its public keys."""

    class Origin(models.TextChoices):
        DYNAMIC = "dynamic", _("dynamic registration")
        MANUAL = "manual", _("manual registration")
        DEMO = "demo", _("demo platform")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="registrations",
                                     verbose_name=_("organisation"))
    name = models.CharField(_("platform name"), max_length=200, blank=True)
    issuer = models.CharField(_("issuer"), max_length=255)
    client_id = models.CharField(_("client id"), max_length=255)
    auth_login_url = models.URLField(_("authentication request URL"), max_length=500)
    auth_token_url = models.URLField(_("access token URL"), max_length=500, blank=True)
    auth_audience = models.CharField(_("token audience"), max_length=500, blank=True)
    key_set_url = models.URLField(_("key set URL"), max_length=500, blank=True)
    # Keys given inline (the demo platform, or a platform without a JWKS URL).
    key_set = models.JSONField(_("key set"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    origin = models.CharField(_("registered by"), max_length=10, choices=Origin.choices, default=Origin.MANUAL)
    product_family_code = models.CharField(_("product"), max_length=100, blank=True)
    platform_configuration = models.JSONField(null=True, blank=True, editable=False)
    registration_response = models.JSONField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("platform registration")
        verbose_name_plural = _("platform registrations")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "client_id"], name="registration_issuer_client_unique"),
            models.CheckConstraint(condition=~models.Q(key_set_url="") | models.Q(key_set__isnull=False),
                                   name="registration_has_keys"),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.issuer} ({self.client_id})"

    @property
    def is_active(self) -> bool:
        return self.status == Status.ACTIVE

    @property
    def platform_origin(self) -> str:
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"


class Deployment(models.Model):
    """A deployment of the tool inside a platform (Moodle: the tool type id)."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="deployments")
    # Usually the registration's organisation; one client can serve several school owners.
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="deployments",
                                     verbose_name=_("organisation"))
    deployment_id = models.CharField(_("deployment id"), max_length=255)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("deployment")
        verbose_name_plural = _("deployments")
        constraints = [
            models.UniqueConstraint(fields=["registration", "deployment_id"], name="deployment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.registration} / {self.deployment_id}"


class ToolKeyQuerySet(models.QuerySet["ToolKey"]):
    def published(self) -> ToolKeyQuerySet:
        """Keys platforms may still see signatures from: the current one and those not yet retired."""
        now = timezone.now()
        return self.filter(models.Q(retire_at__isnull=True) | models.Q(retire_at__gt=now)).order_by("-created_at")


class ToolKey(models.Model):
    """An RSA key pair of the tool. The private half is stored encrypted (see keys.py)."""

    kid = models.CharField(max_length=64, unique=True)
    public_jwk = models.JSONField()
    private_key_encrypted = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    # Set when a newer key takes over signing: still published until then, so nothing in flight breaks.
    retire_at = models.DateTimeField(null=True, blank=True)

    objects = ToolKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("tool key")
        verbose_name_plural = _("tool keys")

    def __str__(self) -> str:
        return self.kid


class OidcState(models.Model):
    """A login in progress: the state we handed out, its nonce and which registration it is for."""

    state = models.CharField(max_length=100, primary_key=True)
    nonce = models.CharField(max_length=100)
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE)
    target_link_uri = models.URLField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)


class UsedNonce(models.Model):
    """Every nonce a platform sent in an accepted id_token: one use only."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE)
    nonce = models.CharField(max_length=255)
    used_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["registration", "nonce"], name="nonce_single_use")]


class Launch(models.Model):
    """A verified launch: who, where, with which roles. Sessions point at these rows."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE)
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE)
    message_type = models.CharField(max_length=50)
    sub = models.CharField(max_length=255, blank=True)
    name = models.CharField(max_length=255, blank=True)
    context_id = models.CharField(max_length=255, blank=True)
    context_title = models.CharField(max_length=255, blank=True)
    context_label = models.CharField(max_length=255, blank=True)
    resource_link_id = models.CharField(max_length=255, blank=True)
    roles = models.JSONField(default=list)
    tool_role = models.CharField(max_length=30)
    locale = models.CharField(max_length=10, default="sv")
    claims = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The person the tool keeps for (organisation, issuer, sub), set as the launch is recorded: each
    # page of the launch reads it with the launch. Launches recorded before it existed have none.
    person = models.ForeignKey("support.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    def __str__(self) -> str:
        return f"{self.message_type} {self.id}"

    @property
    def display_name(self) -> str:
        return self.name or self.sub


class RegistrationInvite(models.Model):
    """A one-time registration link the operator hands an LMS admin: registers pre-approved."""

    token_hash = models.CharField(max_length=64, unique=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    registration = models.ForeignKey(Registration, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        verbose_name = _("registration link")
        verbose_name_plural = _("registration links")
