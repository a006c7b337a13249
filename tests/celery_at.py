"""Run Celery as if it were another time:
`python -m tests.celery_at ISO-TIME EPOCH -- worker|beat ARGS`.

The end-to-end tests run the product's real worker and beat processes against the real broker and
database; only the wall clock is faked (time-machine, ticking), so a deadline on a Friday evening can be
met on any day the suite runs. ISO-TIME is the faked time at the real Unix time EPOCH, so processes
started one after another share one timeline.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timedelta

import time_machine


def main() -> None:
    at, epoch, _, args = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from celery.__main__ import main as celery_main

    sys.argv = ["celery", "-A", "config", *args]
    now = datetime.fromisoformat(at) + timedelta(seconds=time.time() - epoch)
    with time_machine.travel(now, tick=True):
        celery_main()


if __name__ == "__main__":
    main()
