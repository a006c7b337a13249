from __future__ import annotations

from django.apps import AppConfig


class ContactCentreConfig(AppConfig):
    name = "contact_centre"
    default_auto_field = "django.db.models.BigAutoField"
