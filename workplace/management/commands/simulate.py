"""`manage.py simulate`: a live demo against the running product (see workplace/simulation/)."""

from __future__ import annotations

import signal
import threading
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from agents.errors import DomainError
from workplace.simulation.agents import MAX_AGENTS, NoDemoAgents, demo_agents_preview
from workplace.simulation.plan import Options, Schedule, Span, span_parse
from workplace.simulation.report import dry_run_lines
from workplace.simulation.runner import simulation_run
from workplace.simulation.sipp import SippError
from workplace.simulation.target import ProductNotRunning, target_check, target_resolve


def _span(text: str) -> Span:
    try:
        return span_parse(text)
    except ValueError as error:
        raise ArgumentTypeError(str(error)) from error


def _rate(text: str) -> float:
    value = float(text)
    if value < 0:
        raise ArgumentTypeError(f"{text}: a rate is 0 or more a minute")
    return value


class Command(BaseCommand):
    help = (
        "Drive real traffic into the running product (start it with scripts/start): SIPp callers dialling "
        "the line through Kamailio with speech, SIPp phones registered as the demo agents' extensions that "
        "answer after a drawn ring time, and e-mails (questions, follow-ups, auto-replies, a bounce, a list "
        "post, odd ones) delivered into the product's mailbox. Ctrl-C hangs up and stops everything."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--calls-per-minute", type=_rate, default=6.0, help="default 6")
        parser.add_argument("--emails-per-minute", type=_rate, default=10.0, help="default 10")
        parser.add_argument("--minutes", type=float, default=None, help="default: until Ctrl-C")
        parser.add_argument(
            "--agents", type=int, default=3, choices=range(1, MAX_AGENTS + 1), metavar=f"1..{MAX_AGENTS}",
            help="agents' phones: seed_demo's phone agent (anna, 101) first, then colleagues (default 3)",
        )  # fmt: skip
        parser.add_argument(
            "--answer-after", type=_span, default=Span(2, 20), metavar="LOW-HIGH",
            help="seconds an agent's phone rings before answering, drawn per call (default 2-20; the line "
            "rings a phone for CC_SIP_RING_SECONDS, 15, then the next agent: long draws breach PH-RING)",
        )  # fmt: skip
        parser.add_argument(
            "--talk", type=_span, default=Span(5, 20), metavar="LOW-HIGH", help="seconds (default 5-20)"
        )
        parser.add_argument(
            "--seed", type=int, default=None, help="the same seed, the same callers, talk times and e-mails"
        )
        parser.add_argument(
            "--lmtp", default="auto", metavar="HOST:PORT",
            help="deliver e-mail over this LMTP (default: the local mailbox's, 127.0.0.1:2424, when "
            "scripts/start runs one; else IMAP APPEND); 'imap' forces IMAP APPEND",
        )  # fmt: skip
        parser.add_argument(
            "--open-line", action="store_true",
            help="outside office hours, open today's weekday 00:00-23:59 in the calendar while the "
            "simulation runs (put back at the end), so calls are answered, recorded and can breach PH-RING",
        )  # fmt: skip
        parser.add_argument(
            "--drain", type=float, default=30.0, metavar="SECONDS",
            help="with --minutes: how long calls in progress may go on after the end (default 30)",
        )  # fmt: skip
        parser.add_argument("--dry-run", action="store_true", help="print the plan and exit")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "simulate puts made-up calls and e-mails into the ledger; it runs only with DJANGO_DEBUG=true"
            )
        options = Options(
            calls_per_minute=opts["calls_per_minute"],
            emails_per_minute=opts["emails_per_minute"],
            minutes=opts["minutes"],
            agents=opts["agents"],
            answer_after=opts["answer_after"],
            talk=opts["talk"],
            seed=opts["seed"],
            lmtp="" if opts["lmtp"] == "imap" else opts["lmtp"],
            open_line=opts["open_line"],
            drain_s=opts["drain"],
        )
        try:
            target = target_resolve(options)
            if opts["dry_run"]:
                for line in dry_run_lines(
                    options, target, demo_agents_preview(options.agents), Schedule(options)
                ):
                    self.stdout.write(line)
                return
            target, notes = target_check(target, options)
        except (ProductNotRunning, ValueError) as error:
            raise CommandError(str(error)) from error
        for note in notes:
            self.stdout.write(self.style.WARNING(f"Note: {note}"))
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            simulation_run(options, target, say=self.stdout.write, stop=stop)
        except (NoDemoAgents, SippError, DomainError) as error:
            raise CommandError(str(error)) from error
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
