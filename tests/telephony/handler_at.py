"""Run one call handler as if it were another time: `python -m tests.telephony.handler_at ISO-TIME -- ARGS`.

The tests' callers and agents are real SIPp processes and the handler a real process, so the only thing
faked is the wall clock (time-machine, ticking), which decides office hours and stamps the ledger; the
monotonic clock that measures waits is untouched.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime

import time_machine


def main() -> None:
    at, _, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django  # only now: the settings module is chosen above

    django.setup()
    from django.core.management import call_command

    with time_machine.travel(datetime.fromisoformat(at), tick=True):
        call_command("telephony_worker", *args)


if __name__ == "__main__":
    main()
