"""Writes about people: absences with their substitutes, and availability on the line."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from agents.errors import DomainError
from agents.models import Absence, AbsenceKind, AgentState, AgentStatus, Person
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


# --- Availability on the line (PH-FOCUS) ------------------------------------------------------------


REGISTRATION_SLACK = timedelta(seconds=5)


def agent_status_get(person: Person, at: datetime) -> AgentStatus:
    """The person's status row, created offline on first use."""
    status, _ = AgentStatus.objects.get_or_create(
        person=person, defaults={"state": AgentState.OFFLINE, "state_since": at}
    )
    return status


def agent_state_set(*, person: Person, state: str, at: datetime) -> AgentStatus:
    """Set an agent's availability (available, break, wrap-up, offline). Idempotent: the same state again
    keeps `state_since`. A call in progress is not a state: it stays in `in_call` whatever is chosen."""
    if state not in AgentState.values:
        raise DomainError(
            "agent_state_unknown", f"Nezināms statuss / Unknown state: {state!r}", field="state"
        )
    status = agent_status_get(person, at)
    if status.state != state:
        AgentStatus.objects.filter(pk=status.pk).update(state=state, state_since=at, wrap_up_until=None)
        status.refresh_from_db()
    return status


def agent_claim_for_call(*, candidates: Sequence[int], sip_call_id: str, at: datetime) -> Person | None:
    """Claim the free agent among `candidates` (person ids) who was offered a call least recently.

    Side effects: sets the agent's `in_call` to `sip_call_id` and `last_offered_at` to `at`. The claim is a
    conditional UPDATE, so two call handlers racing for one agent get them once (PH-FOCUS).
    Idempotent per call: an agent already claimed by this call is not claimed again.
    """
    free = (
        AgentStatus.objects.filter(person_id__in=candidates, state=AgentState.AVAILABLE, in_call="")
        .exclude(wrap_up_until__gt=at)
        .order_by(F("last_offered_at").asc(nulls_first=True), "person_id")
        .values_list("pk", "person_id")
    )
    for status_id, person_id in free:
        claimed = AgentStatus.objects.filter(pk=status_id, state=AgentState.AVAILABLE, in_call="").update(
            in_call=sip_call_id, in_call_since=at, last_offered_at=at
        )
        if claimed:
            return Person.objects.select_related("user").get(pk=person_id)
    return None


def agent_release(
    *, sip_call_id: str, at: datetime, person_id: int | None = None, wrap_up: timedelta = timedelta(0)
) -> int:
    """Free the agents held by the call (only `person_id`, when given); after a conversation they wrap up
    for `wrap_up` first. Idempotent: an agent no longer held by this call is left alone.
    Returns how many were freed.
    """
    wrap_up_until = at + wrap_up if wrap_up > timedelta(0) else None
    held = AgentStatus.objects.filter(in_call=sip_call_id)
    if person_id is not None:
        held = held.filter(person_id=person_id)
    return held.update(in_call="", in_call_since=None, wrap_up_until=wrap_up_until)


def agent_registration_set(*, extension_contacts: dict[str, tuple[str, datetime]], at: datetime) -> None:
    """Mirror the registrar: extension → (contact, expires_at); agents missing from it are unregistered.
    A row is written only when the contact changes or the expiry moves by more than a few seconds (the
    registrar counts remaining seconds, so each read gives a slightly different instant)."""
    for status in AgentStatus.objects.select_related("person"):
        contact, until = extension_contacts.get(status.person.extension, ("", None))
        if status.registered_contact == contact and _about_equal(status.registered_until, until):
            continue
        AgentStatus.objects.filter(pk=status.pk).update(registered_contact=contact, registered_until=until)


def _about_equal(first: datetime | None, second: datetime | None) -> bool:
    if first is None or second is None:
        return first is second
    return abs(first - second) <= REGISTRATION_SLACK
