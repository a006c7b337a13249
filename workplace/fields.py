"""Form fields the workplace's forms share."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import get_language

from contact_centre.models import Service


class ServiceField(forms.ModelChoiceField):
    """An active service of the catalogue, posted by its code and named in the page's language."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Service.objects.filter(active=True), to_field_name="code", **kwargs)

    def label_from_instance(self, obj: Service) -> str:
        english = (get_language() or "lv").startswith("en")
        return (obj.name_en if english else obj.name_lv) or obj.code
