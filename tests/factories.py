"""Row factories (factory_boy) and the named personas used by access tests."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User

from agents.models import Person, Unit

RIGA = ZoneInfo("Europe/Riga")


def riga(*args: int) -> datetime:
    """An aware Riga wall-clock datetime: riga(2026, 4, 7, 10, 0)."""
    return datetime(*args, tzinfo=RIGA)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Iterator(["Anna", "Jānis", "Ilze", "Pēteris", "Līga", "Mārtiņš"])
    last_name = factory.Iterator(["Bērziņa", "Ozols", "Kalniņa", "Liepa", "Zariņa", "Kļaviņš"])
    email = factory.LazyAttribute(lambda user: f"{user.username}@kase.gov.lv")
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-1")

    @factory.post_generation
    def roles(user: User, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        # factory_boy passes the created row as the first argument, not the factory.
        for role in extracted or []:
            user.groups.add(Group.objects.get(name=role))
        user.save()


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"unit-{n}")
    name = factory.Sequence(lambda n: f"Nodaļa {n}")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    user = factory.SubFactory(UserFactory)
    unit = factory.SubFactory(UnitFactory, code="kac")
    position = "Klientu apkalpošanas speciālists"
