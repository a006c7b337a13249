"""Who may open which page: every view names its roles (DATA); the permission matrix test reads them."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from agents.models import Person
from agents.selectors import user_roles

View = TypeVar("View", bound=Callable[..., HttpResponse])


def roles_required(*roles: str) -> Callable[[View], View]:
    """Signed-in users holding one of `roles`; others get 403 (staff admins too: the admin is theirs)."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not user_roles(request.user) & set(roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        guarded.roles = frozenset(roles)  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, after a roles_required view admitted it."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def signed_in_person(request: HttpRequest) -> Person:
    """The staff member behind the request; a user without a Person row may not use the workplace."""
    person = Person.objects.select_related("user", "unit").filter(user=signed_in_user(request)).first()
    if person is None:
        raise PermissionDenied
    return person
