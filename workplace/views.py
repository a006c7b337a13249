"""Signing in, landing on one's own page, and the refusal page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from agents.selectors import user_roles
from workplace.context import pages_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its own page; staff admins without a role on the admin."""
    pages = pages_for(user_roles(request.user))
    if pages:
        return redirect(pages[0].url_name)
    if request.user.is_staff:
        return redirect("admin:index")
    raise PermissionDenied


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "workplace/forbidden.html", status=403)
