from __future__ import annotations

from django.apps import AppConfig


class WorkplaceConfig(AppConfig):
    """The people's side: server-rendered pages for agents, handlers, team leads and quality officers."""

    name = "workplace"
    verbose_name = "Darba vieta / Workplace"
