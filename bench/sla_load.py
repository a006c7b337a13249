"""A year of contact-centre SLA data for bench/sla_bench.py, written with COPY (bench/loader.py).

Closed interactions, spread over the past year, in time order (ids and ledger seqs follow it):
  calls (60 %): a call reaching the line in office hours opens PH-RING on a fixed deadline of its own
    (the policy's rings); mostly answered in time, some short abandons (stopped), some answered late,
    abandoned late or unanswered (breached). An answered call's end opens PH-REC (fixed, minutes), met by
    its recording. 3 % of calls come out of hours (no clock).
  e-mails (30 %): EM-ACK and EM-REPLY on the shared working-day deadlines of their arrival date;
    acknowledged within minutes and replied before the due time, unless breached.
  portal questions (10 %): PORTAL-ANS, closed in time (stopped) or late (breached).
  complaints (0.5 % of calls and e-mails): COMPLAINT, met by the outcome unless breached.
Breaches: a row for every breached clock (about `breaches`, split over the rules by BREACH_SPLIT), each
alerted to the team lead; 40 % of those older than two weeks acknowledged with a reason, 1 % reclassified
(withdrawn, the clock stopped), each review in the audit trail.
Open e-mails: the pending clocks, EM-ACK and EM-REPLY of e-mails received in the last days, all due at
least PENDING_MARGIN from now, their next warning (CC_SLA_WARN_AT) after that too (points already passed
count as warned), so nothing falls due or asks for a warning while the benchmark runs.
The ledger: every fact above is an Event in one valid hash chain; ChainHead holds its tip and the sla
cursor is past it (nothing left to apply). Not loaded: recordings, e-mail messages, agent statuses.

`replay_check` re-derives a sample of the clocks from their events through the product's own rules.
"""

from __future__ import annotations

import bisect
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.loader import (
    TableSpool,
    copy_text,
    foreign_keys_check,
    raw_cursor,
    sequences_reset,
    vacuum_analyze,
)

RING, REC, ACK, REPLY, PORTAL, COMPLAINT = (
    "PH-RING",
    "PH-REC",
    "EM-ACK",
    "EM-REPLY",
    "PORTAL-ANS",
    "COMPLAINT",
)
BREACH_SPLIT = {RING: 0.40, REPLY: 0.35, ACK: 0.10, PORTAL: 0.12, COMPLAINT: 0.03}
WORKING_DAY_RULES = frozenset({ACK, REPLY, PORTAL, COMPLAINT})
CHANNEL_SPLIT = (("call", 0.60), ("email", 0.30), ("portal", 0.10))
OUT_OF_HOURS = 0.03  # of calls
SHORT_ABANDONS = 0.05  # of calls in office hours
COMPLAINTS = 0.005  # of calls and e-mails
ACKNOWLEDGED, RECLASSIFIED = 0.40, 0.01  # of breaches
UNITS = (
    ("talrunis-1", "Tālruņa konsultanti 1", "call"),
    ("talrunis-2", "Tālruņa konsultanti 2", "call"),
    ("epasts", "E-pasta apstrāde", "email"),
    ("portals", "Portāla jautājumi", "portal"),
)
AGENTS_PER_UNIT = 15
PENDING_MARGIN = timedelta(hours=1)
RECORDED_AFTER = timedelta(milliseconds=40)  # Event.recorded_at after occurred_at
SYNCED_AFTER = timedelta(milliseconds=300)  # Clock.created_at after its event (applied after the commit)
SWEPT_AFTER = timedelta(seconds=1)  # a historical breach row written this long after the due time
ALERTED_AFTER = timedelta(seconds=1)  # and its alert this long after the row
SUBJECTS = ("Konta izraksts", "Maksājuma statuss", "E-pakalpojuma piekļuve", "Parakstu kartīte", "Jautājums")


@dataclass
class Staff:
    lead_user_id: int
    lead_person_id: int
    units: dict[str, int]  # code -> id
    agents: dict[str, list[tuple[int, int, int]]]  # channel -> (person id, user id, unit id)


def staff_create() -> Staff:
    """Units, a team lead who leads them all, and AGENTS_PER_UNIT agents each (tests/factories.py)."""
    from django.test import override_settings

    from agents.models import Role
    from tests.factories import PersonFactory, UnitFactory, UserFactory

    # One password hash per user at PBKDF2's cost would take seconds; nobody logs in with these.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        lead_user = UserFactory(username="bench-lead", roles=[Role.TEAM_LEAD])
        lead = PersonFactory(user=lead_user, unit=None, position="Komandas vadītāja")
        units, agents = {}, {}
        for code, name, channel in UNITS:
            unit = UnitFactory(code=code, name=name)
            unit.leads.add(lead)
            units[code] = unit.pk
            role = Role.PHONE_AGENT if channel == "call" else Role.EMAIL_HANDLER
            for n in range(AGENTS_PER_UNIT):
                user = UserFactory(username=f"bench-{code}-{n}", roles=[role])
                person = PersonFactory(user=user, unit=unit, extension=f"{len(units)}{n:02d}")
                agents.setdefault(channel, []).append((person.pk, user.pk, unit.pk))
    return Staff(lead_user.pk, lead.pk, units, agents)


@dataclass
class Counts:
    interactions: int = 0
    open_interactions: int = 0
    events: int = 0
    clocks: int = 0
    pending: int = 0
    deadlines: int = 0
    fixed_deadlines: int = 0
    breaches: dict[str, int] = field(default_factory=dict)
    reviews: int = 0
    alerts: int = 0


def _field_names(model: Any) -> set[str]:
    return {f.attname for f in model._meta.concrete_fields}


class SlaLoad:
    """Generates the rows in memory order, spools each table, then COPYs them in one transaction."""

    def __init__(self, *, staff: Staff, now: datetime, seed: int = 5) -> None:
        from contact_centre.models import ChainHead, Event, Interaction, Service
        from sla.calendar_source import current_calendar
        from sla.models import Alert, Breach, BreachReason, BreachReview, Clock, Deadline, Policy
        from sla.rings import ring_deadline_ms
        from sla.services import policy_ring_cadence

        self.staff = staff
        self.now = now.astimezone(UTC)
        self.rng = random.Random(seed)
        self.calendar = current_calendar()
        self.zone = self.calendar.time_zone
        policies = {p.rule_id: p for p in Policy.objects.all()}
        cadence = policy_ring_cadence(policies[RING])
        self.ring_ms = ring_deadline_ms(policies[RING].amount, cadence)
        self.ring_period_ms = cadence.period_ms
        self.rec_after = timedelta(minutes=policies[REC].amount)
        self.working_days = {rule: policies[rule].amount for rule in (ACK, REPLY, PORTAL, COMPLAINT)}
        self.services: list[int | None] = list(
            Service.objects.filter(active=True).values_list("pk", flat=True)
        )
        self.services.append(None)  # a few matters nobody classified
        self.reasons = list(BreachReason.objects.filter(active=True).values_list("pk", flat=True))
        head = ChainHead.objects.get(pk=1)
        self.seq, self.prev_hash = head.last_seq, head.last_hash
        self.next_id = {
            model: (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
            for model in (Interaction, Clock, Deadline, Breach)
        }
        self.Interaction, self.Clock, self.Deadline, self.Breach = Interaction, Clock, Deadline, Breach
        self.counts = Counts()
        self.basis_deadlines: dict[tuple[date, int], tuple[int, datetime]] = {}
        self.fixed_deadlines: dict[datetime, int] = {}
        # Columns the product added with the batch sweep (sla 0008), written when the models have them.
        self.breach_extra = sorted({"raised_at"} & _field_names(Breach))
        self.deadline_extra = sorted({"sweep_pending"} & _field_names(Deadline))
        self.clock_extra = sorted({"warnings_planned_for"} & _field_names(Clock))
        self.probability: dict[str, float] = {}
        self.trailing: list[tuple[datetime, str, dict[str, Any], str]] = []  # facts after the closing
        columns = {
            "deadline": (Deadline, "id basis_on working_days due_at " + " ".join(self.deadline_extra)),
            "interaction": (
                Interaction,
                "id reference channel service_id client_contact subject owner_id unit_id state is_complaint "
                "opened_at closed_at",
            ),
            "event": (
                Event,
                "seq interaction_id kind occurred_at recorded_at actor_id payload source_key prev_hash hash",
            ),
            "clock": (
                Clock,
                "id interaction_id rule_id opened_by_seq started_at created_at deadline_id settled_due_at "
                "state met_at breached_at stopped_at stop_reason detail next_warning_at warned_percent "
                + " ".join(self.clock_extra),
            ),
            "breach": (
                Breach,
                "id clock_id rule_id interaction_id due_at breached_at unit_id owner_id acknowledged_at "
                "acknowledged_by_id acknowledge_reason reason_id withdrawn_at withdraw_reason alerted_at "
                + " ".join(self.breach_extra),
            ),
            "review": (BreachReview, "breach_id action reason_id comment by_id at"),
            "alert": (
                Alert,
                "kind recipient_id rule_id interaction_id clock_id breach_id due_at subject body dedupe_key "
                "created_at deliver_at read_at email_state email_attempts email_sent_at",
            ),
        }
        self.spools = {name: TableSpool(model, names.split()) for name, (model, names) in columns.items()}

    # --- rows -----------------------------------------------------------------------------------

    def _id(self, model: Any) -> int:
        value = self.next_id[model]
        self.next_id[model] = value + 1
        return value

    def event(
        self,
        iid: int,
        kind: str,
        at: datetime,
        payload: dict[str, Any],
        *,
        key: str | None,
        actor: int | None = None,
    ) -> int:
        from contact_centre.models import event_hash

        self.seq += 1
        occurred = at.isoformat()
        digest = event_hash(
            seq=self.seq,
            interaction_id=iid,
            kind=kind,
            occurred_at=occurred,
            actor_id=actor,
            payload=payload,
            source_key=key,
            prev_hash=self.prev_hash,
        )
        recorded = (at + RECORDED_AFTER).isoformat()
        self.spools["event"].add(
            f"{self.seq}\t{iid}\t{kind}\t{occurred}\t{recorded}\t{copy_text(actor)}\t"
            f"{copy_text(payload)}\t{copy_text(key)}\t{self.prev_hash}\t{digest}"
        )
        self.prev_hash = digest
        self.counts.events += 1
        return self.seq

    def deadline_basis(self, basis: date, working_days: int) -> tuple[int, datetime]:
        """The shared deadline of (basis date, working days): its id and due time."""
        from sla.calendar import due_from_basis

        found = self.basis_deadlines.get((basis, working_days))
        if found is None:
            due = due_from_basis(basis, working_days, self.calendar).astimezone(UTC)
            found = (self._id(self.Deadline), due)
            line = f"{found[0]}\t{basis.isoformat()}\t{working_days}\t{due.isoformat()}"
            self.spools["deadline"].add(line + self._sweep_pending(due))
            self.basis_deadlines[basis, working_days] = found
            self.counts.deadlines += 1
        return found

    def _sweep_pending(self, due: datetime) -> str:
        """sweep_pending as the product keeps it: set while the deadline is ahead (its clocks may still be
        pending), cleared by the sweep once it passed and its pending clocks were breached."""
        return ("\tt" if due > self.now else "\tf") if self.deadline_extra else ""

    def deadline_fixed(self, due: datetime) -> tuple[int, datetime]:
        """The deadline at a fixed instant (one row per instant, as the model's constraint requires)."""
        found = self.fixed_deadlines.get(due)
        if found is None:
            found = self.fixed_deadlines[due] = self._id(self.Deadline)
            self.spools["deadline"].add(f"{found}\t\\N\t\\N\t{due.isoformat()}" + self._sweep_pending(due))
            self.counts.deadlines += 1
            self.counts.fixed_deadlines += 1
        return found, due

    def clock(
        self,
        iid: int,
        rule: str,
        seq: int,
        *,
        started: datetime,
        deadline: tuple[int, datetime],
        state: str,
        met: datetime | None = None,
        stopped: datetime | None = None,
        reason: str = "",
        detail: dict[str, Any] | None = None,
        warning: datetime | None = None,
        warned: int = 0,
        breached: bool = False,
    ) -> int:
        """A clock opened by event `seq`; settled ones keep their due time, a breached one (or one stopped
        after its breach, `breached`) its breach time."""
        cid = self._id(self.Clock)
        deadline_id, due = deadline
        settled = None if state == "pending" else due
        breached_at = due if state == "breached" or breached else None
        self.spools["clock"].add(
            f"{cid}\t{iid}\t{rule}\t{seq}\t{started.isoformat()}\t{(started + SYNCED_AFTER).isoformat()}\t"
            f"{deadline_id}\t{copy_text(settled)}\t{state}\t{copy_text(met)}\t{copy_text(breached_at)}\t"
            f"{copy_text(stopped)}\t{reason}\t{copy_text(detail or {})}\t{copy_text(warning)}\t{warned}"
            # warnings_planned_for: the due time of a working-day rule's clock, as clock_open writes it
            + ("\t" + (due.isoformat() if rule in WORKING_DAY_RULES else "\\N") if self.clock_extra else "")
        )
        self.counts.clocks += 1
        self.counts.pending += state == "pending"
        return cid

    def breached(
        self,
        iid: int,
        rule: str,
        seq: int,
        *,
        started: datetime,
        deadline: tuple[int, datetime],
        unit: int | None,
        owner: int | None,
        met: datetime | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """A clock breached at its due time and its breach (`breach`: call this where the ledger has the
        breach, before the late fact). A breach a team lead reclassified stops its clock (as
        `breach_reclassify` does)."""
        withdrawn = None
        if self.rng.random() < RECLASSIFIED:
            alerted = deadline[1] + SWEPT_AFTER + ALERTED_AFTER
            withdrawn = min(
                alerted + timedelta(hours=self.rng.uniform(1, 72)), self.now - timedelta(minutes=5)
            )
        opened = {"started": started, "deadline": deadline, "met": met, "detail": detail}
        if withdrawn is None:
            cid = self.clock(iid, rule, seq, **opened, state="breached")
        else:
            cid = self.clock(
                iid,
                rule,
                seq,
                **opened,
                state="stopped",
                stopped=withdrawn,
                reason="reclassified",
                breached=True,
            )
        self.breach(cid, rule, iid, due=deadline[1], unit=unit, owner=owner, withdrawn=withdrawn)
        return cid

    def breach(
        self,
        cid: int,
        rule: str,
        iid: int,
        *,
        due: datetime,
        unit: int | None,
        owner: int | None,
        withdrawn: datetime | None,
    ) -> None:
        """A breached clock as the sweep raised it: the `sla_breached` event, the row, the team lead's alert;
        maybe acknowledged, or reclassified at `withdrawn` (its `sla_breach_withdrawn` event follows the
        interaction's other facts)."""
        facts = {"rule_id": rule, "due_at": due.isoformat()}
        self.event(iid, "sla_breached", due, facts, key=f"sla_breached:{cid}")
        bid = self._id(self.Breach)
        rng, lead = self.rng, self.staff.lead_user_id
        raised = due + SWEPT_AFTER
        alerted = raised + ALERTED_AFTER
        acknowledged = reason = None
        comment = withdraw_reason = ""
        if due < self.now - timedelta(days=14) and rng.random() < ACKNOWLEDGED:
            acknowledged = alerted + timedelta(minutes=rng.uniform(20, 4 * 24 * 60))
            reason = rng.choice(self.reasons)
            comment = "Noslodze" if rng.random() < 0.3 else ""
            self._review(bid, "acknowledged", reason=reason, comment=comment, at=acknowledged)
        if withdrawn is not None:
            comment_withdrawn = "automātiska atbilde, ne klienta jautājums"
            withdraw_reason = f"reclassified: {comment_withdrawn}"
            self._review(bid, "reclassified", reason=None, comment=comment_withdrawn, at=withdrawn)
            payload = {**facts, "reason": withdraw_reason}
            self.trailing.append((withdrawn, "sla_breach_withdrawn", payload, f"sla_breach_withdrawn:{cid}"))
        extra = "".join(f"\t{raised.isoformat()}" for _ in self.breach_extra)  # raised_at: when written
        self.spools["breach"].add(
            f"{bid}\t{cid}\t{rule}\t{iid}\t{due.isoformat()}\t{due.isoformat()}\t{copy_text(unit)}\t"
            f"{copy_text(owner)}\t{copy_text(acknowledged)}\t{copy_text(lead if acknowledged else None)}\t"
            f"{comment}\t{copy_text(reason)}\t{copy_text(withdrawn)}\t{withdraw_reason}\t{alerted.isoformat()}"
            f"{extra}"
        )
        self.counts.breaches[rule] = self.counts.breaches.get(rule, 0) + 1
        self._alert(
            "breach",
            rule=rule,
            iid=iid,
            cid=None,
            bid=bid,
            due=due,
            subject=f"{rule} nokavēts / breached: #{iid}",
            key=f"breach:{bid}:{lead}",
            at=alerted,
        )

    def _review(self, bid: int, action: str, *, reason: int | None, comment: str, at: datetime) -> None:
        self.spools["review"].add(
            f"{bid}\t{action}\t{copy_text(reason)}\t{comment}\t{self.staff.lead_user_id}\t{at.isoformat()}"
        )
        self.counts.reviews += 1

    def _alert(
        self,
        kind: str,
        *,
        rule: str,
        iid: int,
        cid: int | None,
        bid: int | None,
        due: datetime,
        subject: str,
        key: str,
        at: datetime,
    ) -> None:
        """An alert to the team lead, e-mailed and (mostly) read."""
        sent = at + timedelta(seconds=2)
        read = at + timedelta(hours=1) if self.rng.random() < 0.8 else None
        self.spools["alert"].add(
            f"{kind}\t{self.staff.lead_user_id}\t{rule}\t{iid}\t{copy_text(cid)}\t{copy_text(bid)}\t"
            f"{due.isoformat()}\t{subject}\t{subject}.\\nSk. lietu #{iid}.\t{key}\t{at.isoformat()}\t"
            f"{at.isoformat()}\t{copy_text(read)}\tsent\t1\t{sent.isoformat()}"
        )
        self.counts.alerts += 1

    def interaction(
        self,
        iid: int,
        channel: str,
        opened: datetime,
        closed: datetime | None,
        *,
        contact: str,
        subject: str = "",
        owner: int | None = None,
        unit: int | None = None,
        complaint: bool = False,
    ) -> None:
        """The interaction's row, written after its facts; the facts that come after it closed go last."""
        for at, kind, payload, key in sorted(self.trailing, key=lambda fact: fact[0]):
            self.event(iid, kind, at, payload, key=key)
        self.trailing.clear()
        year = opened.astimezone(self.zone).year
        service = self.rng.choice(self.services)
        self.spools["interaction"].add(
            f"{iid}\tVK-{year}-{iid:06d}\t{channel}\t{copy_text(service)}\t{contact}\t{subject}\t"
            f"{copy_text(owner)}\t{copy_text(unit)}\t{'closed' if closed else 'open'}\t"
            f"{copy_text(complaint)}\t{opened.isoformat()}\t{copy_text(closed)}"
        )
        self.counts.interactions += 1

    # --- closed interactions --------------------------------------------------------------------

    def _clamp(self, at: datetime) -> datetime:
        """Every fact of a closed interaction lies in the past."""
        return min(at, self.now - timedelta(minutes=1))

    def _between(self, first: datetime, last: datetime) -> datetime:
        return first + (last - first) * self.rng.random()

    def _office_intervals(self, start: datetime, end: datetime) -> tuple[list[float], list[float]]:
        """Opening instants (epoch s) of each office-hours interval in [start, end), and the cumulative
        office seconds before each."""
        from sla.calendar import office_hours_on

        opens, cumulative, total = [], [], 0.0
        day = start.date() - timedelta(days=1)
        while day <= end.date():
            hours = office_hours_on(day, self.calendar)
            if hours is not None:
                first, last = max(hours[0], start).timestamp(), min(hours[1], end).timestamp()
                if last > first:
                    opens.append(first)
                    cumulative.append(total)
                    total += last - first
            day += timedelta(days=1)
        cumulative.append(total)
        return opens, cumulative

    def _arrivals(self, count: int) -> list[tuple[float, str]]:
        """When each closed interaction arrived and how, in time order. Calls arrive in office hours (out of
        hours ones in the evenings after), e-mails and portal questions at any hour; each channel ends early
        enough for its clocks to be settled by now."""
        rng, now = self.rng, self.now
        start = now - timedelta(days=365)
        ends = {
            "call": now - timedelta(hours=2),
            "email": now - timedelta(days=7),
            "portal": now - timedelta(days=16),
        }
        opens, cumulative = self._office_intervals(start, ends["call"])
        arrivals = []
        for channel, share in CHANNEL_SPLIT:
            first, last = start.timestamp(), ends[channel].timestamp()
            for _ in range(round(count * share)):
                if channel != "call":
                    arrivals.append((rng.uniform(first, last), channel))
                elif rng.random() < OUT_OF_HOURS:
                    index = rng.randrange(len(opens) - 1)
                    closing = opens[index] + cumulative[index + 1] - cumulative[index]
                    arrivals.append((min(closing + rng.uniform(60, 3 * 3600), last), "out_of_hours"))
                else:
                    offset = rng.uniform(0, cumulative[-1])
                    index = bisect.bisect_right(cumulative, offset) - 1
                    arrivals.append((opens[index] + offset - cumulative[index], "call"))
        arrivals.sort()
        return arrivals[:count]

    def closed_load(self, count: int, breaches: int) -> None:
        arrivals = self._arrivals(count)
        by_channel = {kind: sum(1 for _, k in arrivals if k == kind) for kind in ("call", "email", "portal")}
        complaints = max(1.0, COMPLAINTS * (by_channel["call"] + by_channel["email"]))
        population = {
            RING: by_channel["call"],
            ACK: by_channel["email"],
            REPLY: by_channel["email"],
            PORTAL: by_channel["portal"],
            COMPLAINT: complaints,
        }
        self.probability = {
            rule: min(0.9, breaches * share / max(1, population[rule]))
            for rule, share in BREACH_SPLIT.items()
        }
        for stamp, kind in arrivals:
            at = datetime.fromtimestamp(stamp, UTC)
            iid = self._id(self.Interaction)
            if kind == "call":
                self._call(iid, at)
            elif kind == "out_of_hours":
                self._call_out_of_hours(iid, at)
            elif kind == "email":
                self._email(iid, at)
            else:
                self._portal(iid, at)

    def _agent(self, channel: str, unit: int | None = None) -> tuple[int, int, int]:
        agents = self.staff.agents[channel]
        if unit is not None:
            agents = [agent for agent in agents if agent[2] == unit]
        return self.rng.choice(agents)

    def _call(self, iid: int, arrived: datetime) -> None:
        rng = self.rng
        sip, caller = f"bench-{iid}", f"+3712{iid % 10_000_000:07d}"
        unit = self.staff.units[rng.choice(("talrunis-1", "talrunis-2"))]
        payload: dict[str, Any] = {"sip_call_id": sip, "caller": caller}
        seq = self.event(iid, "call_arrived", arrived, payload, key=f"call:{sip}:arrived")
        deadline = self.deadline_fixed(arrived + timedelta(milliseconds=self.ring_ms))
        draw = rng.random()
        kind = "call_answered"
        if draw < self.probability[RING]:
            wait = self.ring_ms + rng.randrange(90_000)
            if rng.random() < 0.3:
                kind = "call_abandoned"
                if rng.random() < 0.3:
                    kind, wait = "call_unanswered", 120_000
        elif draw < self.probability[RING] + SHORT_ABANDONS:
            kind, wait = "call_abandoned", rng.randrange(1000, self.ring_ms)
        else:
            wait = rng.randrange(500, self.ring_ms)
        outcome_at = arrived + timedelta(milliseconds=wait)
        rings = wait // self.ring_period_ms + 1
        payload = {"rings": rings, "sip_call_id": sip, "wait_ms": wait}
        agent = self._agent("call", unit) if kind == "call_answered" else None
        owner = agent[0] if agent else None
        if agent:
            payload["agent_id"] = agent[0]
        late = wait >= self.ring_ms
        verdict = "breached" if late else ("met" if agent else "short_abandon")
        detail = {"wait_ms": wait, "rings": rings, "verdict": verdict}
        opened = {"started": arrived, "deadline": deadline, "detail": detail}
        if verdict == "short_abandon":
            self.clock(iid, RING, seq, **opened, state="stopped", stopped=outcome_at, reason="short_abandon")
        elif late:
            # Raised by the sweep while the caller still waited: nobody owned the call yet.
            met = outcome_at if agent else None
            self.breached(iid, RING, seq, **opened, unit=unit, owner=None, met=met)
        else:
            self.clock(iid, RING, seq, **opened, state="met", met=outcome_at)
        self.event(iid, kind, outcome_at, payload, key=f"call:{sip}:outcome")
        last = self._call_end(iid, sip, outcome_at) if agent else outcome_at
        complaint = rng.random() < COMPLAINTS
        if complaint:
            last = self._complaint(iid, last, unit=unit, owner=owner)
        closed = self._clamp(last + timedelta(minutes=rng.uniform(1, 30)))
        self.event(iid, "closed", closed, {"reason": ""}, key=None, actor=agent[1] if agent else None)
        self.interaction(
            iid, "phone", arrived, closed, contact=caller, owner=owner, unit=unit, complaint=complaint
        )

    def _call_end(self, iid: int, sip: str, answered: datetime) -> datetime:
        """An answered call ends, which opens PH-REC; its recording meets it. Returns the recording time."""
        rng = self.rng
        ended = answered + timedelta(seconds=rng.uniform(40, 900))
        payload: dict[str, Any] = {"answered": True, "ended_by": "caller", "sip_call_id": sip}
        seq = self.event(iid, "call_ended", ended, payload, key=f"call:{sip}:ended")
        recorded = ended + timedelta(seconds=rng.uniform(1, 20))
        duration_ms = int((ended - answered).total_seconds() * 1000)
        payload = {
            "recording_id": iid,
            "sha256": f"{iid:064x}",
            "duration_ms": duration_ms,
            "loud_fraction": 0.5,
        }
        self.event(iid, "call_recorded", recorded, payload, key=f"call:{sip}:recorded")
        deadline = self.deadline_fixed(ended + self.rec_after)
        self.clock(iid, REC, seq, started=ended, deadline=deadline, state="met", met=recorded)
        return recorded

    def _call_out_of_hours(self, iid: int, arrived: datetime) -> None:
        sip, caller = f"bench-{iid}", f"+3712{iid % 10_000_000:07d}"
        payload = {"sip_call_id": sip, "caller": caller}
        self.event(iid, "call_out_of_hours", arrived, payload, key=f"call:{sip}:arrived")
        closed = self._clamp(arrived + timedelta(minutes=1))
        self.event(iid, "closed", closed, {"reason": "ārpus darba laika"}, key=None)
        self.interaction(iid, "phone", arrived, closed, contact=caller)

    def _email(self, iid: int, received: datetime) -> None:
        from sla.calendar import local_date

        rng = self.rng
        sender, subject = f"klients{iid}@example.org", rng.choice(SUBJECTS)
        payload = {"message_id": f"<bench-{iid}@klients.lv>", "sender": sender, "subject": subject}
        seq = self.event(iid, "email_received", received, payload, key=f"email:bench-{iid}@klients.lv")
        basis = local_date(received, self.calendar)
        ack = self.deadline_basis(basis, self.working_days[ACK])
        reply = self.deadline_basis(basis, self.working_days[REPLY])
        agent = self._agent("email")
        unit = agent[2]
        if rng.random() < self.probability[ACK]:
            acknowledged = ack[1] + max(timedelta(minutes=1), (reply[1] - ack[1]) / 2 * rng.random())
        else:
            acknowledged = received + timedelta(seconds=rng.uniform(20, 900))
        if rng.random() < self.probability[REPLY]:
            replied = reply[1] + timedelta(minutes=rng.uniform(10, 3 * 24 * 60))
        else:
            replied = self._between(acknowledged + timedelta(minutes=1), reply[1] - timedelta(minutes=1))
        acknowledged, replied = self._clamp(acknowledged), self._clamp(replied)
        settle = {"started": received, "unit": unit, "owner": agent[0]}
        self._settle(iid, ACK, seq, deadline=ack, done=acknowledged, **settle)
        payload = {"message_id": f"<ack-{iid}@sla.kase.gov.lv>"}
        self.event(iid, "email_acknowledged", acknowledged, payload, key=f"email:ack-{iid}@sla.kase.gov.lv")
        self._settle(iid, REPLY, seq, deadline=reply, done=replied, **settle)
        payload = {"message_id": f"<re-{iid}@sla.kase.gov.lv>"}
        key = f"email:re-{iid}@sla.kase.gov.lv"
        self.event(iid, "email_replied", replied, payload, key=key, actor=agent[1])
        last = replied
        complaint = rng.random() < COMPLAINTS
        if complaint:
            last = self._complaint(iid, last, unit=unit, owner=agent[0])
        closed = self._clamp(last + timedelta(minutes=rng.uniform(1, 120)))
        self.event(iid, "closed", closed, {"reason": ""}, key=None, actor=agent[1])
        self.interaction(
            iid,
            "email",
            received,
            closed,
            contact=sender,
            subject=subject,
            owner=agent[0],
            unit=unit,
            complaint=complaint,
        )

    def _portal(self, iid: int, received: datetime) -> None:
        from sla.calendar import local_date

        rng = self.rng
        subject = rng.choice(SUBJECTS)
        payload = {"question_id": f"bench-{iid}", "subject": subject}
        seq = self.event(iid, "portal_received", received, payload, key=f"portal:bench-{iid}")
        deadline = self.deadline_basis(local_date(received, self.calendar), self.working_days[PORTAL])
        agent = self._agent("portal")
        if rng.random() < self.probability[PORTAL]:
            closed = deadline[1] + timedelta(hours=rng.uniform(1, 5 * 24))
        else:
            closed = self._between(received + timedelta(hours=1), deadline[1] - timedelta(minutes=1))
        closed = self._clamp(closed)
        opened = {"started": received, "deadline": deadline}
        if closed <= deadline[1]:
            self.clock(iid, PORTAL, seq, **opened, state="stopped", stopped=closed, reason="closed")
        else:
            self.breached(iid, PORTAL, seq, **opened, unit=agent[2], owner=agent[0])
        self.event(iid, "closed", closed, {"reason": "atbildēts portālā"}, key=None, actor=agent[1])
        self.interaction(
            iid,
            "portal",
            received,
            closed,
            contact=f"portal-{iid}",
            subject=subject,
            owner=agent[0],
            unit=agent[2],
        )

    def _settle(
        self,
        iid: int,
        rule: str,
        seq: int,
        *,
        started: datetime,
        deadline: tuple[int, datetime],
        done: datetime,
        unit: int | None,
        owner: int | None,
    ) -> int:
        """The clock the fact at `done` meets: met in time, else breached at its due time (the breach's
        event then comes before the late fact's, as the sweep wrote it first)."""
        if done <= deadline[1]:
            return self.clock(iid, rule, seq, started=started, deadline=deadline, state="met", met=done)
        return self.breached(
            iid, rule, seq, started=started, deadline=deadline, unit=unit, owner=owner, met=done
        )

    def _complaint(self, iid: int, after: datetime, *, unit: int, owner: int | None) -> datetime:
        """Marked a while after the last fact; the outcome given (late when a breach is drawn)."""
        from sla.calendar import local_date

        rng, lead = self.rng, self.staff.lead_user_id
        marked = self._clamp(after + timedelta(minutes=rng.uniform(10, 24 * 60)))
        payload = {"note": "Klients neapmierināts ar atbildi"}
        seq = self.event(iid, "complaint_marked", marked, payload, key=f"complaint:{iid}", actor=lead)
        deadline = self.deadline_basis(local_date(marked, self.calendar), self.working_days[COMPLAINT])
        if rng.random() < self.probability[COMPLAINT]:
            outcome = deadline[1] + timedelta(hours=rng.uniform(1, 72))
        else:
            outcome = self._between(marked + timedelta(minutes=30), deadline[1] - timedelta(minutes=1))
        outcome = self._clamp(outcome)
        cid = self._settle(
            iid, COMPLAINT, seq, started=marked, deadline=deadline, done=outcome, unit=unit, owner=owner
        )
        payload = {"outcome": "Atvainojāmies; jautājums atrisināts"}
        self.event(iid, "complaint_outcome", outcome, payload, key=f"complaint-outcome:{iid}", actor=lead)
        self._alert(
            "complaint",
            rule=COMPLAINT,
            iid=iid,
            cid=cid,
            bid=None,
            due=deadline[1],
            subject=f"Sūdzība / Complaint: #{iid}",
            key=f"complaint:{cid}:{lead}",
            at=marked,
        )
        return outcome

    # --- open e-mails: the pending clocks ---------------------------------------------------------

    def open_load(self, clocks: int) -> None:
        """`clocks` pending EM-ACK and EM-REPLY clocks (two per open e-mail), due after the margin."""
        from django.utils import timezone

        from sla.calendar import due_from_basis, local_date

        rng, calendar = self.rng, self.calendar
        today = timezone.localdate(self.now)
        later = self.now + PENDING_MARGIN
        first = next(
            today - timedelta(days=back)
            for back in range(30, -1, -1)
            if due_from_basis(today - timedelta(days=back), self.working_days[ACK], calendar) > later
        )
        start = timezone.make_aware(datetime.combine(first, datetime.min.time())).timestamp()
        end = (self.now - timedelta(minutes=1)).timestamp()
        for stamp in sorted(rng.uniform(start, end) for _ in range(clocks // 2)):
            received = datetime.fromtimestamp(stamp, UTC)
            iid = self._id(self.Interaction)
            sender, subject = f"klients{iid}@example.org", rng.choice(SUBJECTS)
            payload = {"message_id": f"<bench-{iid}@klients.lv>", "sender": sender, "subject": subject}
            seq = self.event(iid, "email_received", received, payload, key=f"email:bench-{iid}@klients.lv")
            basis = local_date(received, calendar)
            for rule in (ACK, REPLY):
                deadline = self.deadline_basis(basis, self.working_days[rule])
                warned, warning = self._warnings(received, deadline[1], later)
                self.clock(
                    iid,
                    rule,
                    seq,
                    started=received,
                    deadline=deadline,
                    state="pending",
                    warning=warning,
                    warned=warned,
                )
            owner = self._agent("email")[0] if rng.random() < 0.7 else None
            unit = self.staff.units["epasts"]
            self.interaction(
                iid, "email", received, None, contact=sender, subject=subject, owner=owner, unit=unit
            )
            self.counts.open_interactions += 1

    def _warnings(self, started: datetime, due: datetime, later: datetime) -> tuple[int, datetime | None]:
        """The warning points passed by `later` (as if warned) and the next one, as sla.alerts keeps them."""
        from sla.alerts import warning_next

        passed = 0
        while True:
            point = warning_next(started_at=started, due_at=due, after_percent=passed, calendar=self.calendar)
            if point is None or point[1] > later:
                return passed, point[1] if point else None
            passed = point[0]

    # --- into the database ----------------------------------------------------------------------

    def write(self) -> dict[str, float]:
        """COPY every spool in one transaction (parents first), check the foreign keys, move the id
        sequences, the chain tip and the sla cursor, and analyse. Returns seconds per table."""
        from contact_centre.models import ChainHead
        from sla.models import LedgerCursor

        seconds = {}
        with raw_cursor(triggers=False) as cursor:
            for name in ("deadline", "interaction", "event", "clock", "breach", "review", "alert"):
                seconds[name] = self.spools[name].load(cursor)
        tables = [spool.model._meta.db_table for spool in self.spools.values()]
        started = time.perf_counter()
        foreign_keys_check(tables)
        seconds["foreign key check"] = time.perf_counter() - started
        sequences_reset(spool.model for spool in self.spools.values())
        ChainHead.objects.filter(pk=1).update(last_seq=self.seq, last_hash=self.prev_hash)
        LedgerCursor.objects.update_or_create(pk=1, defaults={"last_seq": self.seq})
        started = time.perf_counter()
        vacuum_analyze(tables)
        seconds["vacuum analyze"] = time.perf_counter() - started
        return seconds

    def discard(self) -> None:
        for spool in self.spools.values():
            spool.discard()


# --- checks ---------------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


def _clock_facts(interaction_ids: list[int]) -> tuple[set[str], set[str], dict[tuple[int, str, int], Any]]:
    """The clocks and breaches of these interactions as comparable strings (ids and write times left out),
    and the next warning instant of each pending clock, by (interaction, rule, opening event)."""
    from sla.models import Breach, Clock

    clocks, warnings = set(), {}
    for c in Clock.objects.filter(interaction_id__in=interaction_ids).select_related("deadline"):
        if c.stop_reason == "reclassified":  # a team lead's act, not a ledger fact: compared as it was
            c.state, c.stopped_at, c.stop_reason = "breached", None, ""
        clocks.add(
            repr(
                (
                    c.interaction_id,
                    c.rule_id,
                    c.opened_by_seq,
                    c.started_at,
                    c.deadline.due_at,
                    c.settled_due_at,
                    c.state,
                    c.met_at,
                    c.breached_at,
                    c.stopped_at,
                    c.stop_reason,
                    sorted(c.detail.items()),
                    getattr(c, "warnings_planned_for", None),
                )
            )
        )
        if c.state == "pending":
            warnings[c.interaction_id, c.rule_id, c.opened_by_seq] = (c.warned_percent, c.next_warning_at)
    breaches = Breach.objects.filter(clock__interaction_id__in=interaction_ids).values_list(
        "interaction_id", "rule_id", "due_at", "breached_at", "unit_id", "owner_id"
    )
    # A late answer's PH-RING breach is raised by the sweep while the caller waits (no owner yet); a
    # replay after the fact raises it when the answer is applied, with the answering agent as owner.
    return clocks, {repr(row[:5] + ((None,) if row[1] == RING else row[5:])) for row in breaches}, warnings


def replay_check(sample: int, seed: int = 7) -> tuple[int, int, list[str]]:
    """Apply the events of `sample` random interactions again through the product's rules (sla.rules),
    after deleting their clocks, breaches, reviews and alerts, all inside a transaction rolled back at the
    end; compare with the loaded rows. Returns (interactions, clocks compared, differences)."""
    from django.db import transaction
    from django.db.models import Q

    from contact_centre.models import Event, Interaction
    from sla.calendar_source import current_calendar
    from sla.models import Alert, Breach, BreachReview, Clock, Policy
    from sla.rules import clock_apply_event
    from sla.services import SyncContext

    highest = Interaction.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ids = sorted(random.Random(seed).sample(range(1, highest + 1), min(sample, highest)))
    loaded = _clock_facts(ids)
    try:
        with transaction.atomic():
            Alert.objects.filter(
                Q(clock__interaction_id__in=ids) | Q(breach__interaction_id__in=ids)
            ).delete()
            BreachReview.objects.filter(breach__interaction_id__in=ids).delete()
            Breach.objects.filter(interaction_id__in=ids).delete()
            Clock.objects.filter(interaction_id__in=ids).delete()
            ctx = SyncContext(current_calendar(), {p.rule_id: p for p in Policy.objects.all()})
            for event in (
                Event.objects.filter(interaction_id__in=ids).order_by("seq").select_related("interaction")
            ):
                clock_apply_event(ctx, event)
            replayed = _clock_facts(ids)
            raise _Rollback
    except _Rollback:
        pass
    differences = []
    for kind, mine, theirs in (("clock", loaded[0], replayed[0]), ("breach", loaded[1], replayed[1])):
        for row in sorted(mine ^ theirs)[:6]:
            differences.append(f"{kind} {'loaded only' if row in mine else 'replayed only'}: {row}")
    # A loaded clock past a warning point counts it as sent; a replayed one was just opened (0 %).
    for key, (warned, warning) in loaded[2].items():
        if warned == 0 and replayed[2].get(key, (0, None))[1] != warning:
            differences.append(f"next warning of {key}: loaded {warning}, replayed {replayed[2].get(key)}")
    return len(ids), len(loaded[0]), differences
