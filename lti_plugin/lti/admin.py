"""Django's admin site for the server operator: approve, register by hand, see the values to paste."""

from __future__ import annotations

from contextvars import ContextVar

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from .models import Deployment, Registration, RegistrationInvite, Status, ToolKey
from .registration import ToolUrls, approve


_tool_base: ContextVar[str] = ContextVar("tool_base", default="")


class DeploymentInline(admin.TabularInline):
    model = Deployment
    extra = 0
    fields = ("deployment_id", "organisation", "status", "created_at")
    readonly_fields = ("created_at",)


class RegistrationForm(forms.ModelForm):
    deployment_ids = forms.CharField(
        label=_("deployment ids"), required=False,
        help_text=_("Comma separated; Moodle's deployment id is the tool type id."))

    class Meta:
        model = Registration
        fields = ("organisation", "name", "issuer", "client_id", "auth_login_url", "auth_token_url",
                  "auth_audience", "key_set_url", "key_set", "status")

    def clean(self) -> dict:
        cleaned = super().clean()
        if not cleaned.get("key_set_url") and not cleaned.get("key_set"):
            raise forms.ValidationError(_("Give the platform's key set URL or its keys."))
        return cleaned


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    form = RegistrationForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("issuer", "client_id", "organisation", "status", "origin", "created_at")
    list_filter = ("status", "origin")
    search_fields = ("issuer", "client_id", "name")
    inlines = [DeploymentInline]
    actions = ["approve_selected"]
    readonly_fields = ("values_to_paste",)

    @admin.display(description=_("values to paste into the LMS"))
    def values_to_paste(self, obj: Registration) -> str:
        base = _tool_base.get()
        rows = ToolUrls.for_base(base).as_rows()
        return format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd><code>{}</code></dd>", rows))

    def get_form(self, request: HttpRequest, obj=None, **kwargs):  # type: ignore[no-untyped-def]
        # The admin object is shared by every request; the base URL is this request's, per context.
        _tool_base.set(f"{request.scheme}://{request.get_host()}")
        return super().get_form(request, obj, **kwargs)

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Registration, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        for deployment_id in [d.strip() for d in form.cleaned_data.get("deployment_ids", "").split(",") if d.strip()]:
            Deployment.objects.get_or_create(registration=obj, deployment_id=deployment_id,
                                             defaults={"organisation": obj.organisation, "status": obj.status})

    @admin.action(description=_("Approve the selected registrations"))
    def approve_selected(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        for registration in queryset.filter(status=Status.PENDING):
            approve(registration, by=f"admin:{request.user.get_username()}")
        messages.success(request, _("Approved."))


@admin.register(ToolKey)
class ToolKeyAdmin(admin.ModelAdmin):
    list_display = ("kid", "created_at", "retire_at")
    fields = ("kid", "public_jwk", "created_at", "retire_at")
    readonly_fields = ("kid", "public_jwk", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(RegistrationInvite)
class RegistrationInviteAdmin(admin.ModelAdmin):
    list_display = ("note", "organisation", "created_at", "expires_at", "used_at")
    readonly_fields = ("token_hash", "used_at", "registration")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # links are made by `manage.py create_registration_link`, which shows the token once
