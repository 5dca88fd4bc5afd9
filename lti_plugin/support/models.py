"""The domain's rows. For now the organisation (school owner) that owns platform registrations."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Organisation(models.Model):
    """A school owner (municipality or independent provider): owns registrations and picks a pack."""

    name = models.CharField(_("name"), max_length=200)
    # The framework pack (se, ax, fi-2010, fi-2025); the packs themselves come with the support core.
    pack = models.CharField(_("framework pack"), max_length=20, default="se")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name
