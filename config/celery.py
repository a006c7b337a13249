"""The Celery app and its beat schedule."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = {
    # One sweep over the indexed due times of pending clocks; no per-deadline delayed tasks. Every second,
    # so a due clock is breached within about a second; a tick the worker could not take in time expires
    # rather than piling up behind it.
    "sla-sweep": {"task": "sla.sweep", "schedule": 1.0, "options": {"expires": 5}},
    # The outbox's safety net: sends what is due for a retry or was never dispatched.
    "mail-outbox-sweep": {"task": "mail.outbox_sweep", "schedule": 15.0},
    # MK399 delay counts: the last week's days, each night after midnight (CELERY_TIMEZONE is Riga).
    "sla-counts-compile": {"task": "sla.counts_compile", "schedule": crontab(hour=1, minute=30)},
    # Recordings past CC_RECORDINGS_RETENTION_DAYS lose their audio (legal holds excepted), logged.
    "recordings-purge": {"task": "recordings.purge", "schedule": crontab(hour=2, minute=30)},
    # March: the previous year's MK399 report is due by 1 April; team leads are reminded weekly until
    # it is marked published (the task runs daily, so a day the beat was down costs nothing).
    "sla-mk399-remind": {
        "task": "sla.mk399_remind",
        "schedule": crontab(hour=9, minute=0, day_of_month="*", month_of_year=3),
    },
}
