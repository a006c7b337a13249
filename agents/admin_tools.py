"""Admin forms validate by running the real service in a transaction that is always rolled back.

So the admin refuses exactly what the API refuses, with the same message, and nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from agents.errors import DomainError


class _DryRun(Exception):
    pass


def validate_by_dry_run(service: Callable[..., Any], **kwargs: Any) -> None:
    """Run `service(**kwargs)` and roll it back; a DomainError becomes a form ValidationError."""
    try:
        with transaction.atomic():
            service(**kwargs)
            raise _DryRun
    except _DryRun:
        return
    except DomainError as error:
        if error.field:
            raise ValidationError({error.field: error.message}, code=error.code) from error
        raise ValidationError(error.message, code=error.code) from error
