"""Calendar facts that no holiday package gets right for us, each with the act that made it.

Pure data, no Django: a data migration copies these rows into the calendar overrides table, and
`sla.holidays_lv.lv_calendar` uses them directly when no database is involved.

TRANSFERRED_WORKING_DAYS
    The Cabinet's yearly order "Par darba dienu pārcelšanu N. gadā" (Labour Law §133(4)) moves one
    working day that sits between a public holiday and a weekend to a Saturday of the same month. The
    order binds State-budget institutions with a Monday-to-Friday week, which includes the State Treasury.
    The replaced weekday becomes a day off (not a public holiday); the Saturday becomes a working day.
    The likumi.lv document id is given so the act can be opened; the order number is given only where
    it was confirmed.

    2010-2017 are included because the database calendar starts in 2010 (sla.calendar_source). Those
    rows follow the likumi.lv orders cited by the `holidays` package; 2010 (May), 2012, 2014 and 2017
    were confirmed against contemporary news, the others were not independently checked.

    Years without an order: 2011 and 2016 (per the package's list), 2019 (none was issued; the only
    extra day off was Mon 6 May, by the 4-May-on-a-weekend rule) and 2022 (no bridge day).

    2027 is MISSING: its order was due by 1 July 2026, but its content could not be confirmed when
    this file was written. 2027 has the 2021 calendar, so bridges are likely on Mon 3 May, Fri 25 Jun
    and Fri 19 Nov; do not guess them, add the rows once the order has been checked.

EXTRA_HOLIDAYS
    Public holidays by law that the `holidays` package (0.109) does not return on their own date. The
    package does have 24 Sep 2018 and 29 May 2023 (see sla/holidays_lv.py), so only the Song and Dance
    Festival's closing days are needed here: the law makes the closing day itself the holiday and the
    next working day a day off when it falls on a weekend; the package lists only that Monday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class TransferredWorkingDay:
    """A Saturday worked instead of `replaces`, a weekday that becomes a day off."""

    saturday: date
    replaces: date
    source: str


@dataclass(frozen=True)
class ExtraHoliday:
    """A public holiday by law that the holidays package lacks."""

    day: date
    name: str
    source: str


_ORDER_2010 = "MK 2009. gada rīkojums «Par darbdienu pārcelšanu 2010. gadā» (likumi.lv id 203023)"
_ORDER_2012 = "MK 2011. gada rīkojums Nr. 146 «Par darba dienas pārcelšanu 2012. gadā» (likumi.lv id 228399)"
_ORDER_2013 = "MK 2012. gada rīkojums «Par darba dienu pārcelšanu 2013. gadā» (likumi.lv id 247102)"
_ORDER_2014 = "MK 2013. gada rīkojums «Par darba dienu pārcelšanu 2014. gadā» (likumi.lv id 257810)"
_ORDER_2015 = "MK 2014. gada rīkojums «Par darba dienu pārcelšanu 2015. gadā» (likumi.lv id 266487)"
_ORDER_2017 = "MK 2016. gada rīkojums «Par darbadienas pārcelšanu 2017. gadā» (likumi.lv id 282928)"
_ORDER_2018 = "MK 2017. gada rīkojums Nr. 211 «Par darbadienas pārcelšanu 2018. gadā» (likumi.lv id 290413)"
_ORDER_2020 = "MK 2019. gada rīkojums «Par darba dienas pārcelšanu 2020. gadā» (likumi.lv id 308097)"
_ORDER_2021 = (
    "MK 2020. gada 30. jūnija rīkojums Nr. 354 «Par darba dienu pārcelšanu 2021. gadā» (likumi.lv id 315837)"
)
_ORDER_2023 = "MK 2022. gada rīkojums «Par darba dienas pārcelšanu 2023. gadā» (likumi.lv id 333470)"
_ORDER_2024 = (
    "MK 2023. gada 13. jūnija rīkojums Nr. 348 «Par darba dienu pārcelšanu 2024. gadā» (likumi.lv id 342680)"
)
_ORDER_2025 = "MK 2024. gada rīkojums «Par darba dienu pārcelšanu 2025. gadā» (likumi.lv id 351684)"
_ORDER_2026 = (
    "MK 2025. gada 10. jūnija rīkojums «Par darba dienu pārcelšanu 2026. gadā» (likumi.lv id 361161)"
)

TRANSFERRED_WORKING_DAYS: tuple[TransferredWorkingDay, ...] = (
    TransferredWorkingDay(saturday=date(2010, 5, 29), replaces=date(2010, 5, 3), source=_ORDER_2010),
    TransferredWorkingDay(saturday=date(2010, 6, 19), replaces=date(2010, 6, 25), source=_ORDER_2010),
    TransferredWorkingDay(saturday=date(2010, 11, 13), replaces=date(2010, 11, 19), source=_ORDER_2010),
    TransferredWorkingDay(saturday=date(2012, 4, 28), replaces=date(2012, 4, 30), source=_ORDER_2012),
    TransferredWorkingDay(saturday=date(2013, 12, 14), replaces=date(2013, 12, 23), source=_ORDER_2013),
    TransferredWorkingDay(saturday=date(2013, 12, 28), replaces=date(2013, 12, 30), source=_ORDER_2013),
    TransferredWorkingDay(saturday=date(2014, 5, 10), replaces=date(2014, 5, 2), source=_ORDER_2014),
    TransferredWorkingDay(saturday=date(2014, 11, 22), replaces=date(2014, 11, 17), source=_ORDER_2014),
    TransferredWorkingDay(saturday=date(2015, 1, 10), replaces=date(2015, 1, 2), source=_ORDER_2015),
    TransferredWorkingDay(saturday=date(2015, 6, 27), replaces=date(2015, 6, 22), source=_ORDER_2015),
    TransferredWorkingDay(saturday=date(2017, 5, 13), replaces=date(2017, 5, 5), source=_ORDER_2017),
    TransferredWorkingDay(saturday=date(2018, 4, 21), replaces=date(2018, 4, 30), source=_ORDER_2018),
    TransferredWorkingDay(saturday=date(2020, 6, 13), replaces=date(2020, 6, 22), source=_ORDER_2020),
    TransferredWorkingDay(saturday=date(2021, 5, 8), replaces=date(2021, 5, 3), source=_ORDER_2021),
    TransferredWorkingDay(saturday=date(2021, 6, 19), replaces=date(2021, 6, 25), source=_ORDER_2021),
    TransferredWorkingDay(saturday=date(2021, 11, 13), replaces=date(2021, 11, 19), source=_ORDER_2021),
    TransferredWorkingDay(saturday=date(2023, 5, 20), replaces=date(2023, 5, 5), source=_ORDER_2023),
    TransferredWorkingDay(saturday=date(2024, 12, 14), replaces=date(2024, 12, 23), source=_ORDER_2024),
    TransferredWorkingDay(saturday=date(2024, 12, 28), replaces=date(2024, 12, 30), source=_ORDER_2024),
    TransferredWorkingDay(saturday=date(2025, 5, 10), replaces=date(2025, 5, 2), source=_ORDER_2025),
    TransferredWorkingDay(saturday=date(2025, 11, 8), replaces=date(2025, 11, 17), source=_ORDER_2025),
    TransferredWorkingDay(saturday=date(2026, 1, 17), replaces=date(2026, 1, 2), source=_ORDER_2026),
    TransferredWorkingDay(saturday=date(2026, 6, 27), replaces=date(2026, 6, 22), source=_ORDER_2026),
)

_FESTIVAL_NAME = "Vispārējo latviešu Dziesmu un deju svētku noslēguma diena"
_FESTIVAL_LAW = (
    "Likums «Par svētku, atceres un atzīmējamām dienām» 1. pants, grozījumi 2014. gada 2. oktobrī "
    "(likumi.lv id 269373); noslēguma koncerts svētdien, tāpēc nākamā pirmdiena ir brīvdiena"
)

EXTRA_HOLIDAYS: tuple[ExtraHoliday, ...] = (
    # XXVI Song and XVI Dance Festival, 30 Jun - 8 Jul 2018; Mon 9 Jul 2018 was the day off.
    ExtraHoliday(day=date(2018, 7, 8), name=_FESTIVAL_NAME, source=_FESTIVAL_LAW),
    # XXVII Song and XVII Dance Festival, 30 Jun - 9 Jul 2023; Mon 10 Jul 2023 was the day off.
    ExtraHoliday(day=date(2023, 7, 9), name=_FESTIVAL_NAME, source=_FESTIVAL_LAW),
)
