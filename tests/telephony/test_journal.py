"""The call handler's journal: what a crash leaves behind is replayed, and a long run's journal is
renewed without forgetting the calls in progress."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile
from pytest_django.fixtures import Settings

from agents.models import AgentState, AgentStatus
from contact_centre.models import EventKind, Interaction
from recordings.models import Recording
from telephony.journal import Fact, Journal, journal_read
from telephony.ledger import FactKind, LedgerThread, journal_recover
from tests.factories import PersonFactory, riga

AT = riga(2026, 11, 23, 10, 0)


def _wav(path: Path, seconds: float = 2.0) -> Path:
    t = np.arange(int(8000 * seconds)) / 8000
    soundfile.write(
        path, (0.25 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16), 8000, subtype="PCM_16"
    )
    return path


def _facts_of_a_call_cut_off_mid_conversation(call_id: str, wav: Path, agent_id: int) -> list[Fact]:
    return [
        Fact(FactKind.ARRIVED, call_id, AT, {"caller": "+37120000000", "in_hours": True}),
        Fact(
            FactKind.RUNG, call_id, AT + timedelta(seconds=4),
            {"attempt": 1, "agent_id": agent_id, "ring_ms": 4000, "outcome": "answered"},
        ),
        Fact(FactKind.ANSWERED, call_id, AT + timedelta(seconds=7), {"wait_ms": 7000, "agent_id": agent_id}),
        Fact(
            FactKind.RECORDING_STARTED, call_id, AT + timedelta(seconds=7),
            {"wav": str(wav), "started_at": (AT + timedelta(seconds=7)).isoformat(), "agent_id": agent_id},
        ),
    ]  # fmt: skip


@pytest.mark.django_db
def test_a_journal_left_by_a_killed_handler_is_replayed_and_its_open_call_dropped_with_its_recording(
    tmp_path: Path, settings: Settings
) -> None:
    settings.CC_RECORDINGS_DIR = tmp_path / "recordings"
    agent = PersonFactory(extension="101")
    AgentStatus.objects.create(
        person=agent, state=AgentState.AVAILABLE, state_since=AT, in_call="call-1@x", in_call_since=AT
    )
    journal = Journal(tmp_path / "journal")
    wav = _wav(tmp_path / "call-1.wav")
    with journal.lock:
        for fact in _facts_of_a_call_cut_off_mid_conversation("call-1@x", wav, agent.pk):
            journal.append(fact)
    journal.close()  # the process died here: nothing of this reached the ledger

    dropped = journal_recover([journal.path], now=AT + timedelta(seconds=20))
    again = journal_recover([], now=AT + timedelta(seconds=30))

    assert (dropped, again) == (1, 0)
    interaction = Interaction.objects.get()
    kinds = list(interaction.events.values_list("kind", flat=True))
    assert kinds == [
        EventKind.CALL_ARRIVED, EventKind.CALL_AGENT_RUNG, EventKind.CALL_ANSWERED,
        EventKind.CALL_RECORDED, EventKind.CALL_DROPPED,
    ]  # fmt: skip
    assert interaction.events.get(kind=EventKind.CALL_DROPPED).payload["answered"] is True
    assert Recording.objects.get().duration_ms == 2000
    assert AgentStatus.objects.get().in_call == ""
    assert not journal.path.exists()


def test_a_torn_last_line_is_skipped_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    whole = Fact(FactKind.ARRIVED, "c", AT, {"in_hours": True}).to_line()
    path.write_text(whole + whole[:20])
    assert [fact.sip_call_id for fact in journal_read(path)] == ["c"]


def test_a_renewed_journal_carries_the_calls_in_progress_and_forgets_finished_ones(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal", rotate_bytes=1)
    ledger = LedgerThread(journal, "test")  # not started: its bookkeeping is exercised directly
    in_progress = _facts_of_a_call_cut_off_mid_conversation("open@x", tmp_path / "open.wav", 1)
    finished = [
        Fact(FactKind.ARRIVED, "done@x", AT, {"in_hours": True}),
        Fact(FactKind.ENDED, "done@x", AT + timedelta(seconds=30), {"answered": False}),
    ]
    for fact in [*in_progress, *finished]:
        with journal.lock:
            journal.append(fact)
        ledger._track(fact)
    first = journal.path

    ledger._rotate_when_due()

    assert not first.exists()
    assert [(f.sip_call_id, f.kind) for f in journal_read(journal.path)] == [
        ("open@x", FactKind.ARRIVED), ("open@x", FactKind.ANSWERED), ("open@x", FactKind.RECORDING_STARTED)
    ]  # fmt: skip
    journal.close()
