from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from agents.admin_tools import validate_by_dry_run
from agents.models import Absence, AgentStatus, Person, Unit
from agents.permissions import acting_user
from agents.services import absence_create

ABSENCE_FIELDS = ("person", "kind", "starts_at", "ends_at", "substitute", "forward_number", "note")


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    filter_horizontal = ("leads",)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("__str__", "unit", "position", "extension")
    list_filter = ("unit",)
    search_fields = ("user__first_name", "user__last_name", "user__username", "extension")
    list_select_related = ("user", "unit")


class AbsenceForm(forms.ModelForm):
    class Meta:
        model = Absence
        fields = ABSENCE_FIELDS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            validate_by_dry_run(absence_create, **{name: data.get(name) for name in ABSENCE_FIELDS})
        return data


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    """Absences are created through the same checks as the API; to change one, delete and re-create it."""

    form = AbsenceForm
    list_display = ("person", "kind", "starts_at", "ends_at", "substitute", "forward_number")
    list_filter = ("kind",)
    list_select_related = ("person__user", "substitute__user")

    def has_change_permission(self, request: HttpRequest, obj: Absence | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Absence, form: forms.ModelForm, change: bool) -> None:
        fields: dict[str, Any] = {name: form.cleaned_data.get(name) for name in ABSENCE_FIELDS}
        created = absence_create(created_by=acting_user(request.user), **fields)
        obj.pk = created.pk


@admin.register(AgentStatus)
class AgentStatusAdmin(admin.ModelAdmin):
    """Availability on the line; the call and the registration are the line's to write."""

    list_display = ("person", "state", "state_since", "in_call", "registered_contact", "last_offered_at")
    list_filter = ("state",)
    fields = ("person", "state", "state_since", "in_call", "in_call_since", "wrap_up_until",
              "last_offered_at", "registered_contact", "registered_until")  # fmt: skip
    readonly_fields = ("in_call", "in_call_since", "wrap_up_until", "last_offered_at", "registered_contact",
                       "registered_until")  # fmt: skip
