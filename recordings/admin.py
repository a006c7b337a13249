from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import F
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from recordings.models import (
    Recording,
    RecordingAudit,
    Scorecard,
    ScorecardAcknowledgement,
    ScorecardAnswer,
    ScorecardDispute,
    ScorecardItem,
    ScorecardTemplate,
)


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


class ScorecardItemInline(admin.TabularInline):
    model = ScorecardItem
    extra = 0
    fields = ("position", "code", "text_lv", "text_en", "rule_id", "kind", "scale_max", "weight")


@admin.register(ScorecardTemplate)
class ScorecardTemplateAdmin(admin.ModelAdmin):
    """The quality officers' forms and their items. A change raises `version`; submitted scorecards keep
    the items as they were (their answers hold a copy), and an answered item cannot be deleted."""

    list_display = ("code", "name_lv", "name_en", "active", "version")
    list_filter = ("active",)
    readonly_fields = ("version",)
    inlines = [ScorecardItemInline]

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: list[BaseInlineFormSet], change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        if change and (form.has_changed() or any(formset.has_changed() for formset in formsets)):
            ScorecardTemplate.objects.filter(pk=form.instance.pk).update(version=F("version") + 1)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ScorecardAnswerInline(ReadOnlyInline):
    model = ScorecardAnswer
    fields = ("item_position", "item_code", "item_text_lv", "item_rule_id", "value", "item_scale_max", "note")


class ScorecardAcknowledgementInline(ReadOnlyInline):
    model = ScorecardAcknowledgement


class ScorecardDisputeInline(ReadOnlyInline):
    model = ScorecardDispute


@admin.register(Scorecard)
class ScorecardAdmin(ReadOnlyAdmin):
    """Scorecards are written through the API's services only: read-only here, with their answers as
    submitted, the agent's acknowledgement and any dispute."""

    list_display = ("recording", "template", "officer", "created_at", "submitted_at", "score", "supersedes")
    list_filter = ("template", "submitted_at")
    search_fields = ("recording__interaction__reference", "officer__username")
    date_hierarchy = "created_at"
    list_select_related = ("recording", "template", "officer", "supersedes")
    raw_id_fields = ("recording", "supersedes")
    inlines = [ScorecardAnswerInline, ScorecardAcknowledgementInline, ScorecardDisputeInline]
