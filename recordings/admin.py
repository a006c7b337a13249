from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from recordings.models import Recording, RecordingAudit


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only the product's services write: listed and shown, never added, changed or deleted."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Recording)
class RecordingAdmin(ReadOnlyAdmin):
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
        "purged_at",
    )
    list_filter = ("legal_hold", "started_at")
    search_fields = ("sip_call_id", "interaction__reference", "sha256")
    date_hierarchy = "started_at"
    list_select_related = ("interaction", "agent__user")
    # The default change page would load every Interaction and Person into select boxes.
    raw_id_fields = ("interaction", "agent")


@admin.register(RecordingAudit)
class RecordingAuditAdmin(ReadOnlyAdmin):
    """The replay and retention audit log, read-only: who played, downloaded, held or purged what, and why."""

    list_display = (
        "at",
        "action",
        "recording",
        "user",
        "reason",
        "requests",
        "bytes_served",
        "client_address",
    )
    list_filter = ("action", "at")
    search_fields = ("reason", "user__username", "recording__interaction__reference")
    date_hierarchy = "at"
    list_select_related = ("user", "recording")
    raw_id_fields = ("recording", "user")
    exclude = ("token",)  # a live grant is a key to the audio: not even admins see it
