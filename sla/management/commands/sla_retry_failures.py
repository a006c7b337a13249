"""`manage.py sla_retry_failures`: apply again the ledger events sla could not apply."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from sla.models import LedgerApplyFailure
from sla.sync import clock_retry_failures


class Command(BaseCommand):
    help = "Re-apply ledger events recorded as LedgerApplyFailure (after fixing their cause)."

    def handle(self, *args: Any, **options: Any) -> None:
        succeeded = clock_retry_failures()
        left = LedgerApplyFailure.objects.filter(resolved_at__isnull=True).count()
        self.stdout.write(f"{succeeded} applied now; {left} still failing")
