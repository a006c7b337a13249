from __future__ import annotations

from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sla"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sla import receivers  # noqa: F401 -- connects the ledger listener
