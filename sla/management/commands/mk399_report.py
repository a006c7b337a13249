"""`manage.py mk399_report --year YYYY --out FILE`: the yearly per-service report (MK399), xlsx or csv."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sla.counts import mk399_csv, mk399_xlsx

FIRST_YEAR = 2000


class Command(BaseCommand):
    help = (
        "Write the MK399 report for a year: per service, cases, cases per channel, delays, complaints. "
        "The file type follows the extension of --out (.xlsx or .csv)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--out", type=Path, required=True, help="FILE.xlsx or FILE.csv")

    def handle(self, *args: Any, **options: Any) -> None:
        year: int = options["year"]
        out: Path = options["out"]
        if not FIRST_YEAR <= year <= 2100:  # noqa: PLR2004 -- a plausible reporting year
            raise CommandError(f"--year {year} is not a reporting year")
        suffix = out.suffix.lower()
        if suffix == ".xlsx":
            out.write_bytes(mk399_xlsx(year))
        elif suffix == ".csv":
            out.write_text(mk399_csv(year), encoding="utf-8")
        else:
            raise CommandError(f"--out must end in .xlsx or .csv, not {out.name!r}")
        self.stdout.write(f"MK399 {year} -> {out}")
