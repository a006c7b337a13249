"""Content Security Policy and related headers on every page (issue 6, security).

The workplace's pages load only their own scripts, styles, audio and fonts: no inline script, no eval
(htmx runs with allowEval off), nothing from other hosts, no framing. E-mail HTML is sanitised before it
is shown, and this policy is the second wall should anything slip through. The admin and the API docs
(Django's and Swagger UI's own pages, which use inline scripts) get a policy that allows those.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

STRICT = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# Django's admin and Swagger UI write inline scripts and styles of their own.
VENDOR_PAGES = ("/admin/", "/api/docs/")
RELAXED = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = RELAXED if request.path.startswith(VENDOR_PAGES) else STRICT
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response
