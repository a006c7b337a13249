"""The demo seed behind the README's start command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import override_settings

from agents.models import Role
from agents.selectors import user_roles

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=True)
def test_seed_demo_creates_one_user_per_role_and_can_run_again() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    roles = {user_roles(user) for user in User.objects.filter(person__isnull=False)}
    assert roles == {frozenset({role}) for role in Role.values}
    assert User.objects.get(username="ilze").person.led_units.get().code == "kac"
    assert User.objects.get(username="admin").is_superuser
    assert "token" in out.getvalue()


@override_settings(DEBUG=False)
def test_seed_demo_refuses_outside_debug() -> None:
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("seed_demo")
    assert not User.objects.exists()
