"""Regenerate the committed prompt files (telephony/prompts/) from their texts, or check them."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from telephony.models import PromptCode
from telephony.prompts import (
    PROMPT_DIR,
    PromptAudioError,
    prompt_check,
    prompt_duration_ms,
    prompt_generate,
    prompt_generated_path,
)


class Command(BaseCommand):
    help = (
        "Speak each prompt's text (Latvian, then English; office hours and CC_MAIL_FROM filled in) with "
        f"espeak-ng into {PROMPT_DIR}, as 16-bit mono 8 kHz WAV. Run it after changing a text or the office "
        "hours, and commit the files. --check only reports files that are missing, stale or malformed."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--code", choices=PromptCode.values, help="Only this prompt (default: all)")
        parser.add_argument(
            "--check", action="store_true", help="Write nothing; fail naming the prompts not fit to play"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        codes = [options["code"]] if options["code"] else list(PromptCode.values)
        if options["check"]:
            self._check(codes)
            return
        for code in codes:
            try:
                changed = prompt_generate(code)
            except PromptAudioError as error:
                raise CommandError(f"{code}: {error}") from error
            path = prompt_generated_path(code)
            state = "written" if changed else "unchanged"
            self.stdout.write(f"{code}: {state} {path} ({prompt_duration_ms(path) / 1000:.1f} s)")

    def _check(self, codes: list[str]) -> None:
        problems = {code: problem for code in codes if (problem := prompt_check(code))}
        for code, problem in problems.items():
            self.stderr.write(f"{code}: {problem}")
        if problems:
            raise CommandError(f"Prompt files not fit to play: {', '.join(problems)}")
        self.stdout.write(f"{len(codes)} prompt file(s) present and current in {PROMPT_DIR}")
