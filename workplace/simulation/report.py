"""What the simulation prints: the plan (``--dry-run``), a line per action, and the summary at the end."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice, takewhile

from workplace.simulation.plan import ODD_MAIL, CallKind, MailKind, Options, PlannedCall, Schedule
from workplace.simulation.target import Target

MAIL_LABELS = {
    MailKind.QUESTION: "client question",
    MailKind.PORTAL_QUESTION: "question through the portal (latvija.lv)",
    MailKind.SIGNED_SUBMISSION: "e-signed submission (.edoc)",
    MailKind.FOLLOW_UP: "follow-up in a thread",
    MailKind.AUTO_REPLY: "out-of-office auto-reply (RFC 3834)",
    MailKind.BOUNCE: "bounce (DSN)",
    MailKind.MAILING_LIST: "mailing-list post",
    MailKind.BROKEN_MIME: "odd: broken MIME",
    MailKind.HOSTILE_HTML: "odd: hostile HTML (script tags)",
    MailKind.HUGE_HEADER: "odd: 70 kB header",
    MailKind.RAW_8BIT_HEADERS: "odd: raw 8-bit headers",
    MailKind.NO_SENDER: "odd: no sender",
}
CALL_LABELS = {
    CallKind.PATIENT: "waits for an answer",
    CallKind.SHORT_ABANDON: "hangs up after {abandon:.0f} s unless answered (a short abandon)",
    CallKind.LATE_ABANDON: "hangs up after {abandon:.0f} s unless answered (past the 3rd ring)",
}
SUMMARY_LABELS = {
    MailKind.QUESTION: "questions",
    MailKind.PORTAL_QUESTION: "portal questions",
    MailKind.SIGNED_SUBMISSION: "signed submissions",
    MailKind.FOLLOW_UP: "follow-ups",
    MailKind.AUTO_REPLY: "auto-replies",
    MailKind.BOUNCE: "bounces",
    MailKind.MAILING_LIST: "list posts",
    MailKind.BROKEN_MIME: "broken MIME",
    MailKind.HOSTILE_HTML: "hostile HTML",
    MailKind.HUGE_HEADER: "huge header",
    MailKind.RAW_8BIT_HEADERS: "8-bit headers",
    MailKind.NO_SENDER: "no sender",
}
PREVIEW = 8  # calls and e-mails listed by --dry-run


def clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"[{minutes:02d}:{rest:02d}]"


def call_plan_text(call: PlannedCall) -> str:
    how = CALL_LABELS[call.kind].format(abandon=call.abandon_after_s or 0)
    return f"call #{call.number} from +{call.caller}: {how}; talks {call.talk_s:.0f} s"


@dataclass
class Tally:
    calls: Counter[str] = field(default_factory=Counter)
    mails: Counter[MailKind] = field(default_factory=Counter)
    mail_failures: int = 0
    answered_by: Counter[str] = field(default_factory=Counter)

    @property
    def mails_delivered(self) -> int:
        return sum(self.mails.values())

    def summary(self, elapsed_s: float, via: str) -> Iterator[str]:
        c = self.calls
        minutes, seconds = divmod(int(elapsed_s), 60)
        yield f"Summary after {minutes} min {seconds} s:"
        abandoned = c["short_abandon"] + c["late_abandon"]
        yield (
            f"  calls placed {c['placed']}: answered {c['answered']} ({c['answered_late']} after the 3rd "
            f"ring, {c['all_busy']} to the all-busy message), abandoned {abandoned} "
            f"({c['short_abandon']} short), line full {c['busy']}, closed {c['closed']}, "
            f"refused {c['refused']}, failed {c['failed']}; still going at the end (hung up) {c['hung_up']}"
        )
        if self.answered_by:
            agents = ", ".join(f"{name} {count}" for name, count in self.answered_by.most_common())
            yield f"  agents' phones answered: {agents}"
        usual = ", ".join(f"{SUMMARY_LABELS[k]} {self.mails[k]}" for k in MailKind if k not in ODD_MAIL)
        odd = ", ".join(f"{SUMMARY_LABELS[k]} {self.mails[k]}" for k in MailKind if k in ODD_MAIL)
        odd_total = sum(n for kind, n in self.mails.items() if kind in ODD_MAIL)
        yield f"  e-mails delivered {self.mails_delivered} ({via}): {usual}, odd {odd_total} ({odd})"
        yield f"  e-mails not delivered: {self.mail_failures}"


def dry_run_lines(options: Options, target: Target, agents: list[str], schedule: Schedule) -> Iterator[str]:
    horizon = options.minutes * 60 if options.minutes is not None else float("inf")
    duration = f"{options.minutes:g} min" if options.minutes is not None else "until Ctrl-C"
    yield f"Plan ({duration}, seed {options.seed if options.seed is not None else 'random'}):"
    yield (
        f"  line {target.line_number} through {target.front_door_address} ({target.domain}): "
        f"{options.calls_per_minute:g} calls a minute, talk {options.talk}"
    )
    yield f"  agents' phones ring {options.answer_after} before answering: {', '.join(agents) or 'none'}"
    mailbox = target.mailbox
    yield (
        f"  mailbox {mailbox.address} ({mailbox.imap.host}:{mailbox.imap.port}), by {mailbox.via}: "
        f"{options.emails_per_minute:g} e-mails a minute"
    )
    if options.open_line:
        yield "  --open-line: outside office hours, today's weekday opens 00:00–23:59 until the end"
    calls = list(islice(takewhile(lambda c: c.at_s < horizon, schedule.calls()), PREVIEW))
    mails = list(islice(takewhile(lambda m: m.at_s < horizon, schedule.mails()), PREVIEW))
    events = sorted(
        [(c.at_s, call_plan_text(c)) for c in calls]
        + [(m.at_s, f"e-mail #{m.number}: {MAIL_LABELS[m.kind]}") for m in mails]
    )
    yield f"  the first {len(calls)} calls and {len(mails)} e-mails:"
    for at, text in events:
        yield f"    {clock(at)} {text}"
