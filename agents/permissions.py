"""Role checks for the API: every endpoint names the roles it serves."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from agents.selectors import user_roles


def roles_allowed(*roles: str) -> type[BasePermission]:
    """A permission class admitting authenticated users holding any of `roles`, and staff admins."""

    class HasRole(BasePermission):
        message = "Jūsu lomai šī darbība nav atļauta / Your role may not do this"

        def has_permission(self, request: Request, view: Any) -> bool:
            user = request.user
            if not (user and user.is_authenticated):
                return False
            return bool(user.is_staff or user_roles(user) & set(roles))

    HasRole.__name__ = "HasRole_" + "_".join(roles)
    return HasRole


def acting_user(user: User | AnonymousUser) -> User:
    """The logged-in user behind a request that a permission class has already admitted."""
    if not isinstance(user, User):
        raise NotAuthenticated
    return user
