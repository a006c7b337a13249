"""Recognising portal questions: inbound mail from the national portal's coordinating body, matched by
configurable rules (PortalRule). A matched message opens a `portal` matter with the portal clocks.

A rule that would match every message would turn the whole inbox into portal questions, so rules are
checked when saved: at least one condition, valid patterns, and none that matches ordinary mail probes.
Patterns are staff-written but run on text a client controls: each search has a time limit (the
`regex` module's timeout), so a pattern that backtracks catastrophically costs a message a few
milliseconds and a logged error, never the mail watcher.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import regex
from django.core.exceptions import ValidationError

from mail.models import PortalRule
from mail.parsing import ParsedMail, header_text

# Ordinary text a real condition must not match all of: a pattern that matches the empty text, or every
# one of these, matches everything worth matching.
_PROBES = (
    "",
    "x",
    "Jautājums par konta atvēršanu",
    "Re: maksājums 2026-04-07",
    "Question about my payment",
    "0",
    " ",
)
# Headers every message has: "present" says nothing about where it came from.
_UBIQUITOUS_HEADERS = frozenset(
    {"from", "to", "date", "subject", "received", "message-id", "mime-version", "content-type",
     "return-path", "delivered-to", "cc", "content-transfer-encoding"}
)  # fmt: skip
# Texts on which a backtracking pattern shows itself: one character repeated, then one that fails it.
_SLOW_PROBES = tuple(char * 200 + "!" for char in ("a", "x", "0", " ", "-", "."))
PATTERN_TIMEOUT_S = 0.05
HEADER_VALUES_SEARCHED = 5
logger = logging.getLogger(__name__)
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def portal_rule_check(rule: PortalRule) -> None:
    """Raise ValidationError (per field, Latvian first) when `rule` is unusable or matches everything."""
    errors: dict[str, str] = {}
    if not (rule.sender.strip() or rule.subject_pattern.strip() or rule.header_name.strip()):
        errors["__all__"] = (
            "Norādiet vismaz vienu nosacījumu / Give at least one condition: sender, subject or header"
        )
    if rule.sender.strip() and not _sender_valid(rule.sender):
        errors["sender"] = "Norādiet adresi vai domēnu / Give an address or a domain, e.g. latvija.lv"
    for field, pattern in (
        ("subject_pattern", rule.subject_pattern),
        ("header_pattern", rule.header_pattern),
    ):
        if problem := _pattern_problem(pattern):
            errors[field] = problem
    if rule.header_pattern.strip() and not rule.header_name.strip():
        errors["header_name"] = "Norādiet galveni / Name the header the pattern is for"
    name = rule.header_name.strip()
    if name and not rule.header_pattern.strip() and name.lower() in _UBIQUITOUS_HEADERS:
        errors["header_name"] = f"Galvene {name} ir katrā vēstulē / Every message has {name}: give a pattern"
    if errors:
        raise ValidationError(errors)


def _sender_valid(sender: str) -> bool:
    value = sender.strip().lower()
    local, at, domain = value.rpartition("@")
    if at and not local:
        return bool(_DOMAIN.match(domain))  # "@latvija.lv" means the domain
    return bool(_DOMAIN.match(domain)) and (not at or bool(re.fullmatch(r"[^\s@]+", local)))


def _pattern_problem(pattern: str) -> str:
    if not pattern.strip():
        return ""
    try:
        compiled = regex.compile(pattern, regex.IGNORECASE)
        matches_anything = compiled.search("", timeout=PATTERN_TIMEOUT_S) is not None or all(
            compiled.search(probe, timeout=PATTERN_TIMEOUT_S) for probe in _PROBES if probe
        )
        for probe in _SLOW_PROBES:
            compiled.search(probe, timeout=PATTERN_TIMEOUT_S)
    except regex.error as error:
        return f"Nederīga izteiksme / Invalid regular expression: {error}"
    except TimeoutError:
        return (
            f"Izteiksme {pattern!r} dažiem tekstiem ir pārāk lēna; vienkāršojiet to / "
            f"The pattern {pattern!r} takes too long on some texts (nested repetition); simplify it"
        )
    if matches_anything:
        return f"Izteiksme {pattern!r} atbilst jebkuram tekstam / The pattern {pattern!r} matches anything"
    return ""


def portal_rule_match(rules: Iterable[PortalRule], parsed: ParsedMail) -> PortalRule | None:
    """The first active rule all of whose conditions hold for `parsed`, or None."""
    for rule in rules:
        if rule.active and _matches(rule, parsed):
            return rule
    return None


def _matches(rule: PortalRule, parsed: ParsedMail) -> bool:
    if rule.sender.strip() and not _sender_matches(rule.sender, parsed.from_address):
        return False
    if rule.subject_pattern.strip() and not _found(rule, rule.subject_pattern, parsed.subject):
        return False
    if rule.header_name.strip():
        # The first few values only: a message repeating the header cannot buy itself many time limits.
        found = parsed.headers.get(rule.header_name.strip().lower(), [])
        values = [header_text(value) for value in found[:HEADER_VALUES_SEARCHED]]
        if not values:
            return False
        pattern = rule.header_pattern.strip()
        if pattern and not any(_found(rule, pattern, value) for value in values):
            return False
    return True


def _found(rule: PortalRule, pattern: str, text: str) -> bool:
    """Whether `pattern` occurs in `text`; a pattern that errs or runs out of time does not match."""
    try:
        return regex.search(pattern, text, regex.IGNORECASE, timeout=PATTERN_TIMEOUT_S) is not None
    except (regex.error, TimeoutError) as error:
        # A rule saved before its pattern was checked, or a text no probe foresaw: the message is then
        # ordinary mail (a team lead can reclassify it), and the rule is named for an admin to fix.
        logger.error(
            "portal rule %s: pattern %r failed on a message (%r): not matched", rule.pk, pattern, error
        )
        return False


def _sender_matches(sender: str, address: str) -> bool:
    """An address matches itself; a domain matches itself and its subdomains."""
    wanted = sender.strip().lower().lstrip("@")
    address = address.lower()
    if "@" in wanted:
        return address == wanted
    if "." not in wanted:
        return False  # a bare top-level domain would be every sender in the country
    domain = address.rpartition("@")[2]
    return domain == wanted or domain.endswith("." + wanted)


def portal_rules_active() -> list[PortalRule]:
    return list(PortalRule.objects.filter(active=True))
