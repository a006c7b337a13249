from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from recordings.models import Recording


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    """Recordings are written by `recording_store` only: the admin lists them and never serves or
    changes the audio (replay goes through the audited API)."""

    list_display = (
        "started_at",
        "interaction",
        "agent",
        "duration_ms",
        "loud_fraction",
        "size_bytes",
        "legal_hold",
    )
    list_filter = ("legal_hold", "started_at")
    search_fields = ("sip_call_id", "interaction__reference", "sha256")
    date_hierarchy = "started_at"
    list_select_related = ("interaction", "agent__user")
    # The default change page would load every Interaction and Person into select boxes.
    raw_id_fields = ("interaction", "agent")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
