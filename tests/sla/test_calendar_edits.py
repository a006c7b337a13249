"""Calendar edits: overrides are checked, audited, and move every pending clock they affect."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from agents.errors import DomainError
from contact_centre.models import EventKind
from contact_centre.services import email_outbound_record, interaction_record_email
from sla.models import CalendarChange, CalendarOverride, Clock, ClockState, Deadline, OverrideKind
from sla.services import calendar_override_create, calendar_override_delete
from sla.sync import clock_sync
from tests.concurrency import run_concurrently
from tests.factories import riga

pytestmark = pytest.mark.django_db

SOURCE = "Saeimas 2026. gada likums (tests)"


def email_at(at, message_id: str) -> None:
    interaction_record_email(message_id=message_id, received_at=at, sender="k@example.lv", subject="?")
    clock_sync()


def reply_clock(message_id: str) -> Clock:
    return Clock.objects.select_related("deadline").get(
        rule_id="EM-REPLY", interaction__events__source_key=f"email:{message_id}"
    )


def test_an_extra_holiday_moves_the_pending_clocks_it_affects_and_says_so() -> None:
    email_at(riga(2026, 5, 11, 10), "affected")  # Mon; EM-REPLY due Wed 13 May
    email_at(riga(2026, 5, 18, 10), "later")  # after the new holiday: unaffected
    change_before = CalendarChange.objects.count()
    calendar_override_create(
        day=date(2026, 5, 12), kind=OverrideKind.HOLIDAY, name="Hokeja diena", legal_source=SOURCE
    )
    moved = reply_clock("affected")
    assert moved.due_at == riga(2026, 5, 14, 17, 15)
    assert moved.was_moved
    assert moved.deadline.previous_due_at == riga(2026, 5, 13, 17, 15)
    change = CalendarChange.objects.get(pk=moved.deadline.recomputed_by_id)
    assert "2026-05-12" in change.description
    assert change.clocks_moved == 2  # EM-ACK (due 12 May) and EM-REPLY of the affected e-mail
    assert not reply_clock("later").was_moved
    assert CalendarChange.objects.count() == change_before + 1


def test_a_holiday_shortens_the_day_before_and_the_clock_follows() -> None:
    email_at(riga(2026, 5, 11, 10), "short")
    calendar_override_create(
        day=date(2026, 5, 14), kind=OverrideKind.HOLIDAY, name="Vienreizēja", legal_source=SOURCE
    )
    assert reply_clock("short").due_at == riga(2026, 5, 13, 16, 15)  # Wed before a holiday closes at 16:15


def test_a_plain_day_off_does_not_shorten_the_day_before() -> None:
    email_at(riga(2026, 5, 11, 10), "dayoff")
    calendar_override_create(
        day=date(2026, 5, 14), kind=OverrideKind.DAY_OFF, name="Brīvdiena", legal_source=SOURCE
    )
    assert reply_clock("dayoff").due_at == riga(2026, 5, 13, 17, 15)


def test_a_working_saturday_counts_and_its_replaced_weekday_does_not() -> None:
    email_at(riga(2026, 10, 8, 10), "sat")  # Thu; EM-REPLY due Mon 12 Oct
    calendar_override_create(
        day=date(2026, 10, 10),
        kind=OverrideKind.WORKING_SATURDAY,
        replaces=date(2026, 10, 9),
        name="Pārcelta darba diena",
        legal_source=SOURCE,
    )
    assert reply_clock("sat").due_at == riga(2026, 10, 12, 17, 15)  # Fri off, Sat works (Fri hours), Mon
    ack = Clock.objects.get(rule_id="EM-ACK", interaction__events__source_key="email:sat")
    assert ack.due_at == riga(2026, 10, 10, 16, 0)


def test_removing_an_override_moves_the_clocks_back() -> None:
    email_at(riga(2026, 5, 11, 10), "undo")
    override = calendar_override_create(
        day=date(2026, 5, 12), kind=OverrideKind.HOLIDAY, name="Kļūda", legal_source=SOURCE
    )
    calendar_override_delete(override=override)
    clock = reply_clock("undo")
    assert (clock.due_at, clock.deadline.previous_due_at) == (
        riga(2026, 5, 13, 17, 15),
        riga(2026, 5, 14, 17, 15),
    )


def test_a_clock_already_met_keeps_the_due_time_it_was_judged_by() -> None:
    email_at(riga(2026, 5, 11, 10), "met")
    interaction = Clock.objects.get(rule_id="EM-REPLY").interaction
    email_outbound_record(
        interaction=interaction,
        kind=EventKind.EMAIL_REPLIED,
        message_id="<r@kase>",
        sent_at=riga(2026, 5, 12, 9),
    )
    clock_sync()
    calendar_override_create(day=date(2026, 5, 12), kind=OverrideKind.HOLIDAY, name="X", legal_source=SOURCE)
    met = reply_clock("met")
    assert (met.state, met.due_at, met.was_moved) == (ClockState.MET, riga(2026, 5, 13, 17, 15), False)
    assert CalendarChange.objects.get(description__contains="2026-05-12").clocks_moved == 0


def test_clocks_sharing_a_deadline_all_move_with_it() -> None:
    for n in range(30):
        email_at(riga(2026, 5, 11, 8 + n % 9, n), f"bulk-{n}")
    assert Deadline.objects.filter(basis_on=date(2026, 5, 11)).count() == 2  # EM-ACK and EM-REPLY terms
    calendar_override_create(day=date(2026, 5, 12), kind=OverrideKind.HOLIDAY, name="X", legal_source=SOURCE)
    assert CalendarChange.objects.latest("id").clocks_moved == 60
    assert {c.due_at for c in Clock.objects.filter(rule_id="EM-REPLY")} == {riga(2026, 5, 14, 17, 15)}


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"day": date(2026, 5, 9), "kind": OverrideKind.DAY_OFF}, "override_impossible"),  # a Saturday
        (
            {"day": date(2026, 5, 8), "kind": OverrideKind.WORKING_SATURDAY, "replaces": date(2026, 5, 7)},
            "override_impossible",
        ),  # not a Saturday
        (
            {"day": date(2026, 5, 9), "kind": OverrideKind.WORKING_SATURDAY, "replaces": date(2026, 5, 10)},
            "override_impossible",
        ),  # replaces a Sunday
        (
            {"day": date(2026, 5, 9), "kind": OverrideKind.WORKING_SATURDAY, "replaces": date(2026, 5, 4)},
            "override_impossible",
        ),  # replaces a holiday
        ({"day": date(1999, 5, 12), "kind": OverrideKind.HOLIDAY}, "override_out_of_range"),
        ({"day": date(2026, 5, 12), "kind": "festival"}, "override_kind_unknown"),
        (
            {"day": date(2026, 5, 12), "kind": OverrideKind.HOLIDAY, "legal_source": " "},
            "legal_source_missing",
        ),
        (
            {"day": date(2026, 1, 17), "kind": OverrideKind.HOLIDAY},
            "override_exists",
        ),  # seeded working Saturday
    ],
)
def test_impossible_overrides_are_refused_and_nothing_is_written(
    fields: dict[str, object], code: str
) -> None:
    before = CalendarOverride.objects.count(), CalendarChange.objects.count()
    with pytest.raises(DomainError) as refused:
        calendar_override_create(**({"name": "X", "legal_source": SOURCE} | fields))
    assert refused.value.code == code
    assert (CalendarOverride.objects.count(), CalendarChange.objects.count()) == before


@pytest.mark.smoke
def test_sla_due_prints_one_riga_time_per_arrival(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("sla_due", "EM-REPLY", "2026-04-03T10:00", "2026-04-04T20:00+03:00", "2026-12-31T10:00")
    assert capsys.readouterr().out.split() == [
        "2026-04-08T17:15:00+03:00",
        "2026-04-08T17:15:00+03:00",
        "2027-01-05T17:15:00+02:00",
    ]


def test_sla_due_uses_the_database_calendar() -> None:
    calendar_override_create(day=date(2026, 5, 12), kind=OverrideKind.HOLIDAY, name="X", legal_source=SOURCE)

    out = StringIO()
    call_command("sla_due", "EM-ACK", "2026-05-11T09:00", stdout=out)
    assert out.getvalue().strip() == "2026-05-13T17:15:00+03:00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["EM-NOPE", "2026-04-03T10:00"], "Unknown rule 'EM-NOPE'"),
        (["EM-ACK", "2026-02-30T10:00"], "not an ISO 8601"),
        (["EM-ACK", "yesterday"], "not an ISO 8601"),
    ],
)
def test_sla_due_names_what_is_wrong(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("sla_due", *args)


def test_the_override_command_adds_lists_and_removes_with_the_same_checks() -> None:
    email_at(riga(2026, 5, 11, 10), "cli")
    out = StringIO()
    call_command(
        "calendar_override",
        "add",
        "2026-05-12",
        "holiday",
        "--name",
        "Hokejs",
        "--source",
        SOURCE,
        stdout=out,
    )
    assert "2 pending clocks moved" in out.getvalue()
    call_command("calendar_override", "list", "--year", "2026", stdout=out)
    assert "2026-05-12 holiday: Hokejs" in out.getvalue()
    call_command("calendar_override", "remove", "2026-05-12", stdout=out)
    assert reply_clock("cli").due_at == riga(2026, 5, 13, 17, 15)
    with pytest.raises(CommandError, match="not a Saturday"):
        call_command(
            "calendar_override",
            "add",
            "2026-05-13",
            "working_saturday",
            "--replaces",
            "2026-05-12",
            "--name",
            "X",
            "--source",
            SOURCE,
        )
    with pytest.raises(CommandError, match="not a date"):
        call_command("calendar_override", "add", "2026-02-30", "holiday", "--name", "X", "--source", SOURCE)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_calendar_edits_at_once_both_count() -> None:
    email_at(riga(2026, 5, 11, 10), "race")  # Monday; EM-REPLY due Wed 13 May
    outcomes = run_concurrently(
        lambda: calendar_override_create(
            day=date(2026, 5, 12), kind="holiday", name="A", legal_source=SOURCE
        ),
        lambda: calendar_override_create(
            day=date(2026, 5, 13), kind="holiday", name="B", legal_source=SOURCE
        ),
    )
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert reply_clock("race").due_at == riga(2026, 5, 15, 16, 0)  # Thu 14 and Fri 15 May count


@pytest.mark.django_db
def test_the_migration_seeded_exactly_the_transfers_and_extra_holidays_of_calendar_seed() -> None:
    # The migration holds a frozen copy; this keeps the copy and the module from drifting apart.
    from sla.calendar_seed import EXTRA_HOLIDAYS, TRANSFERRED_WORKING_DAYS
    from sla.models import CalendarOverride

    saturdays = set(CalendarOverride.objects.filter(kind="working_saturday").values_list("day", "replaces"))
    holidays = set(CalendarOverride.objects.filter(kind="holiday").values_list("day", flat=True))
    assert saturdays == {(t.saturday, t.replaces) for t in TRANSFERRED_WORKING_DAYS}
    assert holidays == {h.day for h in EXTRA_HOLIDAYS}
