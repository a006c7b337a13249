"""`manage.py seed_demo`: one demo user per role in one unit, and how to log in (DEBUG only)."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from agents.models import Person, Role, Unit

DEMO_PEOPLE = (
    ("anna", "Anna", "Bērziņa", Role.PHONE_AGENT, "Klientu apkalpošanas speciāliste", "101"),
    ("janis", "Jānis", "Ozols", Role.EMAIL_HANDLER, "Klientu apkalpošanas speciālists", "102"),
    ("ilze", "Ilze", "Kalniņa", Role.TEAM_LEAD, "Klientu apkalpošanas daļas vadītāja", "100"),
    ("peteris", "Pēteris", "Liepa", Role.QUALITY_OFFICER, "Kvalitātes vadības speciālists", "103"),
)


class Command(BaseCommand):
    help = "Create demo users (one per role, plus an admin) and print how to log in. Refuses unless DEBUG."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo creates known passwords; it runs only with DJANGO_DEBUG=true")
        password = os.environ.get("CC_DEMO_PASSWORD", "valstskase")
        with transaction.atomic():
            unit, _ = Unit.objects.get_or_create(code="kac", defaults={"name": "Klientu apkalpošanas centrs"})
            for row in DEMO_PEOPLE:
                role = row[3]
                person = self._person(row, password, unit)
                person.user.groups.add(Group.objects.get(name=role))
                if role == Role.TEAM_LEAD:
                    unit.leads.add(person)
            self._admin(password)
        self.stdout.write(f"Demo users (password for all: {password}; API: Authorization: Token <token>):")
        for username, first, last, role, *_ in DEMO_PEOPLE:
            token, _ = Token.objects.get_or_create(user=User.objects.get(username=username))
            self.stdout.write(f"  {username:<8} {first} {last} — {role:<16} token {token.key}")
        self.stdout.write("  admin    staff admin (Django admin at /admin/)")

    def _person(self, row: tuple[str, ...], password: str, unit: Unit) -> Person:
        username, first, last, _role, position, extension = row
        user, _ = get_user_model().objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@kase.gov.lv"},
        )
        user.set_password(password)
        user.save()
        person, _ = Person.objects.get_or_create(
            user=user, defaults={"unit": unit, "position": position, "extension": extension}
        )
        return person

    def _admin(self, password: str) -> None:
        admin, _ = get_user_model().objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True, "email": "admin@kase.gov.lv"}
        )
        admin.set_password(password)
        admin.save()
