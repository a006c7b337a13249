from __future__ import annotations

from typing import Any

import soundfile
from django import forms
from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from telephony.models import LineWorker, Prompt
from telephony.prompts import (
    PLACEHOLDERS,
    PromptAudioError,
    prompt_audio_path,
    prompt_cache_dir,
    prompt_duration_ms,
    prompt_placeholder_values,
    prompt_render,
    prompt_synthesised_path,
    prompt_unknown_placeholders,
)

MAX_RECORDING_SECONDS = 120
PLACEHOLDER_HELP = (
    "Latvian first, then English in the other field; the line speaks both. Placeholders filled in when the "
    "text is spoken: {hours_lv}, {hours_en} — the office hours (SLA › Office hours), in words; "
    "{email_lv}, {email_en} — the shared inbox (CC_MAIL_FROM), spelt out. Write numbers as words in "
    "Latvian: the synthesiser reads digits and symbols badly."
)


class PromptForm(forms.ModelForm):
    class Meta:
        model = Prompt
        fields = ("code", "text_lv", "text_en", "recording")
        help_texts = {"text_lv": PLACEHOLDER_HELP, "text_en": PLACEHOLDER_HELP}

    def _clean_text(self, field: str) -> str:
        text = str(self.cleaned_data[field])
        if unknown := prompt_unknown_placeholders(text):
            raise forms.ValidationError(
                f"Unknown placeholder {', '.join(unknown)}; known: "
                + ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
            )
        return text

    def clean_text_lv(self) -> str:
        return self._clean_text("text_lv")

    def clean_text_en(self) -> str:
        return self._clean_text("text_en")

    def clean_recording(self) -> Any:
        recording = self.cleaned_data["recording"]
        if not isinstance(recording, UploadedFile):  # unchanged, or cleared
            return recording
        try:
            info = soundfile.info(recording)
        except (soundfile.LibsndfileError, RuntimeError, TypeError) as error:
            raise forms.ValidationError(
                "Not a readable audio file (WAV, FLAC, OGG or MP3 are accepted)."
            ) from error
        finally:
            recording.seek(0)
        if info.channels > 2:  # noqa: PLR2004
            raise forms.ValidationError(f"Mono or stereo only; this file has {info.channels} channels.")
        if not 0 < info.duration <= MAX_RECORDING_SECONDS:
            raise forms.ValidationError(
                f"A prompt lasts up to {MAX_RECORDING_SECONDS} s; this one lasts {info.duration:.0f} s."
            )
        return recording


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    """Announcements: texts and an optional real recording. Saving prepares the audio the line will play.

    Generated audio goes into the cache under CC_RECORDINGS_DIR's parent, never into the code's
    telephony/prompts/ (read-only where the product is deployed); the committed files are refreshed
    with `manage.py prompts_generate` in a working copy, and the line prefers a cached synthesis of
    the current text whenever the committed file was generated from another.
    """

    form = PromptForm
    list_display = ("code", "text_lv", "has_recording", "updated_at")
    readonly_fields = ("spoken_lv", "spoken_en", "audio", "updated_at")
    actions = ("regenerate_from_text",)

    def get_readonly_fields(self, request: HttpRequest, obj: Prompt | None = None) -> tuple[str, ...]:
        # The line looks prompts up by code; renaming one would silence it.
        return (*self.readonly_fields, "code") if obj else self.readonly_fields

    @admin.display(boolean=True, description="Recording")
    def has_recording(self, obj: Prompt) -> bool:
        return bool(obj.recording)

    @admin.display(description="Spoken (LV)")
    def spoken_lv(self, obj: Prompt) -> str:
        return prompt_render(obj.text_lv, prompt_placeholder_values()) if obj.pk else "—"

    @admin.display(description="Spoken (EN)")
    def spoken_en(self, obj: Prompt) -> str:
        return prompt_render(obj.text_en, prompt_placeholder_values()) if obj.pk else "—"

    @admin.display(description="Audio the line plays")
    def audio(self, obj: Prompt) -> str:
        if not obj.pk:
            return "—"
        try:
            path = prompt_audio_path(obj.code)
        except PromptAudioError as error:
            return f"Not playable: {error}"
        return format_html("{} ({} s)", path, f"{prompt_duration_ms(path) / 1000:.1f}")

    def save_model(self, request: HttpRequest, obj: Prompt, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        try:
            path = prompt_audio_path(obj.code)  # converts an upload / speaks a changed text now, not mid-call
        except PromptAudioError as error:
            messages.warning(request, f"{obj}: the line cannot play this yet: {error}")
        else:
            messages.info(
                request, f"{obj}: the line plays {path.name} ({prompt_duration_ms(path) / 1000:.1f} s)"
            )

    @admin.action(description="Regenerate from text (synthesise with espeak-ng)")
    def regenerate_from_text(self, request: HttpRequest, queryset: QuerySet[Prompt]) -> None:
        for prompt in queryset:
            if prompt.recording:
                messages.info(request, f"{prompt}: skipped — the line plays the uploaded recording")
                continue
            try:
                path = prompt_synthesised_path(prompt.code)
            except PromptAudioError as error:
                messages.error(request, f"{prompt}: {error}")
                continue
            messages.success(
                request,
                f"{prompt}: spoken into {prompt_cache_dir()} as {path.name} "
                f"({prompt_duration_ms(path) / 1000:.1f} s); the committed file in telephony/prompts/ "
                "changes only with manage.py prompts_generate",
            )


@admin.register(LineWorker)
class LineWorkerAdmin(admin.ModelAdmin):
    list_display = ("name", "pid", "started_at", "heartbeat_at", "calls_active")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: LineWorker | None = None) -> bool:
        return False
