# Type stub of the compiled module built from sla/_calendar_fast.c.
from collections.abc import Callable
from datetime import datetime

from sla.calendar import WorkingCalendar

def add_working_days(start_at: datetime, working_days: int, calendar: WorkingCalendar, /) -> datetime: ...
def set_fallback(function: Callable[[datetime, int, WorkingCalendar], datetime], /) -> None: ...
