from __future__ import annotations

from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = "Citi kanāli / Other channels"
    default_auto_field = "django.db.models.BigAutoField"
