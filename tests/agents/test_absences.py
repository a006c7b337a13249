"""Absences and substitute chains (PH-ABSENT, EM-OOO): who covers whom, and what is refused."""

from __future__ import annotations

import pytest

from agents.errors import DomainError
from agents.models import Absence, Person
from agents.selectors import person_covered_by
from agents.services import absence_create
from tests.concurrency import run_concurrently
from tests.factories import PersonFactory, riga

pytestmark = pytest.mark.django_db

MON, FRI = riga(2026, 4, 13, 0, 0), riga(2026, 4, 18, 0, 0)


def away(
    person: Person, substitute: Person | None = None, starts_at=MON, ends_at=FRI, **extra: str
) -> Absence:
    return absence_create(
        person=person, kind="leave", starts_at=starts_at, ends_at=ends_at, substitute=substitute, **extra
    )


@pytest.fixture
def anna() -> Person:
    return PersonFactory(user__username="anna")


@pytest.fixture
def berta() -> Person:
    return PersonFactory(user__username="berta")


@pytest.fixture
def cilda() -> Person:
    return PersonFactory(user__username="cilda")


@pytest.mark.smoke
def test_a_present_person_covers_themselves(anna: Person) -> None:
    coverage = person_covered_by(anna, riga(2026, 4, 14, 10))
    assert coverage.covered_by == anna
    assert not coverage.is_absent


def test_an_absent_person_is_covered_by_their_substitute(anna: Person, berta: Person) -> None:
    away(anna, berta)
    assert person_covered_by(anna, riga(2026, 4, 14, 10)).covered_by == berta
    assert person_covered_by(anna, riga(2026, 4, 20, 10)).covered_by == anna


def test_coverage_follows_the_chain_when_the_substitute_is_away_too(
    anna: Person, berta: Person, cilda: Person
) -> None:
    away(berta, cilda, starts_at=riga(2026, 4, 15, 0))
    away(anna, berta)
    early, late = (
        person_covered_by(anna, riga(2026, 4, 14, 10)),
        person_covered_by(anna, riga(2026, 4, 16, 10)),
    )
    assert early.covered_by == berta
    assert (late.covered_by, late.chain) == (cilda, (anna, berta, cilda))


def test_a_forward_number_ends_the_chain(anna: Person, berta: Person) -> None:
    away(berta, forward_number="+37129999999")
    away(anna, berta)
    coverage = person_covered_by(anna, riga(2026, 4, 14, 10))
    assert (coverage.covered_by, coverage.forward_number) == (None, "+37129999999")


def test_a_substitute_cycle_is_refused_and_nothing_is_saved(anna: Person, berta: Person) -> None:
    away(anna, berta)
    with pytest.raises(DomainError) as refused:
        away(berta, anna, starts_at=riga(2026, 4, 16, 0), ends_at=riga(2026, 4, 25, 0))
    assert refused.value.code == "substitute_cycle"
    assert "2026-04-16 00:00" in refused.value.message
    assert not Absence.objects.filter(person=berta).exists()


def test_a_substitute_absent_with_nobody_behind_them_is_refused(anna: Person, berta: Person) -> None:
    away(berta, None, starts_at=riga(2026, 4, 17, 0))
    with pytest.raises(DomainError) as refused:
        away(anna, berta)
    assert refused.value.code == "substitute_uncovered"
    assert not Absence.objects.filter(person=anna).exists()


def test_an_absence_without_a_substitute_leaves_the_work_to_the_unit(anna: Person) -> None:
    away(anna, None)
    coverage = person_covered_by(anna, riga(2026, 4, 14, 10))
    assert (coverage.covered_by, coverage.forward_number, coverage.is_absent) == (None, "", True)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"starts_at": FRI, "ends_at": MON}, "absence_ends_before_start"),
        ({"kind": "holiday"}, "absence_kind_unknown"),
        ({"forward_number": "+371"}, "absence_two_targets"),
    ],
)
def test_bad_absences_are_refused_with_a_named_problem(
    anna: Person, berta: Person, kwargs: dict[str, object], code: str
) -> None:
    fields = {"person": anna, "kind": "leave", "starts_at": MON, "ends_at": FRI, "substitute": berta} | kwargs
    with pytest.raises(DomainError) as refused:
        absence_create(**fields)
    assert refused.value.code == code
    assert not Absence.objects.exists()


def test_an_overlapping_absence_of_the_same_person_is_refused(anna: Person, berta: Person) -> None:
    away(anna, berta)
    with pytest.raises(DomainError) as refused:
        away(anna, berta, starts_at=riga(2026, 4, 17, 0), ends_at=riga(2026, 4, 20, 0))
    assert refused.value.code == "absence_overlap"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_absence_saves_at_once_cannot_build_a_cycle() -> None:
    anna, berta, cilda, dace = (PersonFactory(user__username=name) for name in ("a", "b", "c", "d"))
    away(anna, berta)
    away(cilda, dace)
    outcomes = run_concurrently(lambda: away(berta, cilda), lambda: away(dace, anna))
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(refused) == 1
    assert refused[0].code == "substitute_cycle"
    assert Absence.objects.count() == 3
