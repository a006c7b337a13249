from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from contact_centre.models import ChainHead, Event, Interaction, Service


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("code", "name_lv", "name_en", "active", "position")
    list_editable = ("active", "position")


class ReadOnlyAdmin(admin.ModelAdmin):
    """The ledger is written by services only; the admin shows it."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class EventInline(admin.TabularInline):
    model = Event
    fields = ("seq", "kind", "occurred_at", "actor", "payload", "source_key")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdmin):
    list_display = (
        "reference",
        "channel",
        "service",
        "client_contact",
        "subject",
        "state",
        "is_complaint",
        "opened_at",
    )
    list_filter = ("channel", "state", "is_complaint", "not_client_matter", "service")
    search_fields = ("reference", "client_contact", "client_name", "subject")
    date_hierarchy = "opened_at"
    inlines = [EventInline]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "interaction", "kind", "occurred_at", "source_key")
    list_filter = ("kind",)
    search_fields = ("source_key",)


@admin.register(ChainHead)
class ChainHeadAdmin(ReadOnlyAdmin):
    list_display = ("last_seq", "last_hash")
