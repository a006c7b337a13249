"""Admin for the mail channel: mailbox settings and health, templates, and read-only records."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.template import Template, TemplateSyntaxError

from mail.ingest import IngestOutcome, quarantine_release
from mail.models import (
    FolderCheckpoint,
    Mailbox,
    MailTemplate,
    OutboundMail,
    PortalRule,
    QuarantinedMessage,
    StoredMessage,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of what happened: looked at, never edited or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FolderCheckpointInline(admin.TabularInline):
    model = FolderCheckpoint
    extra = 0
    can_delete = False
    readonly_fields = [
        "folder",
        "role",
        "imap_uidvalidity",
        "last_uid",
        "uidvalidity_changes",
        "last_scan_at",
        "last_idle_event_at",
    ]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PortalRule)
class PortalRuleAdmin(admin.ModelAdmin):
    """How portal questions are told from other mail; a rule that would match any mail is refused."""

    list_display = (
        "name",
        "sender",
        "subject_pattern",
        "header_name",
        "header_pattern",
        "active",
        "position",
    )
    list_editable = ("active", "position")


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ["address", "auto_acknowledge", "heartbeat_at", "last_error_at"]
    readonly_fields = ["connected_at", "heartbeat_at", "last_error", "last_error_at"]
    inlines = [FolderCheckpointInline]


class MailTemplateForm(ModelForm):
    class Meta:
        model = MailTemplate
        fields = ["code", "kind", "name", "subject", "body", "active"]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        for field in ("subject", "body"):
            try:
                Template(cleaned.get(field, ""))
            except TemplateSyntaxError as error:
                raise ValidationError({field: f"Veidnes kļūda / Template error: {error}"}) from error
        return cleaned


@admin.register(MailTemplate)
class MailTemplateAdmin(admin.ModelAdmin):
    form = MailTemplateForm
    list_display = ["name", "code", "kind", "active"]
    list_filter = ["kind", "active"]


@admin.register(StoredMessage)
class StoredMessageAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "folder", "from_address", "subject", "automatic_reason", "interaction"]
    list_filter = ["folder", "automatic_reason"]
    search_fields = ["message_id", "subject", "from_address"]
    exclude = ["html"]  # shown sanitised in the workplace UI, not as raw markup here


@admin.register(QuarantinedMessage)
class QuarantinedMessageAdmin(ReadOnlyAdmin):
    list_display = ["quarantined_at", "folder", "imap_uid", "reason", "released_at"]
    list_filter = ["folder", "released_at"]
    exclude = ["raw"]
    actions = ["release"]

    @admin.action(description="Ierakstīt vēlreiz / Record again")
    def release(self, request: HttpRequest, queryset: QuerySet[QuarantinedMessage]) -> None:
        outcomes = [quarantine_release(row) for row in queryset]
        recorded = sum(outcome != IngestOutcome.QUARANTINED for outcome in outcomes)
        self.message_user(request, f"{recorded} / {len(outcomes)}", messages.INFO)


@admin.register(OutboundMail)
class OutboundMailAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "to_address", "state", "attempts", "sent_at", "last_error"]
    list_filter = ["kind", "state"]
    search_fields = ["message_id", "to_address", "subject"]
    exclude = ["raw"]
