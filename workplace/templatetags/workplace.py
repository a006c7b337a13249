"""Template filters for the workplace: the ledger's codes in the page's language, times in Riga."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from django import template
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language

from workplace import labels

register = template.Library()


# One filter per table of words: {{ status.state|agent_state }}, {{ clock.rule_id|rule_name }}, ...
LABEL_FILTERS: dict[str, dict[Any, Promise]] = {
    "agent_state": labels.AGENT_STATES,
    "absence_kind": labels.ABSENCE_KINDS,
    "verdict": labels.VERDICTS,
    "channel": labels.CHANNELS,
    "rule_name": labels.RULES,
    "event_kind": labels.EVENT_KINDS,
    "weekday_name": labels.WEEKDAYS,
    "override_kind": labels.OVERRIDE_KINDS,
    "answer_way": labels.ANSWER_WAYS,
    "told_by": labels.TOLD_BY,
    "not_client_matter": labels.NOT_CLIENT_MATTER,
    "visit_outcome": labels.VISIT_OUTCOMES,
}
for _name, _table in LABEL_FILTERS.items():
    register.filter(_name, partial(labels.label, _table))


@register.filter
def riga(at: datetime | None, style: str = "datetime") -> str:
    """A Riga wall-clock time: 07.04.2026 10:00 (`date`: 07.04.2026; `time`: 10:00:05; `minute`: 10:00)."""
    if at is None:
        return ""
    local = timezone.localtime(at)
    formats = {"date": "%d.%m.%Y", "time": "%H:%M:%S", "minute": "%H:%M"}
    return local.strftime(formats.get(style, "%d.%m.%Y %H:%M"))


@register.filter
def seconds(milliseconds: int | None) -> str:
    """A duration in milliseconds as m:ss (or h:mm:ss)."""
    if milliseconds is None:
        return ""
    total = round(milliseconds / 1000)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def iso(at: datetime | None) -> str:
    """UTC ISO 8601 for the page's scripts (live counters)."""
    return at.astimezone(UTC).isoformat() if at else ""


@register.filter
def named(row: object) -> str:
    """A catalogue row's name in the page's language (rows carry name_lv and name_en)."""
    language = "en" if (get_language() or "lv").startswith("en") else "lv"
    return str(getattr(row, f"name_{language}", "") or row)


# Service-level charts: an SVG of bars 8 wide, 10 apart, 0..100 high (SVG attributes, not styles, so
# the page's content security policy allows them).
@register.filter
def chart_width(bars: int) -> int:
    return max(bars, 1) * 10


@register.filter
def chart_x(index: int) -> int:
    return index * 10 + 1


@register.filter
def chart_y(percent: float | None) -> float:
    return 100 - (percent or 0)
