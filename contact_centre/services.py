"""Writes to the ledger. Each records one fact, idempotently on the fact's source key."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Case, CharField, Value, When
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone

from agents.errors import DomainError
from agents.models import Person, Unit
from contact_centre.models import (
    ChainHead,
    Channel,
    Event,
    EventKind,
    Interaction,
    InteractionState,
    Service,
)
from contact_centre.signals import ledger_changed

REFERENCE_PREFIX = "VK"


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None:
        raise DomainError("naive_datetime", f"{name} needs a time zone / {name} jānorāda ar laika joslu")


# The ledger's writes use atomic(savepoint=False): alone, each is its own transaction; inside a caller's
# transaction, an error rolls back to the caller's savepoint (if it made one) instead of to a savepoint of
# ours that would cost two more round trips on every append.


def _lock_head() -> ChainHead:
    """Lock the chain tip; every append holds it until commit, so `seq` follows commit order."""
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        ChainHead.objects.get_or_create(pk=1)
        head = ChainHead.objects.select_for_update().get(pk=1)
    return head


def _existing(source_key: str | None) -> Event | None:
    if source_key is None:
        return None
    return Event.objects.select_related("interaction").filter(source_key=source_key).first()


def _append_locked(
    head: ChainHead,
    *,
    interaction: Interaction,
    kind: str,
    occurred_at: datetime,
    payload: dict[str, Any],
    source_key: str | None,
    actor: User | None,
) -> Event:
    event = Event(
        seq=head.last_seq + 1,
        interaction=interaction,
        kind=kind,
        occurred_at=occurred_at,
        actor=actor,
        payload=payload,
        source_key=source_key,
        prev_hash=head.last_hash,
    )
    event.hash = event.compute_hash()
    event.save()
    head.last_seq, head.last_hash = event.seq, event.hash
    head.save(update_fields=["last_seq", "last_hash"])
    _announce_after_commit(event.seq)
    return event


class _Announcement:
    """`ledger_changed` once per transaction, with its last seq: a transaction that appends a hundred
    events (the mail watcher stores a FETCH batch in one) wakes the listeners once, not a hundred times."""

    def __init__(self, seq: int) -> None:
        self.seq = seq

    def __call__(self) -> None:
        ledger_changed.send(sender=Event, seq=self.seq)


def _announce_after_commit(seq: int) -> None:
    # Django drops callbacks registered inside a savepoint that rolls back, so a pending announcement
    # found here will run; if none is pending (none yet, or it was rolled back), register one.
    for _savepoints, callback, _robust in transaction.get_connection().run_on_commit:
        if isinstance(callback, _Announcement):
            callback.seq = max(callback.seq, seq)
            return
    transaction.on_commit(_Announcement(seq))


def event_append(
    *,
    interaction: Interaction,
    kind: str,
    occurred_at: datetime,
    payload: dict[str, Any] | None = None,
    source_key: str | None = None,
    actor: User | None = None,
) -> Event:
    """Append one event to an existing interaction.

    Side effects: an Event row and the chain tip; after commit, `ledger_changed`.
    Idempotency key: `source_key` (the same fact twice returns the first event).
    """
    _require_aware(occurred_at, "occurred_at")
    if kind not in EventKind.values:
        raise DomainError("event_kind_unknown", f"Unknown event kind {kind!r}")
    with transaction.atomic(savepoint=False):
        head = _lock_head()
        if (existing := _existing(source_key)) is not None:
            return existing
        return _append_locked(
            head,
            interaction=interaction,
            kind=kind,
            occurred_at=occurred_at,
            payload=payload or {},
            source_key=source_key,
            actor=actor,
        )


def interaction_open(
    *,
    channel: str,
    kind: str,
    occurred_at: datetime,
    source_key: str,
    payload: dict[str, Any] | None = None,
    client_name: str = "",
    client_contact: str = "",
    subject: str = "",
    service: Service | None = None,
    unit: Unit | None = None,
    owner: Person | None = None,
    actor: User | None = None,
    intake_rule: str = "",
) -> Interaction:
    """Open an interaction with its first event.

    Side effects: an Interaction and an Event row. Idempotency key: `source_key` of the opening fact;
    recording it again returns the interaction it opened the first time.
    """
    _require_aware(occurred_at, "occurred_at")
    if channel not in Channel.values:
        raise DomainError(
            "channel_unknown", f"Nezināms kanāls / Unknown channel {channel!r}", field="channel"
        )
    with transaction.atomic(savepoint=False):
        head = _lock_head()
        if (existing := _existing(source_key)) is not None:
            return existing.interaction
        interaction = Interaction.objects.create(
            channel=channel,
            client_name=client_name[:300],
            client_contact=client_contact[:320],
            subject=subject[:998],
            service=service,
            unit=unit,
            owner=owner,
            opened_at=occurred_at,
            intake_rule=intake_rule[:200],
        )
        year = timezone.localtime(occurred_at).year
        interaction.reference = f"{REFERENCE_PREFIX}-{year}-{interaction.pk:06d}"
        interaction.save(update_fields=["reference"])
        _append_locked(
            head,
            interaction=interaction,
            kind=kind,
            occurred_at=occurred_at,
            payload=payload or {},
            source_key=source_key,
            actor=actor,
        )
    return interaction


@dataclass(frozen=True)
class Opening:
    """One fact that opens an interaction, for `interactions_open_many`."""

    channel: str
    kind: str
    occurred_at: datetime
    source_key: str
    payload: dict[str, Any]
    client_name: str = ""
    client_contact: str = ""
    subject: str = ""


def interactions_open_many(openings: Sequence[Opening]) -> list[tuple[Interaction, bool]]:
    """Open many interactions, each with its first event, in a few statements (a mail backlog).

    The same rows, chain and announcement as `interaction_open` on each in turn. Side effects:
    Interaction and Event rows. Idempotency key: each opening's `source_key`; one already recorded (or
    repeated in `openings`) returns the interaction it opened the first time. Result, in input order:
    each opening's interaction, and whether this call opened it.
    """
    channels, kinds = set(Channel.values), set(EventKind.values)
    for opening in openings:
        _require_aware(opening.occurred_at, "occurred_at")
        if opening.channel not in channels or opening.kind not in kinds:
            raise DomainError("opening_invalid", f"Unknown channel or kind in {opening.source_key!r}")
    with transaction.atomic(savepoint=False):
        head = _lock_head()
        keys = [opening.source_key for opening in openings]
        known = {
            event.source_key: event.interaction
            for event in Event.objects.select_related("interaction").filter(source_key__in=keys)
        }
        fresh = list({o.source_key: o for o in openings if o.source_key not in known}.values())
        interactions = Interaction.objects.bulk_create([_interaction_for(opening) for opening in fresh])
        _references_set(interactions, fresh)
        Event.objects.bulk_create(_chained_events(head, interactions, fresh))
        head.save(update_fields=["last_seq", "last_hash"])
        if fresh:
            _announce_after_commit(head.last_seq)
        opened: dict[str, Interaction | None] = {
            opening.source_key: i for i, opening in zip(interactions, fresh, strict=True)
        }
    result = []
    for key in keys:
        first = opened.pop(key, None)  # popped: a key repeated in `openings` was opened once
        result.append((first, True) if first else (known.get(key) or _opened_by(key), False))
    return result


def _references_set(interactions: list[Interaction], openings: list[Opening]) -> None:
    """VK-<year>-<id, six digits at least> on each: one UPDATE per local year (a backlog spans one or two),
    not one per row, so the database builds the same string `interaction_open` does."""
    by_year: dict[int, list[int]] = defaultdict(list)
    for interaction, opening in zip(interactions, openings, strict=True):
        year = timezone.localtime(opening.occurred_at).year
        interaction.reference = f"{REFERENCE_PREFIX}-{year}-{interaction.pk:06d}"
        by_year[year].append(interaction.pk)
    digits = Cast("id", CharField())
    six_at_least = Case(When(id__gt=999_999, then=digits), default=LPad(digits, 6, Value("0")))
    for year, ids in by_year.items():
        prefix = Value(f"{REFERENCE_PREFIX}-{year}-")
        Interaction.objects.filter(pk__in=ids).update(reference=Concat(prefix, six_at_least))


def _opened_by(source_key: str) -> Interaction:
    event = _existing(source_key)
    if event is None:  # cannot happen: every key was known or opened above
        raise DomainError("opening_lost", f"No interaction for {source_key!r}")
    return event.interaction


def _interaction_for(opening: Opening) -> Interaction:
    return Interaction(
        channel=opening.channel,
        client_name=opening.client_name[:300],
        client_contact=opening.client_contact[:320],
        subject=opening.subject[:998],
        opened_at=opening.occurred_at,
    )


@dataclass(frozen=True)
class Fact:
    """One event for an existing interaction, for `events_append_many`."""

    interaction_id: int
    kind: str
    occurred_at: datetime
    source_key: str
    payload: dict[str, Any]


def events_append_many(facts: Sequence[Fact]) -> int:
    """Append many events in a few statements (the sweep's breaches), chained as `event_append` would.

    Side effects: Event rows, the chain tip; after commit, one `ledger_changed`. Idempotency key: each
    fact's `source_key` (one already recorded, or repeated in `facts`, is stored once). Returns how many
    events were appended.
    """
    for fact in facts:
        _require_aware(fact.occurred_at, "occurred_at")
        if fact.kind not in EventKind.values:
            raise DomainError("event_kind_unknown", f"Unknown event kind {fact.kind!r}")
    with transaction.atomic(savepoint=False):
        head = _lock_head()
        keys = [fact.source_key for fact in facts]
        known = set(Event.objects.filter(source_key__in=keys).values_list("source_key", flat=True))
        fresh = list({fact.source_key: fact for fact in facts if fact.source_key not in known}.values())
        Event.objects.bulk_create(_chained(head, fresh))
        if fresh:
            head.save(update_fields=["last_seq", "last_hash"])
            _announce_after_commit(head.last_seq)
    return len(fresh)


def _chained_events(head: ChainHead, interactions: list[Interaction], openings: list[Opening]) -> list[Event]:
    """The opening events, chained one after another from the (locked) tip; moves the tip along."""
    facts = [
        Fact(interaction.pk, opening.kind, opening.occurred_at, opening.source_key, opening.payload)
        for interaction, opening in zip(interactions, openings, strict=True)
    ]
    return _chained(head, facts)


def _chained(head: ChainHead, facts: Sequence[Fact]) -> list[Event]:
    """Events for `facts`, chained one after another from the (locked) tip; moves the tip along."""
    events = []
    for fact in facts:
        event = Event(
            seq=head.last_seq + 1,
            interaction_id=fact.interaction_id,
            kind=fact.kind,
            occurred_at=fact.occurred_at,
            payload=fact.payload,
            source_key=fact.source_key,
            prev_hash=head.last_hash,
        )
        event.hash = event.compute_hash()
        head.last_seq, head.last_hash = event.seq, event.hash
        events.append(event)
    return events


def email_source_key(message_id: str) -> str:
    return f"email:{message_id.strip().strip('<>').lower()}"


def _thread_of(message_ids: Iterable[str]) -> Interaction | None:
    keys = [email_source_key(mid) for mid in message_ids if mid.strip()]
    if not keys:
        return None
    event = Event.objects.select_related("interaction").filter(source_key__in=keys).order_by("-seq").first()
    return event.interaction if event else None


# Matters a client may write into by e-mail, quoting our reference number.
WRITTEN_CHANNELS = (Channel.EMAIL, Channel.PORTAL, Channel.POST, Channel.E_ADDRESS)


def _thread_by_reference(reference: str, correspondent: str) -> Interaction | None:
    """The e-mail matter with this reference number, but only the one `correspondent` is party to:
    reference numbers are sequential, so a stranger who guesses one must not write into someone's matter."""
    if not reference or not correspondent:
        return None
    matters = Interaction.objects.filter(reference=reference.upper(), channel__in=WRITTEN_CHANNELS)
    return matters.filter(client_contact__iexact=correspondent).first()


def email_thread_find(
    *, message_ids: Iterable[str], reference: str = "", correspondent: str = ""
) -> Interaction | None:
    """The interaction a message belongs to: by the Message-IDs it answers (In-Reply-To, References,
    or its own), else by our reference number in its subject when `correspondent` (the client's address:
    the sender of an inbound message, a recipient of ours) is the matter's client."""
    return _thread_of(message_ids) or _thread_by_reference(reference, correspondent)


def email_payload(
    *,
    message_id: str,
    sender: str,
    subject: str,
    automatic_reason: str = "",
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ledger payload of an inbound e-mail (one shape, whichever way it is recorded)."""
    payload: dict[str, Any] = {
        **(details or {}),
        "message_id": message_id,
        "sender": sender,
        "subject": subject,
    }
    if automatic_reason:
        payload["automatic_reason"] = automatic_reason
    return payload


def interaction_record_email(
    *,
    message_id: str,
    received_at: datetime,
    sender: str,
    subject: str,
    sender_name: str = "",
    in_reply_to: str = "",
    references: Iterable[str] = (),
    automatic_reason: str = "",
    thread_reference: str = "",
    details: dict[str, Any] | None = None,
    unit: Unit | None = None,
    service: Service | None = None,
    channel: str = Channel.EMAIL,
    intake_rule: str = "",
) -> Interaction:
    """Record an inbound e-mail: it joins its thread (In-Reply-To, References) or opens an interaction.

    `received_at` is the IMAP INTERNALDATE. `automatic_reason` non-empty marks automatic mail (RFC 3834),
    recorded as such so that no clock opens or moves on it. `thread_reference` (our reference number
    found in the subject) joins the thread when the threading headers do not. `details` are extra facts
    for the payload (attachments, addressees). A message that opens a matter opens it on `channel`: a
    portal question (recognised by `intake_rule`) is a `portal` matter from its first event. Idempotency
    key: the Message-ID (or the content hash the adapter passes in its place).
    """
    if not message_id.strip():
        raise DomainError("message_id_missing", "E-mail without a Message-ID needs a content-hash key")
    kind = EventKind.EMAIL_AUTOMATIC_RECEIVED if automatic_reason else EventKind.EMAIL_RECEIVED
    payload = email_payload(
        message_id=message_id,
        sender=sender,
        subject=subject,
        automatic_reason=automatic_reason,
        details=details,
    )
    thread = _thread_of([in_reply_to, *references]) or _thread_by_reference(thread_reference, sender)
    if thread is None:
        opens_portal = channel == Channel.PORTAL and kind == EventKind.EMAIL_RECEIVED
        return interaction_open(
            channel=channel,
            kind=EventKind.PORTAL_RECEIVED if opens_portal else kind,
            occurred_at=received_at,
            source_key=email_source_key(message_id),
            payload=payload,
            client_name=sender_name,
            client_contact=sender,
            subject=subject,
            unit=unit,
            service=service,
            intake_rule=intake_rule,
        )
    with transaction.atomic(savepoint=False):
        _lock_head()
        if (existing := _existing(email_source_key(message_id))) is not None:
            return existing.interaction  # a redelivery: recorded (and reopened, if it did) the first time
        event = event_append(
            interaction=thread,
            kind=kind,
            occurred_at=received_at,
            payload=payload,
            source_key=email_source_key(message_id),
        )
        if kind == EventKind.EMAIL_RECEIVED:
            _reopen_for_client(event)
    return event.interaction


def _reopen_for_client(event: Event) -> None:
    """A client writing into a closed thread reopens it (automatic mail never does)."""
    reopened = Interaction.objects.filter(pk=event.interaction_id, state=InteractionState.CLOSED).update(
        state=InteractionState.OPEN, closed_at=None
    )
    if reopened:
        event_append(
            interaction=event.interaction,
            kind=EventKind.REOPENED,
            occurred_at=event.occurred_at,
            payload={"by_message_id": event.payload.get("message_id", "")},
            source_key=f"{event.source_key}:reopened",
        )


def email_outbound_record(
    *,
    interaction: Interaction,
    kind: str,
    message_id: str,
    sent_at: datetime,
    promised_on: date | None = None,
    details: dict[str, Any] | None = None,
    actor: User | None = None,
) -> Event:
    """Record our own outbound mail: acknowledgement, reply, holding reply (with its promised date) or
    out-of-office reply. `details` are extra facts (recipient, flags such as a missing signature).

    Idempotency key: the outbound Message-ID.
    """
    if kind not in OUTBOUND_EMAIL_KINDS:
        raise DomainError("event_kind_unknown", f"{kind!r} is not an outbound e-mail event")
    if kind == EventKind.EMAIL_HOLDING_REPLY:
        email_promise_check(promised_on, sent_at)
    payload: dict[str, Any] = {**(details or {}), "message_id": message_id}
    if promised_on is not None:
        payload["promised_on"] = promised_on.isoformat()
    return event_append(
        interaction=interaction,
        kind=kind,
        occurred_at=sent_at,
        payload=payload,
        source_key=email_source_key(message_id),
        actor=actor,
    )


OUTBOUND_EMAIL_KINDS = frozenset(
    {
        EventKind.EMAIL_ACKNOWLEDGED,
        EventKind.EMAIL_REPLIED,
        EventKind.EMAIL_HOLDING_REPLY,
        EventKind.EMAIL_OUT_OF_OFFICE,
    }
)


def email_delivery_failure_record(
    *,
    interaction: Interaction,
    bounce_message_id: str,
    failed_message_id: str,
    occurred_at: datetime,
    reason: str,
) -> Event:
    """Record that one of our messages bounced (a delivery report came back).

    Idempotency key: the bounce's own Message-ID (or content hash).
    """
    return event_append(
        interaction=interaction,
        kind=EventKind.EMAIL_DELIVERY_FAILED,
        occurred_at=occurred_at,
        payload={
            "failed_message_id": failed_message_id,
            "bounce_message_id": bounce_message_id,
            "reason": reason,
        },
        source_key=email_source_key(bounce_message_id),
    )


def interaction_reassign(
    *,
    interaction: Interaction,
    owner: Person,
    occurred_at: datetime,
    reason: str,
    source_key: str | None = None,
    actor: User | None = None,
) -> Interaction:
    """Pass an interaction to another owner (e.g. the substitute of an absent handler, EM-OOO).

    Side effects: `owner`, a `reassigned` event. Idempotency key: `source_key` when given.
    """
    with transaction.atomic(savepoint=False):
        _lock_head()
        if _existing(source_key) is not None:
            return Interaction.objects.get(pk=interaction.pk)
        locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
        previous = locked.owner_id
        locked.owner = owner
        locked.save(update_fields=["owner"])
        event_append(
            interaction=locked,
            kind=EventKind.REASSIGNED,
            occurred_at=occurred_at,
            payload={"from_person_id": previous, "to_person_id": owner.pk, "reason": reason},
            source_key=source_key,
            actor=actor,
        )
    return locked


# A promise further out than this is a typing error, not a plan (and would outrun the calendar).
PROMISE_HORIZON_DAYS = 366


def email_promise_check(promised_on: date | None, sent_at: datetime) -> None:
    """Refuse a holding reply without a date, or with one in the past or more than a year ahead."""
    if promised_on is None:
        raise DomainError(
            "promised_date_missing",
            "Starpatbildē jānorāda datums / A holding reply must name the promised date",
            field="promised_on",
        )
    sent_on = timezone.localdate(sent_at)
    if not sent_on <= promised_on <= sent_on + timedelta(days=PROMISE_HORIZON_DAYS):
        raise DomainError(
            "promised_date_invalid",
            f"Solītajam datumam jābūt no {sent_on} līdz gadam uz priekšu / "
            f"The promised date must be between {sent_on} and a year ahead, not {promised_on}",
            field="promised_on",
        )


# How a call that reached the line in office hours ended its wait: an agent answered, the caller hung
# up, or nobody answered within the line's maximum wait.
CALL_OUTCOMES = (EventKind.CALL_ANSWERED, EventKind.CALL_ABANDONED, EventKind.CALL_UNANSWERED)
# Further facts about a call, each recorded once per step (a ring attempt's step is its number).
CALL_FACTS = (
    EventKind.CALL_AGENT_RUNG,
    EventKind.CALL_FORWARDED,
    EventKind.CALL_ENDED,
    EventKind.CALL_DROPPED,
    EventKind.CALLBACK_REQUESTED,
)


def call_source_key(sip_call_id: str, step: str) -> str:
    return f"call:{sip_call_id}:{step}"


def interaction_record_call(
    *,
    sip_call_id: str,
    arrived_at: datetime,
    caller: str,
    in_office_hours: bool,
    unit: Unit | None = None,
) -> Interaction:
    """Record a call reaching the line (the INVITE's arrival). Idempotency key: the SIP Call-ID.

    The telephony adapter decides `in_office_hours` from the calendar (PH-HOURS); the ledger keeps the fact.
    """
    kind = EventKind.CALL_ARRIVED if in_office_hours else EventKind.CALL_OUT_OF_HOURS
    return interaction_open(
        channel=Channel.PHONE,
        kind=kind,
        occurred_at=arrived_at,
        source_key=call_source_key(sip_call_id, "arrived"),
        payload={"sip_call_id": sip_call_id, "caller": caller},
        client_contact=caller,
        unit=unit,
    )


def call_interaction(sip_call_id: str) -> Interaction:
    event = _existing(call_source_key(sip_call_id, "arrived"))
    if event is None:
        raise DomainError("call_unknown", f"No call with SIP Call-ID {sip_call_id!r} reached the line")
    return event.interaction


def call_record_outcome(
    *,
    sip_call_id: str,
    kind: str,
    occurred_at: datetime,
    wait_ms: int,
    agent: Person | None = None,
    details: dict[str, Any] | None = None,
) -> Event:
    """Record that a call was answered (by `agent`) or abandoned, with the wait in milliseconds
    (and `details` the line adds, such as the rings counted from it).

    Idempotency key: Call-ID + outcome; a call has one outcome, so a second differing one is refused.
    """
    if kind not in CALL_OUTCOMES:
        raise DomainError("event_kind_unknown", f"{kind!r} is not a call outcome")
    if wait_ms < 0:
        raise DomainError("negative_wait", "wait_ms cannot be negative", field="wait_ms")
    interaction = call_interaction(sip_call_id)
    payload: dict[str, Any] = {**(details or {}), "sip_call_id": sip_call_id, "wait_ms": wait_ms}
    if agent is not None:
        payload["agent_id"] = agent.pk
    with transaction.atomic(savepoint=False):
        event = event_append(
            interaction=interaction,
            kind=kind,
            occurred_at=occurred_at,
            payload=payload,
            source_key=call_source_key(sip_call_id, "outcome"),
        )
        if event.kind != kind:
            raise DomainError("call_outcome_conflict", f"Call {sip_call_id} already has outcome {event.kind}")
        if agent is not None and interaction.owner_id is None:
            Interaction.objects.filter(pk=interaction.pk).update(owner=agent)
    return event


def call_fact_record(
    *, sip_call_id: str, kind: str, step: str, occurred_at: datetime, payload: dict[str, Any]
) -> Event:
    """Record a fact about a call that reached the line: an agent rung, a forwarding, the end, a drop,
    a callback request. Idempotency key: Call-ID + `step`."""
    if kind not in CALL_FACTS:
        raise DomainError("event_kind_unknown", f"{kind!r} is not a fact about a call")
    interaction = call_interaction(sip_call_id)
    return event_append(
        interaction=interaction,
        kind=kind,
        occurred_at=occurred_at,
        payload={"sip_call_id": sip_call_id, **payload},
        source_key=call_source_key(sip_call_id, step),
    )


def interaction_close(
    *, interaction: Interaction, closed_at: datetime, reason: str = "", actor: User | None = None
) -> Interaction:
    """Close an interaction. Side effects: state, a `closed` event. Idempotent: closing twice is a no-op."""
    with transaction.atomic(savepoint=False):
        _lock_head()  # first, as every append does: the same lock order everywhere, so no deadlock
        locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
        if locked.state == InteractionState.CLOSED:
            return locked
        locked.state = InteractionState.CLOSED
        locked.closed_at = closed_at
        locked.save(update_fields=["state", "closed_at"])
        event_append(
            interaction=locked,
            kind=EventKind.CLOSED,
            occurred_at=closed_at,
            payload={"reason": reason},
            actor=actor,
        )
    return locked


# --- Messages for absent colleagues (PH-ABSENT) and callbacks ---------------------------------------


def message_take(
    *,
    interaction: Interaction,
    for_person: Person,
    text: str,
    callback_number: str,
    taken_by: User,
    at: datetime,
    substitute: Person | None = None,
    request_key: str = "",
) -> Event:
    """A colleague took a message on a call for an absent agent; the agent and `substitute` see it.

    Side effects: a MESSAGE_TAKEN event (which opens the PH-ABSENT clock). Idempotency key: the client's
    `request_key` (the Idempotency-Key header) when given; without one each call records a message.
    """
    if not text.strip():
        raise DomainError("message_empty", "Ziņa ir tukša / The message is empty", field="text")
    return event_append(
        interaction=interaction,
        kind=EventKind.MESSAGE_TAKEN,
        occurred_at=at,
        payload={
            "for_person_id": for_person.pk,
            "substitute_id": substitute.pk if substitute else None,
            "text": text.strip()[:4000],
            "callback_number": callback_number.strip()[:64],
        },
        source_key=f"message:{interaction.pk}:{request_key}" if request_key else None,
        actor=taken_by,
    )


def message_handle(*, message: Event, by: User, at: datetime, note: str = "") -> Event:
    """The message was dealt with (meets PH-ABSENT). Idempotency key: the message; once is enough."""
    if message.kind != EventKind.MESSAGE_TAKEN:
        raise DomainError("message_unknown", f"Event {message.seq} is not a message")
    return event_append(
        interaction=message.interaction,
        kind=EventKind.MESSAGE_HANDLED,
        occurred_at=at,
        payload={"message_seq": message.seq, "note": note[:2000]},
        source_key=f"message-handled:{message.seq}",
        actor=by,
    )


def callback_made(*, interaction: Interaction, by: User, at: datetime, note: str = "") -> Event:
    """The caller who asked for a callback was called back (meets PH-CALLBACK). Idempotency key: the
    interaction (one request, one callback)."""
    if not interaction.events.filter(kind=EventKind.CALLBACK_REQUESTED).exists():
        raise DomainError(
            "callback_not_requested",
            "Šajā zvanā atzvanīšana netika lūgta / No callback was asked for on this call",
        )
    return event_append(
        interaction=interaction,
        kind=EventKind.CALLBACK_MADE,
        occurred_at=at,
        payload={"note": note[:2000]},
        source_key=f"callback-made:{interaction.pk}",
        actor=by,
    )


# --- Complaints (COMPLAINT) ---------------------------------------------------------------------------


def complaint_mark(*, interaction: Interaction, by: User, at: datetime, note: str = "") -> Event:
    """Mark a matter as a complaint (negative feedback). Side effects: the flag and a COMPLAINT_MARKED
    event (sla opens the outcome clock and alerts the team leads). Idempotency key: the interaction."""
    with transaction.atomic(savepoint=False):
        event = event_append(
            interaction=interaction,
            kind=EventKind.COMPLAINT_MARKED,
            occurred_at=at,
            payload={"note": note[:2000]},
            source_key=f"complaint:{interaction.pk}",
            actor=by,
        )
        Interaction.objects.filter(pk=interaction.pk).update(is_complaint=True)
    return event


def complaint_outcome_record(*, interaction: Interaction, by: User, at: datetime, outcome: str) -> Event:
    """The client was told the outcome of their complaint (in a reply or by phone): meets COMPLAINT.
    Idempotency key: the interaction (one outcome per complaint)."""
    if not interaction.is_complaint:
        raise DomainError("not_a_complaint", "Šī lieta nav sūdzība / This matter is not a complaint")
    if not outcome.strip():
        raise DomainError("outcome_empty", "Norādiet iznākumu / Give the outcome", field="outcome")
    return event_append(
        interaction=interaction,
        kind=EventKind.COMPLAINT_OUTCOME,
        occurred_at=at,
        payload={"outcome": outcome.strip()[:4000]},
        source_key=f"complaint-outcome:{interaction.pk}",
        actor=by,
    )
