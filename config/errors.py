"""One JSON error shape for the whole API: {"error": {"code", "message", "field", "details"}}."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from agents.errors import DomainError


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        refusal = {"code": exc.code, "message": exc.message, "field": exc.field}
        return Response({"error": refusal}, status=exc.status)
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, APIException):
        return response
    body: dict[str, Any]
    if isinstance(exc, ValidationError):
        body = {
            "code": "invalid",
            "message": _first_message(exc.detail),
            "field": None,
            "details": exc.detail,
        }
    else:
        codes = exc.get_codes()
        body = {
            "code": codes if isinstance(codes, str) else "error",
            "message": str(exc.detail),
            "field": None,
        }
    response.data = {"error": body}
    return response


def _first_message(detail: Any) -> str:
    """The first human-readable message inside DRF's nested validation detail."""
    if isinstance(detail, dict):
        for field, value in detail.items():
            return f"{field}: {_first_message(value)}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)
