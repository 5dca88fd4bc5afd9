from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from lti_plugin.middleware import FRAME_ORIGINS_CACHE_KEY

from .models import Registration


@receiver([post_save, post_delete], sender=Registration)
def forget_frame_origins(**kwargs: object) -> None:
    """Who may frame the tool changes with the active registrations."""
    cache.delete(FRAME_ORIGINS_CACHE_KEY)
