from __future__ import annotations

from django.contrib import admin

from intake.models import Scan, Visit, VisitSlot


@admin.register(VisitSlot)
class VisitSlotAdmin(admin.ModelAdmin):
    list_display = ["starts_at", "booked", "capacity"]
    readonly_fields = ["booked"]
    date_hierarchy = "starts_at"


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["starts_at", "interaction", "outcome", "booked_by", "booked_at"]
    list_filter = ["outcome"]
    date_hierarchy = "starts_at"
    readonly_fields = [field.name for field in Visit._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False  # booked through the desk (VISIT-BOOK checks), never by hand here


@admin.register(Scan)
class ScanAdmin(admin.ModelAdmin):
    list_display = ["name", "interaction", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = [field.name for field in Scan._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False
