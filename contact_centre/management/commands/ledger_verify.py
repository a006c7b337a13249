"""`manage.py ledger_verify`: check the ledger's hash chain and name the first broken event."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from contact_centre.selectors import ledger_chain_verify


class Command(BaseCommand):
    help = "Verify the ledger's hash chain; exit 1 naming the first broken event."

    def handle(self, *args: Any, **options: Any) -> None:
        report = ledger_chain_verify()
        if not report.intact:
            raise CommandError(
                f"Ledger chain broken at event seq={report.first_broken_seq}: {report.problem} "
                f"({report.events_checked} events before it are intact)"
            )
        self.stdout.write(f"Ledger chain intact: {report.events_checked} events verified.")
