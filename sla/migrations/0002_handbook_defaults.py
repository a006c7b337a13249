"""The handbook's numbers (HANDBOOK.md), office hours, and the Cabinet's calendar transfers as overrides."""

from datetime import time

from django.db import migrations

POLICIES = (
    ("EM-ACK", "working_days", 1, "Apstiprinājums par e-pasta saņemšanu", "E-mail receipt acknowledged",
     "Klientu apkalpošanas standarts, E-PASTS (seed 001)"),
    ("EM-REPLY", "working_days", 2, "Atbilde uz e-pastu", "E-mail answered",
     "Klientu apkalpošanas standarts, E-PASTS (seed 001)"),
    ("PORTAL-FWD", "working_days", 1, "Portāla jautājums pārsūtīts iestādei", "Portal question passed on",
     "MK noteikumi Nr. 400"),
    ("PORTAL-ANS", "working_days", 6, "Atbilde uz portāla jautājumu", "Portal question answered",
     "MK noteikumi Nr. 400"),
    ("PH-RING", "rings", 3, "Tālrunis atbildēts līdz trešajam signālam", "Phone answered by the third ring",
     "Klientu apkalpošanas standarts, TĀLRUNIS (seed 001)"),
    ("VISIT-BOOK", "days_ahead", 2, "Klātienes vizīte pieteikta vismaz divas darbdienas iepriekš",
     "Visit booked at least two working days ahead", "Klientu apkalpošanas standarts (seed 000)"),
)

OFFICE_HOURS = {
    0: (time(8, 30), time(17, 15)),
    1: (time(8, 30), time(17, 15)),
    2: (time(8, 30), time(17, 15)),
    3: (time(8, 30), time(17, 15)),
    4: (time(8, 30), time(16, 0)),
}


def seed(apps, schema_editor):
    from sla.calendar_seed import EXTRA_HOLIDAYS, TRANSFERRED_WORKING_DAYS

    Policy = apps.get_model("sla", "Policy")
    OfficeHours = apps.get_model("sla", "OfficeHours")
    CalendarOverride = apps.get_model("sla", "CalendarOverride")
    LedgerCursor = apps.get_model("sla", "LedgerCursor")
    for rule_id, kind, amount, title_lv, title_en, source in POLICIES:
        Policy.objects.get_or_create(
            rule_id=rule_id,
            defaults={"kind": kind, "amount": amount, "title_lv": title_lv, "title_en": title_en, "source": source},
        )
    for weekday, (opens_at, closes_at) in OFFICE_HOURS.items():
        OfficeHours.objects.get_or_create(weekday=weekday, defaults={"opens_at": opens_at, "closes_at": closes_at})
    for transfer in TRANSFERRED_WORKING_DAYS:
        CalendarOverride.objects.get_or_create(
            day=transfer.saturday,
            defaults={
                "kind": "working_saturday",
                "replaces": transfer.replaces,
                "name": f"Darba sestdiena (pārcelta no {transfer.replaces:%d.%m.%Y})",
                "legal_source": transfer.source,
            },
        )
    for holiday in EXTRA_HOLIDAYS:
        CalendarOverride.objects.get_or_create(
            day=holiday.day,
            defaults={"kind": "holiday", "name": holiday.name, "legal_source": holiday.source},
        )
    LedgerCursor.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
