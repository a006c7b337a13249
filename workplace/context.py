"""What every workplace page needs: the signed-in person's roles and the pages those roles open."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from agents.models import Role
from agents.selectors import user_roles


@dataclass(frozen=True)
class Page:
    url_name: str
    title: Promise
    roles: frozenset[str]


# In the order the navigation shows them; each role lands on the first page it may open.
PAGES = (
    Page("agent-home", _("My line"), frozenset({Role.PHONE_AGENT})),
    Page("mail-queue", _("E-mail queue"), frozenset({Role.EMAIL_HANDLER, Role.TEAM_LEAD})),
    Page("letter-new", _("Register a letter"), frozenset({Role.EMAIL_HANDLER, Role.TEAM_LEAD})),
    Page("visits", _("Visits"), frozenset({Role.PHONE_AGENT, Role.TEAM_LEAD})),
    Page("lead-breaches", _("Breaches"), frozenset({Role.TEAM_LEAD})),
    Page("lead-levels", _("Service levels"), frozenset({Role.TEAM_LEAD})),
    Page("lead-calendar", _("Calendar"), frozenset({Role.TEAM_LEAD})),
    Page("lead-absences", _("Absences"), frozenset({Role.TEAM_LEAD})),
    Page("quality-recordings", _("Recordings"), frozenset({Role.QUALITY_OFFICER, Role.TEAM_LEAD})),
    Page("quality-trends", _("Scores"), frozenset({Role.QUALITY_OFFICER, Role.TEAM_LEAD})),
)


def pages_for(roles: frozenset[str]) -> list[Page]:
    return [page for page in PAGES if page.roles & roles]


def workplace(request: HttpRequest) -> dict[str, object]:
    roles = user_roles(request.user)
    pages = pages_for(roles)
    return {
        "nav_pages": [(reverse(page.url_name), page.title, page.url_name) for page in pages],
        "user_roles": roles,
    }
