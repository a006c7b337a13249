from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from agents.admin_tools import validate_by_dry_run
from agents.permissions import acting_user
from contact_centre.admin import ReadOnlyAdmin
from sla.models import (
    Alert,
    AlertPreference,
    Breach,
    BreachReason,
    BreachReview,
    CalendarChange,
    CalendarOverride,
    ChannelPolicy,
    Clock,
    CompiledDay,
    DailyCount,
    Deadline,
    LedgerApplyFailure,
    LedgerCursor,
    OfficeHours,
    Policy,
)
from sla.services import calendar_override_create, calendar_override_delete, office_hours_set

OVERRIDE_FIELDS = ("day", "kind", "replaces", "name", "legal_source", "note")


class ChannelPolicyForm(forms.ModelForm):
    class Meta:
        model = ChannelPolicy
        fields = ("channel", "rule_ids", "note")

    def clean_rule_ids(self) -> list[str]:
        rule_ids = self.cleaned_data["rule_ids"]
        known = set(Policy.objects.values_list("rule_id", flat=True))
        if not isinstance(rule_ids, list) or not all(isinstance(r, str) for r in rule_ids):
            raise forms.ValidationError('Sarakstu, piem. ["SUBM-ANS"] / A list, e.g. ["SUBM-ANS"]')
        unknown = sorted(set(rule_ids) - known)
        if unknown:
            raise forms.ValidationError(f"Nezināmi noteikumi / Unknown rules: {', '.join(unknown)}")
        return rule_ids


@admin.register(ChannelPolicy)
class ChannelPolicyAdmin(admin.ModelAdmin):
    """Which clocks a portal question, a letter or an e-address message gets on arrival (new ones only)."""

    form = ChannelPolicyForm
    list_display = ("channel", "rule_ids", "note")


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    """Rule numbers; a change applies to clocks opened after it (running clocks keep their terms)."""

    list_display = ("rule_id", "kind", "amount", "extension_months", "title_lv", "source")
    readonly_fields = ("rule_id", "kind")  # code and reports name rules by ID; only the numbers change

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Policy | None = None) -> bool:
        return False


class OfficeHoursForm(forms.ModelForm):
    class Meta:
        model = OfficeHours
        fields = ("weekday", "opens_at", "closes_at")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            validate_by_dry_run(office_hours_set, **data)
        return data


@admin.register(OfficeHours)
class OfficeHoursAdmin(admin.ModelAdmin):
    """Saved through office_hours_set, so running clocks move with the new hours."""

    form = OfficeHoursForm
    list_display = ("weekday", "opens_at", "closes_at")

    def save_model(self, request: HttpRequest, obj: OfficeHours, form: forms.ModelForm, change: bool) -> None:
        office_hours_set(changed_by=acting_user(request.user), **form.cleaned_data)
        obj.pk = OfficeHours.objects.get(weekday=obj.weekday).pk

    def delete_model(self, request: HttpRequest, obj: OfficeHours) -> None:
        office_hours_set(
            weekday=obj.weekday, opens_at=None, closes_at=None, changed_by=acting_user(request.user)
        )


class CalendarOverrideForm(forms.ModelForm):
    class Meta:
        model = CalendarOverride
        fields = OVERRIDE_FIELDS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            validate_by_dry_run(
                calendar_override_create, **{name: data.get(name) for name in OVERRIDE_FIELDS}
            )
        return data


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    """Every add or delete goes through the service: checked, audited, and pending clocks recomputed."""

    form = CalendarOverrideForm
    list_display = ("day", "kind", "replaces", "name", "legal_source")
    list_filter = ("kind",)
    date_hierarchy = "day"

    def has_change_permission(self, request: HttpRequest, obj: CalendarOverride | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: CalendarOverride, form: forms.ModelForm, change: bool
    ) -> None:
        data: dict[str, Any] = {name: form.cleaned_data.get(name) for name in OVERRIDE_FIELDS}
        obj.pk = calendar_override_create(created_by=acting_user(request.user), **data).pk

    def delete_model(self, request: HttpRequest, obj: CalendarOverride) -> None:
        calendar_override_delete(override=obj, deleted_by=acting_user(request.user))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarOverride]) -> None:
        for override in queryset:
            calendar_override_delete(override=override, deleted_by=acting_user(request.user))


@admin.register(CalendarChange)
class CalendarChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "description", "changed_by", "clocks_moved")


@admin.register(Clock)
class ClockAdmin(ReadOnlyAdmin):
    list_display = ("interaction", "rule_id", "state", "started_at", "due_at", "met_at", "deadline")
    list_filter = ("rule_id", "state")
    list_select_related = ("interaction", "deadline")


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ("due_at", "basis_on", "working_days", "previous_due_at", "recomputed_by")
    list_select_related = ("recomputed_by",)


@admin.register(Breach)
class BreachAdmin(ReadOnlyAdmin):
    list_display = ("rule_id", "interaction", "due_at", "breached_at", "unit", "owner", "acknowledged_at")
    list_filter = ("rule_id", "unit")
    list_select_related = ("interaction", "unit", "owner__user")


@admin.register(LedgerApplyFailure)
class LedgerApplyFailureAdmin(ReadOnlyAdmin):
    """Ledger events sla could not apply, with the reason; `manage.py sla_retry_failures` re-applies them."""

    list_display = ("seq", "interaction", "code", "message", "failed_at", "resolved_at")
    list_filter = ("code",)


@admin.register(LedgerCursor)
class LedgerCursorAdmin(ReadOnlyAdmin):
    list_display = ("last_seq",)


@admin.register(DailyCount)
class DailyCountAdmin(ReadOnlyAdmin):
    list_display = ("day", "service", "channel", "cases", "delays", "complaints", "calls_by_ring_3")
    list_filter = ("channel", "service")
    date_hierarchy = "day"


@admin.register(CompiledDay)
class CompiledDayAdmin(ReadOnlyAdmin):
    list_display = ("day", "compiled_at")


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("kind", "rule_id", "recipient", "deliver_at", "email_state", "read_at")
    list_filter = ("kind", "rule_id", "email_state")


@admin.register(AlertPreference)
class AlertPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "immediate")


@admin.register(BreachReason)
class BreachReasonAdmin(admin.ModelAdmin):
    """The reasons team leads choose from; retire one with `active` (acknowledged breaches keep it)."""

    list_display = ("code", "name_lv", "name_en", "active", "position")
    list_editable = ("active", "position")

    def has_delete_permission(self, request: HttpRequest, obj: BreachReason | None = None) -> bool:
        return False


@admin.register(BreachReview)
class BreachReviewAdmin(ReadOnlyAdmin):
    list_display = ("breach", "action", "reason", "by", "at")
    list_filter = ("action", "reason")
