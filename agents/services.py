"""Writes about people: absences with their substitutes."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from agents.errors import DomainError
from agents.models import Absence, AbsenceKind, Person
from agents.selectors import coverage_resolve


def absence_create(
    *,
    person: Person,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    substitute: Person | None = None,
    forward_number: str = "",
    note: str = "",
    created_by: User | None = None,
) -> Absence:
    """Record an absence after checking that every substitute chain through it ends.

    Side effects: one Absence row. Not idempotent by key: the overlap check refuses a second absence
    of the same person over the same period, so a repeated request fails instead of doubling.
    """
    _absence_check_fields(person, kind, starts_at, ends_at, substitute, forward_number)
    with transaction.atomic():
        _absence_write_lock()
        overlapping = Absence.objects.filter(person=person, starts_at__lt=ends_at, ends_at__gt=starts_at)
        if overlapping.exists():
            raise DomainError(
                "absence_overlap",
                "Šajā laikā prombūtne jau ir reģistrēta / An absence already covers part of this period",
                field="starts_at",
            )
        absence = Absence.objects.create(
            person=person,
            kind=kind,
            starts_at=starts_at,
            ends_at=ends_at,
            substitute=substitute,
            forward_number=forward_number,
            note=note,
            created_by=created_by,
        )
        _absence_check_chains(absence)
    return absence


# Any two absence saves can interact through a chain (A→B saved while B→C→A is being saved), so all
# absence writes are serialised; they are a few a day.
ABSENCE_LOCK_KEY = 0x434341_4253  # "CCABS"


def _absence_write_lock() -> None:
    """One transaction-scoped lock for absence writes (SQLite serialises every write already)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ABSENCE_LOCK_KEY])


def _absence_check_fields(  # noqa: PLR0917 -- private helper mirroring absence_create's fields
    person: Person,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    substitute: Person | None,
    forward_number: str,
) -> None:
    if kind not in AbsenceKind.values:
        raise DomainError(
            "absence_kind_unknown",
            f"Nezināms prombūtnes veids / Unknown absence kind: {kind!r}",
            field="kind",
        )
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise DomainError("naive_datetime", "Laikam jānorāda laika josla / Times need a time zone")
    if ends_at <= starts_at:
        raise DomainError(
            "absence_ends_before_start",
            "Prombūtne beidzas pirms sākuma / The absence ends before it starts",
            field="ends_at",
        )
    if substitute is not None and substitute.pk == person.pk:
        raise DomainError(
            "substitute_self",
            "Nevar aizvietot pats sevi / A person cannot substitute for themselves",
            field="substitute",
        )
    if substitute is not None and forward_number:
        raise DomainError(
            "absence_two_targets",
            "Norādiet aizvietotāju vai pāradresācijas numuru, ne abus / "
            "Give a substitute or a forward number, not both",
            field="forward_number",
        )


def _absence_check_chains(absence: Absence) -> None:
    """Resolve every chain at each instant in the new absence's period where the set of absences changes.

    Raises DomainError (`substitute_cycle`, `substitute_uncovered`) naming the instant; the caller's
    transaction then rolls the new row back, so nothing is half-written.
    """
    nearby = list(
        Absence.objects.filter(starts_at__lt=absence.ends_at, ends_at__gt=absence.starts_at).select_related(
            "person__user", "substitute__user"
        )
    )
    moments = sorted(
        {absence.starts_at}
        | {a.starts_at for a in nearby if a.starts_at > absence.starts_at}
        | {a.ends_at for a in nearby if a.ends_at < absence.ends_at}
    )
    for moment in moments:
        active = {a.person_id: a for a in nearby if a.covers(moment)}
        for person_absence in active.values():
            try:
                coverage_resolve(person_absence.person, active)
            except DomainError as error:
                local = timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
                raise DomainError(error.code, f"{error.message} ({local})", field=error.field) from error
