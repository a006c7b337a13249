"""Reads about people: roles, and who covers an absent agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User

from agents.errors import DomainError
from agents.models import Absence, Person, Role


def user_roles(user: User | AnonymousUser) -> frozenset[str]:
    """The role names a user holds; staff admins hold every role's read rights through `is_staff`."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_cc_roles", None)
    if cached is None:
        names = user.groups.values_list("name", flat=True)
        cached = frozenset(name for name in names if name in Role.values)
        setattr(user, "_cc_roles", cached)  # noqa: B010 -- a per-request cache on the user object
    return cached


def user_has_role(user: User | AnonymousUser, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


@dataclass(frozen=True)
class Coverage:
    """Who takes an absent person's work at one instant.

    `chain` lists everyone passed through, starting with the person asked about. When `covered_by`
    is None and `forward_number` is empty, nobody is named: the work goes to the unit.
    """

    person: Person
    covered_by: Person | None
    forward_number: str
    chain: tuple[Person, ...]

    @property
    def is_absent(self) -> bool:
        return len(self.chain) > 1 or self.covered_by != self.person


def absences_active_at(at: datetime) -> dict[int, Absence]:
    """person_id → the absence in force at `at` (a person has at most one at a time)."""
    rows = Absence.objects.filter(starts_at__lte=at, ends_at__gt=at).select_related(
        "substitute__user", "person__user"
    )
    return {absence.person_id: absence for absence in rows}


def coverage_resolve(person: Person, active: dict[int, Absence], *, for_mail: bool = False) -> Coverage:
    """Follow substitute chains (A→B→C while B is away too) through the absences in `active`.

    A forward number ends the chain for calls; mail cannot go to a phone number, so `for_mail` follows
    the substitute when one is named and uses the number only when none is.
    Raises DomainError `substitute_cycle` or `substitute_uncovered` when the chain cannot end.
    """
    chain = [person]
    current = person
    while (absence := active.get(current.pk)) is not None:
        if absence.forward_number and not (for_mail and absence.substitute is not None):
            return Coverage(person, None, absence.forward_number, tuple(chain))
        if absence.substitute is None:
            if current == person:
                return Coverage(person, None, "", tuple(chain))
            raise DomainError(
                "substitute_uncovered",
                f"{current} aizvieto {chain[-2]}, bet ir prombūtnē bez aizvietotāja / "
                f"{current} substitutes for {chain[-2]} but is absent with nobody covering them",
                field="substitute",
            )
        current = absence.substitute
        if current in chain:
            names = " → ".join(str(p) for p in [*chain, current])
            raise DomainError(
                "substitute_cycle",
                f"Aizvietošanas cikls / Substitute cycle: {names}",
                field="substitute",
            )
        chain.append(current)
    return Coverage(person, current, "", tuple(chain))


def person_covered_by(person: Person, at: datetime) -> Coverage:
    """Who answers for `person` at `at` (routing for phone, reassignment for mail)."""
    return coverage_resolve(person, absences_active_at(at))


def line_candidates(*, unit_code: str, at: datetime) -> list[int]:
    """Person ids the line may ring at `at`: phone agents (of the unit, when one is named), not absent."""
    people = Person.objects.filter(user__groups__name=Role.PHONE_AGENT, user__is_active=True)
    if unit_code:
        people = people.filter(unit__code=unit_code)
    absent = Absence.objects.filter(starts_at__lte=at, ends_at__gt=at).values("person_id")
    return list(people.exclude(pk__in=absent).values_list("pk", flat=True))


def person_by_extension(extension: str) -> Person | None:
    return Person.objects.select_related("user").filter(extension=extension).exclude(extension="").first()


def line_extensions() -> list[str]:
    """Every extension a caller may dial directly on the line."""
    return list(Person.objects.exclude(extension="").values_list("extension", flat=True))
