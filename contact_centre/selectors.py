"""Reads of the ledger."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from agents.models import Person
from contact_centre.models import GENESIS_HASH, ChainHead, Event, EventKind


@dataclass(frozen=True)
class ChainReport:
    events_checked: int
    first_broken_seq: int | None
    problem: str

    @property
    def intact(self) -> bool:
        return self.first_broken_seq is None and not self.problem


def ledger_chain_verify(*, chunk_size: int = 5000) -> ChainReport:
    """Walk the chain in `seq` order: each event's hash, its link to the previous one, no gaps, the tip."""
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    rows = Event.objects.order_by("seq").iterator(chunk_size=chunk_size)
    for event in rows:
        if event.seq != expected_seq:
            return ChainReport(
                checked, expected_seq, f"event {expected_seq} is missing (next is {event.seq})"
            )
        if event.prev_hash != expected_prev:
            return ChainReport(checked, event.seq, "link to the previous event is broken")
        if event.compute_hash() != event.hash:
            return ChainReport(checked, event.seq, "content does not match its hash (edited)")
        expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = ChainHead.objects.filter(pk=1).first()
    last_seq = head.last_seq if head else 0
    last_hash = head.last_hash if head else GENESIS_HASH
    if last_seq != expected_seq - 1 or last_hash != expected_prev:
        return ChainReport(
            checked, expected_seq, f"the chain tip says {last_seq}: events at the end are missing"
        )
    return ChainReport(checked, None, "")


def messages_for(person: Person) -> QuerySet[Event]:
    """Messages taken for `person`, or for someone they stand in for (PH-ABSENT), newest first."""
    rows = Event.objects.filter(kind=EventKind.MESSAGE_TAKEN).select_related("interaction", "actor")
    mine = Q(payload__for_person_id=person.pk) | Q(payload__substitute_id=person.pk)
    return rows.filter(mine).order_by("-seq")


def messages_handled(messages: QuerySet[Event]) -> set[int]:
    """The `seq` of each of `messages` already dealt with."""
    handled = Event.objects.filter(
        kind=EventKind.MESSAGE_HANDLED, interaction__in=messages.values("interaction")
    ).values_list("payload__message_seq", flat=True)
    return {int(seq) for seq in handled}
