"""The handbook's numbers (HANDBOOK.md), office hours, and the Cabinet's calendar transfers as overrides."""

from datetime import date, time

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


# Frozen copies of sla.calendar_seed as it was when this migration was written: a migration must seed
# the same rows whenever it runs, whatever that module says later. (saturday, replaced weekday, source)
TRANSFERRED_WORKING_DAYS = [
    ('2010-05-29', '2010-05-03', 'MK 2009. gada rīkojums «Par darbdienu pārcelšanu 2010. gadā» (likumi.lv id 203023)'),
    ('2010-06-19', '2010-06-25', 'MK 2009. gada rīkojums «Par darbdienu pārcelšanu 2010. gadā» (likumi.lv id 203023)'),
    ('2010-11-13', '2010-11-19', 'MK 2009. gada rīkojums «Par darbdienu pārcelšanu 2010. gadā» (likumi.lv id 203023)'),
    ('2012-04-28', '2012-04-30', 'MK 2011. gada rīkojums Nr. 146 «Par darba dienas pārcelšanu 2012. gadā» (likumi.lv id 228399)'),
    ('2013-12-14', '2013-12-23', 'MK 2012. gada rīkojums «Par darba dienu pārcelšanu 2013. gadā» (likumi.lv id 247102)'),
    ('2013-12-28', '2013-12-30', 'MK 2012. gada rīkojums «Par darba dienu pārcelšanu 2013. gadā» (likumi.lv id 247102)'),
    ('2014-05-10', '2014-05-02', 'MK 2013. gada rīkojums «Par darba dienu pārcelšanu 2014. gadā» (likumi.lv id 257810)'),
    ('2014-11-22', '2014-11-17', 'MK 2013. gada rīkojums «Par darba dienu pārcelšanu 2014. gadā» (likumi.lv id 257810)'),
    ('2015-01-10', '2015-01-02', 'MK 2014. gada rīkojums «Par darba dienu pārcelšanu 2015. gadā» (likumi.lv id 266487)'),
    ('2015-06-27', '2015-06-22', 'MK 2014. gada rīkojums «Par darba dienu pārcelšanu 2015. gadā» (likumi.lv id 266487)'),
    ('2017-05-13', '2017-05-05', 'MK 2016. gada rīkojums «Par darbadienas pārcelšanu 2017. gadā» (likumi.lv id 282928)'),
    ('2018-04-21', '2018-04-30', 'MK 2017. gada rīkojums Nr. 211 «Par darbadienas pārcelšanu 2018. gadā» (likumi.lv id 290413)'),
    ('2020-06-13', '2020-06-22', 'MK 2019. gada rīkojums «Par darba dienas pārcelšanu 2020. gadā» (likumi.lv id 308097)'),
    ('2021-05-08', '2021-05-03', 'MK 2020. gada 30. jūnija rīkojums Nr. 354 «Par darba dienu pārcelšanu 2021. gadā» (likumi.lv id 315837)'),
    ('2021-06-19', '2021-06-25', 'MK 2020. gada 30. jūnija rīkojums Nr. 354 «Par darba dienu pārcelšanu 2021. gadā» (likumi.lv id 315837)'),
    ('2021-11-13', '2021-11-19', 'MK 2020. gada 30. jūnija rīkojums Nr. 354 «Par darba dienu pārcelšanu 2021. gadā» (likumi.lv id 315837)'),
    ('2023-05-20', '2023-05-05', 'MK 2022. gada rīkojums «Par darba dienas pārcelšanu 2023. gadā» (likumi.lv id 333470)'),
    ('2024-12-14', '2024-12-23', 'MK 2023. gada 13. jūnija rīkojums Nr. 348 «Par darba dienu pārcelšanu 2024. gadā» (likumi.lv id 342680)'),
    ('2024-12-28', '2024-12-30', 'MK 2023. gada 13. jūnija rīkojums Nr. 348 «Par darba dienu pārcelšanu 2024. gadā» (likumi.lv id 342680)'),
    ('2025-05-10', '2025-05-02', 'MK 2024. gada rīkojums «Par darba dienu pārcelšanu 2025. gadā» (likumi.lv id 351684)'),
    ('2025-11-08', '2025-11-17', 'MK 2024. gada rīkojums «Par darba dienu pārcelšanu 2025. gadā» (likumi.lv id 351684)'),
    ('2026-01-17', '2026-01-02', 'MK 2025. gada 10. jūnija rīkojums «Par darba dienu pārcelšanu 2026. gadā» (likumi.lv id 361161)'),
    ('2026-06-27', '2026-06-22', 'MK 2025. gada 10. jūnija rīkojums «Par darba dienu pārcelšanu 2026. gadā» (likumi.lv id 361161)'),
]
# (day, name, source)
EXTRA_HOLIDAYS = [
    ('2018-07-08', 'Vispārējo latviešu Dziesmu un deju svētku noslēguma diena', 'Likums «Par svētku, atceres un atzīmējamām dienām» 1. pants, grozījumi 2014. gada 2. oktobrī (likumi.lv id 269373); noslēguma koncerts svētdien, tāpēc nākamā pirmdiena ir brīvdiena'),
    ('2023-07-09', 'Vispārējo latviešu Dziesmu un deju svētku noslēguma diena', 'Likums «Par svētku, atceres un atzīmējamām dienām» 1. pants, grozījumi 2014. gada 2. oktobrī (likumi.lv id 269373); noslēguma koncerts svētdien, tāpēc nākamā pirmdiena ir brīvdiena'),
]


def seed(apps, schema_editor):
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
    for saturday, replaces, source in TRANSFERRED_WORKING_DAYS:
        replaced = date.fromisoformat(replaces)
        CalendarOverride.objects.get_or_create(
            day=date.fromisoformat(saturday),
            defaults={
                "kind": "working_saturday",
                "replaces": replaced,
                "name": f"Darba sestdiena (pārcelta no {replaced:%d.%m.%Y})",
                "legal_source": source,
            },
        )
    for day, name, source in EXTRA_HOLIDAYS:
        CalendarOverride.objects.get_or_create(
            day=date.fromisoformat(day), defaults={"kind": "holiday", "name": name, "legal_source": source}
        )
    LedgerCursor.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
