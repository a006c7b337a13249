"""Template filters for the workplace: the ledger's codes in the page's language, times in Riga."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.translation import get_language

from workplace import labels

register = template.Library()


@register.filter
def agent_state(code: str) -> str:
    return labels.label(labels.AGENT_STATES, code)


@register.filter
def absence_kind(code: str) -> str:
    return labels.label(labels.ABSENCE_KINDS, code)


@register.filter
def verdict(code: str) -> str:
    return labels.label(labels.VERDICTS, code)


@register.filter
def channel(code: str) -> str:
    return labels.label(labels.CHANNELS, code)


@register.filter
def rule_name(rule_id: str) -> str:
    return labels.label(labels.RULES, rule_id)


@register.filter
def event_kind(code: str) -> str:
    return labels.label(labels.EVENT_KINDS, code)


@register.filter
def riga(at: datetime | None, style: str = "datetime") -> str:
    """A Riga wall-clock time: 07.04.2026 10:00 (`date`: 07.04.2026; `time`: 10:00:05)."""
    if at is None:
        return ""
    local = timezone.localtime(at)
    return local.strftime({"date": "%d.%m.%Y", "time": "%H:%M:%S"}.get(style, "%d.%m.%Y %H:%M"))


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


@register.filter
def weekday_name(weekday: int) -> str:
    return labels.label(labels.WEEKDAYS, weekday)


@register.filter
def override_kind(code: str) -> str:
    return labels.label(labels.OVERRIDE_KINDS, code)


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
