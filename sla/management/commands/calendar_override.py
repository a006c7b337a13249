"""`manage.py calendar_override list|add|remove`: the calendar's overrides from the command line.

The same services as the admin: every change is checked, audited, and moves the pending clocks it affects.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agents.errors import DomainError
from sla.models import CalendarChange, CalendarOverride, OverrideKind
from sla.services import calendar_override_create, calendar_override_delete


def parse_day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as error:
        raise CommandError(f"{raw!r} is not a date (YYYY-MM-DD)") from error


class Command(BaseCommand):
    help = "List, add or remove calendar overrides (extra holiday, day off, working Saturday)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="overrides, oldest first")
        listing.add_argument("--year", type=int)
        add = actions.add_parser("add", help="add an override and move the clocks it affects")
        add.add_argument("day", type=parse_day)
        add.add_argument("kind", choices=OverrideKind.values)
        add.add_argument("--name", required=True)
        add.add_argument("--source", required=True, help="the legal source (law, Cabinet order)")
        add.add_argument("--replaces", type=parse_day, help="working_saturday: the weekday it replaces")
        add.add_argument("--note", default="")
        remove = actions.add_parser("remove", help="remove an override and move the clocks back")
        remove.add_argument("day", type=parse_day)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except DomainError as error:
            raise CommandError(error.message) from error

    def _list(self, options: dict[str, Any]) -> None:
        overrides = CalendarOverride.objects.order_by("day")
        if options["year"]:
            overrides = overrides.filter(day__year=options["year"])
        for override in overrides:
            replaces = f" (replaces {override.replaces})" if override.replaces else ""
            self.stdout.write(
                f"{override.day} {override.kind}{replaces}: {override.name} — {override.legal_source}"
            )

    def _add(self, options: dict[str, Any]) -> None:
        calendar_override_create(
            day=options["day"],
            kind=options["kind"],
            name=options["name"],
            legal_source=options["source"],
            replaces=options["replaces"],
            note=options["note"],
        )
        self._report(options["day"])

    def _remove(self, options: dict[str, Any]) -> None:
        override = CalendarOverride.objects.filter(day=options["day"]).first()
        if override is None:
            raise CommandError(f"No override on {options['day']}")
        calendar_override_delete(override=override)
        self._report(options["day"])

    def _report(self, day: date) -> None:
        # This command's own change: the newest one about this day made without a user (an admin may be
        # editing another day at the same moment).
        changes = CalendarChange.objects.filter(
            changed_by__isnull=True, description__contains=day.isoformat()
        )
        change = changes.latest("id")
        self.stdout.write(f"{change.description}: {change.clocks_moved} pending clocks moved")
