"""`manage.py sla_due RULE WHEN [WHEN ...]`: when RULE falls due for something that arrived at WHEN.

The same code the clocks use (policy numbers and calendar from the database).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from agents.errors import DomainError
from sla.calendar_source import current_calendar
from sla.services import policy_due_at, policy_get


def parse_when(raw: str) -> datetime:
    """ISO 8601; a time without an offset is Riga wall-clock time."""
    try:
        when = datetime.fromisoformat(raw)
    except ValueError as error:
        raise CommandError(
            f"WHEN {raw!r} is not an ISO 8601 date-time (e.g. 2026-04-03T10:00 or 2026-04-03T10:00:00+03:00)"
        ) from error
    return timezone.make_aware(when) if timezone.is_naive(when) else when


class Command(BaseCommand):
    help = (
        "Print, in ISO 8601 with the Riga offset, when RULE (e.g. EM-REPLY) falls due for each arrival WHEN."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("rule", help="Rule ID from the handbook, e.g. EM-ACK, EM-REPLY, PH-RING")
        parser.add_argument("when", nargs="+", help="Arrival time(s), ISO 8601")

    def handle(self, *args: Any, **options: Any) -> None:
        arrivals = [parse_when(raw) for raw in options["when"]]
        calendar = current_calendar()
        try:
            policy = policy_get(options["rule"])
            for arrived_at in arrivals:
                due_at = policy_due_at(policy, arrived_at, calendar)
                self.stdout.write(timezone.localtime(due_at).isoformat())
        except DomainError as error:
            raise CommandError(error.message) from error
