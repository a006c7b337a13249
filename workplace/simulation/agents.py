"""The agents whose phones the simulation runs: the demo phone agents `manage.py seed_demo` made (anna,
extension 101) first, then, when ``--agents`` asks for more, colleagues in the same unit with the next
free extensions. The colleagues are line-only demo people: no password, so nobody logs in as them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from agents.models import AgentState, Person, Role, Unit
from agents.services import agent_state_set, agent_status_get

DEMO_UNIT = "kac"  # seed_demo's unit
FIRST_EXTRA_EXTENSION = 104  # seed_demo uses 100-103
COLLEAGUES = (
    ("laura", "Laura", "Kļaviņa"),
    ("martins", "Mārtiņš", "Zariņš"),
    ("elina", "Elīna", "Krūmiņa"),
    ("davis", "Dāvis", "Ozoliņš"),
    ("kristine", "Kristīne", "Vītola"),
    ("roberts", "Roberts", "Liepiņš"),
    ("marta", "Marta", "Eglīte"),
    ("toms", "Toms", "Kalējs"),
)
MAX_AGENTS = 1 + len(COLLEAGUES)


class NoDemoAgents(LookupError):
    """seed_demo has not run on this database."""


def _phone_agents(unit: Unit) -> list[Person]:
    people = Person.objects.filter(
        unit=unit, user__groups__name=Role.PHONE_AGENT, user__is_active=True
    ).exclude(extension="")
    return sorted(people.select_related("user"), key=lambda p: (len(p.extension), p.extension))


def demo_agents(count: int) -> list[Person]:
    """``count`` phone agents of the demo unit, seed_demo's first; colleagues are created as needed.

    Side effects: users, people and group memberships for the colleagues (idempotent by username).
    """
    unit = Unit.objects.filter(code=DEMO_UNIT).first()
    agents = _phone_agents(unit) if unit else []
    if not agents or unit is None:
        raise NoDemoAgents("no demo phone agent: run `manage.py seed_demo` (scripts/start does)")
    names = iter(row for row in COLLEAGUES if row[0] not in {a.user.get_username() for a in agents})
    while len(agents) < count:
        row = next(names, None)
        if row is None:
            break
        agents.append(_colleague_create(unit, *row))
    return agents[:count]


def demo_agents_preview(count: int) -> list[str]:
    """What ``demo_agents(count)`` would give, as "Name (extension)", without writing anything."""
    unit = Unit.objects.filter(code=DEMO_UNIT).first()
    agents = [f"{p.user.get_full_name()} ({p.extension})" for p in _phone_agents(unit)] if unit else []
    if not agents:
        return ["none yet: run `manage.py seed_demo` (scripts/start does)"]
    usernames = set(Person.objects.values_list("user__username", flat=True))
    extra = [f"{first} {last} (new)" for username, first, last in COLLEAGUES if username not in usernames]
    return (agents + extra)[:count]


def _colleague_create(unit: Unit, username: str, first: str, last: str) -> Person:
    taken = set(Person.objects.exclude(extension="").values_list("extension", flat=True))
    extension = next(str(n) for n in range(FIRST_EXTRA_EXTENSION, 10000) if str(n) not in taken)
    with transaction.atomic():
        user, created = get_user_model().objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@kase.gov.lv"},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=Role.PHONE_AGENT))
        person, _ = Person.objects.get_or_create(
            user=user,
            defaults={"unit": unit, "position": "Klientu apkalpošanas speciālists", "extension": extension},
        )
    return person


@dataclass
class Shift:
    """The agents' availability while their phones run: available, then back to what it was."""

    previous: dict[int, str]

    @classmethod
    def begin(cls, agents: list[Person], at: datetime) -> Shift:
        """Side effects: each agent's AgentStatus becomes available (PUT .../status/ does the same)."""
        previous = {person.pk: agent_status_get(person, at).state for person in agents}
        for person in agents:
            agent_state_set(person=person, state=AgentState.AVAILABLE, at=at)
        return cls(previous)

    def end(self, at: datetime) -> None:
        for person in Person.objects.filter(pk__in=self.previous):
            agent_state_set(person=person, state=self.previous[person.pk], at=at)
