"""QA scorecards per recording (PH-GREET, courtesy, resolution): a quality officer scores a recording on a
form, submits it once and for good; the recording's agent acknowledges it or disputes it; a team lead
resolves a dispute, and an upheld one opens a new scorecard that supersedes the old. Nothing is deleted.
`score_trends` averages the scores per agent per week or month, for charts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Avg, Count, DateField, Q
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from agents.errors import DomainError
from agents.models import Person, Role
from agents.selectors import user_roles
from recordings.models import (
    DisputeState,
    Recording,
    Scorecard,
    ScorecardAcknowledgement,
    ScorecardAnswer,
    ScorecardDispute,
    ScorecardItem,
    ScorecardQuerySet,
    ScorecardTemplate,
)

# Seeded by migration 0003; the form a new scorecard uses unless another is named.
DEFAULT_TEMPLATE_CODE = "ph-greet"
COMMENT_MIN_LENGTH = 5
TREND_MAX_DAYS = 366
Period = Literal["week", "month"]


@dataclass(frozen=True)
class AnswerInput:
    """One answer as the officer gives it: the item's id, 1/0 for yes/no or 0..N on a scale."""

    item_id: int
    value: int
    note: str = ""


def _refused(code: str, lv: str, en: str, *, status: int = 403, field: str | None = None) -> DomainError:
    return DomainError(code, f"{lv} / {en}", status=status, field=field)


def _reads_all(user: User) -> bool:
    return user.is_staff or bool(user_roles(user) & {Role.QUALITY_OFFICER, Role.TEAM_LEAD})


def _quality_officer(user: User) -> None:
    if Role.QUALITY_OFFICER not in user_roles(user):
        raise _refused(
            "scorecard_officers_only",
            "Vērtējuma lapas aizpilda tikai kvalitātes speciālisti",
            "Only quality officers fill in scorecards",
        )


def _comment_checked(comment: str) -> str:
    comment = comment.strip()
    if len(comment) < COMMENT_MIN_LENGTH:
        raise _refused(
            "comment_required", "Norādiet komentāru", "Give a comment", status=400, field="comment"
        )
    return comment


def _own_locked(scorecard: Scorecard, officer: User) -> Scorecard:
    """The scorecard locked for this transaction, once it is known to be `officer`'s."""
    _quality_officer(officer)
    locked = Scorecard.objects.select_for_update().select_related("template").get(pk=scorecard.pk)
    if locked.officer_id != officer.pk:
        raise _refused(
            "scorecard_not_yours",
            "Šo vērtējuma lapu aizpilda cits kvalitātes speciālists",
            "Another quality officer is filling in this scorecard",
        )
    return locked


def _draft(scorecard: Scorecard) -> None:
    if scorecard.is_submitted():
        raise _refused(
            "scorecard_submitted",
            "Vērtējuma lapa jau iesniegta, un to vairs nevar mainīt",
            "The scorecard is submitted and can no longer change",
            status=409,
        )


def scorecard_create(
    *, recording: Recording, officer: User, template: ScorecardTemplate | None = None, comment: str = ""
) -> Scorecard:
    """Open a draft scorecard for `recording` on `template` (default: the PH-GREET form).

    Side effects: one Scorecard row. Idempotency key: the recording, which has one original scorecard;
    the same officer asking again gets their draft back, anyone else is refused (409 `scorecard_exists`).
    """
    _quality_officer(officer)
    template = template or ScorecardTemplate.objects.filter(code=DEFAULT_TEMPLATE_CODE).first()
    if template is None or not template.active:
        raise _refused(
            "template_inactive",
            "Izvēlieties aktīvu vērtējuma veidlapu",
            "Choose an active scorecard template",
            status=400,
            field="template",
        )
    with transaction.atomic():
        # The recording's lock makes two officers opening a scorecard at once take turns.
        Recording.objects.select_for_update().filter(pk=recording.pk).first()
        existing = Scorecard.objects.filter(recording=recording, supersedes__isnull=True).first()
        if existing is not None:
            if existing.officer_id == officer.pk and not existing.is_submitted():
                return existing
            raise _refused(
                "scorecard_exists",
                "Šim ierakstam jau ir vērtējuma lapa",
                "This recording already has a scorecard",
                status=409,
                field="recording",
            )
        return Scorecard.objects.create(
            recording=recording,
            template=template,
            officer=officer,
            created_at=timezone.now(),
            comment=comment.strip(),
        )


def _answer_checked(answer: AnswerInput, items: dict[int, ScorecardItem]) -> ScorecardItem:
    item = items.get(answer.item_id)
    if item is None:
        raise _refused(
            "item_unknown",
            f"Šajā veidlapā nav jautājuma {answer.item_id}",
            f"The template has no item {answer.item_id}",
            status=400,
            field="answers",
        )
    if not 0 <= answer.value <= item.scale_max:
        raise _refused(
            "value_out_of_range",
            f"„{item.code}“ vērtība ir no 0 līdz {item.scale_max}",
            f"The value of {item.code} is 0 to {item.scale_max}",
            status=400,
            field="answers",
        )
    return item


def scorecard_answer(
    *, scorecard: Scorecard, officer: User, answers: Sequence[AnswerInput], comment: str | None = None
) -> Scorecard:
    """Set answers (and the comment, when given) on the officer's own draft.

    Side effects: one ScorecardAnswer per item answered, created or overwritten, with the item's current
    wording copied in; the comment. Idempotent: the same answers again leave the same rows. Refused once
    submitted (409 `scorecard_submitted`).
    """
    with transaction.atomic():
        card = _own_locked(scorecard, officer)
        _draft(card)
        items = {item.pk: item for item in card.template.items.all()}
        given = {answer.item_id: (answer, _answer_checked(answer, items)) for answer in answers}
        stored = {row.item_id: row for row in card.answers.filter(item_id__in=given)}
        for item_id, (answer, item) in given.items():
            row = stored.get(item_id) or ScorecardAnswer(scorecard=card, item=item)
            row.value, row.note = answer.value, answer.note.strip()
            row.snapshot(item)
            row.save()
        if comment is not None:
            card.comment = comment.strip()
            card.save(update_fields=["comment"])
    return card


def score_percent(answers: Sequence[ScorecardAnswer]) -> Decimal:
    """The weighted total in per cent, one decimal, halves up: Σ weight·value/N ÷ Σ weight (the snapshot)."""
    weights = sum(answer.item_weight for answer in answers)
    earned = sum(Fraction(answer.item_weight * answer.value, answer.item_scale_max) for answer in answers)
    share = Fraction(earned) / weights * 100
    return (Decimal(share.numerator) / Decimal(share.denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def scorecard_submit(*, scorecard: Scorecard, officer: User) -> Scorecard:
    """Submit the officer's draft: every item of its template must be answered.

    Side effects: each answer gets the item's current wording, rule, scale and weight (the snapshot);
    the scorecard its `score`, `template_version` and `submitted_at`, after which neither changes (the
    database refuses it too). Idempotent: submitting a submitted scorecard returns it unchanged.
    """
    with transaction.atomic():
        card = _own_locked(scorecard, officer)
        if card.is_submitted():
            return card
        items = list(card.template.items.all())
        answers = {row.item_id: row for row in card.answers.all()}
        missing = [item.code for item in items if item.pk not in answers]
        if missing or not items:
            raise _refused(
                "answers_missing",
                f"Atbildiet uz visiem jautājumiem: {', '.join(missing)}",
                f"Answer every item: {', '.join(missing)}",
                status=400,
                field="answers",
            )
        for item in items:
            answers[item.pk].snapshot(item)
            answers[item.pk].save()
        card.score = score_percent(list(answers.values()))
        card.template_version = card.template.version
        card.submitted_at = timezone.now()
        card.save(update_fields=["score", "template_version", "submitted_at"])
    return card


def _agents_own_submitted(scorecard: Scorecard, user: User) -> None:
    agent = scorecard.recording.agent
    if agent is None or agent.user_id != user.pk:
        raise _refused(
            "scorecard_not_your_call",
            "Tikai ieraksta konsultants var iepazīties ar vērtējumu vai to apstrīdēt",
            "Only the recording's agent may acknowledge or dispute its scorecard",
        )
    if not scorecard.is_submitted():
        raise _refused(
            "scorecard_draft",
            "Vērtējuma lapa vēl nav iesniegta",
            "The scorecard is not submitted yet",
            status=409,
        )


def scorecard_acknowledge(*, scorecard: Scorecard, user: User) -> ScorecardAcknowledgement:
    """The recording's agent has seen the submitted scorecard.

    Side effects: one ScorecardAcknowledgement. Idempotency key: the scorecard; again returns the first.
    """
    _agents_own_submitted(scorecard, user)
    acknowledgement, _ = ScorecardAcknowledgement.objects.get_or_create(
        scorecard=scorecard, defaults={"by": user, "at": timezone.now()}
    )
    return acknowledgement


def scorecard_dispute(*, scorecard: Scorecard, user: User, comment: str) -> ScorecardDispute:
    """The recording's agent disputes the submitted scorecard, saying why; team leads decide.

    Side effects: one open ScorecardDispute. Idempotency key: the scorecard (one dispute each); asking
    again while it is open returns it, after it was resolved is refused (409 `dispute_resolved`).
    """
    _agents_own_submitted(scorecard, user)
    comment = _comment_checked(comment)
    with transaction.atomic():
        Scorecard.objects.select_for_update().filter(pk=scorecard.pk).first()
        existing = ScorecardDispute.objects.filter(scorecard=scorecard).first()
        if existing is None:
            return ScorecardDispute.objects.create(
                scorecard=scorecard, raised_by=user, raised_at=timezone.now(), comment=comment
            )
    if existing.state != DisputeState.OPEN:
        raise _dispute_resolved()
    return existing


def _dispute_resolved() -> DomainError:
    return _refused(
        "dispute_resolved", "Apstrīdējums jau izskatīts", "The dispute is already resolved", status=409
    )


def scorecard_dispute_resolve(
    *, scorecard: Scorecard, by: User, upheld: bool, comment: str
) -> ScorecardDispute:
    """A team lead decides the dispute on `scorecard`: upheld or rejected, with a comment.

    Side effects: the dispute's decision; when upheld, a new draft scorecard for the same officer that
    supersedes this one, its answers copied for correcting (the disputed one stays as it was and leaves
    the trends). Idempotent: the same decision again returns the dispute; a different one is refused.
    """
    if Role.TEAM_LEAD not in user_roles(by):
        raise _refused(
            "dispute_leads_only", "Apstrīdējumus izskata komandu vadītāji", "Team leads resolve disputes"
        )
    if scorecard.officer_id == by.pk:
        raise _refused(
            "dispute_own_scorecard",
            "Savas vērtējuma lapas apstrīdējumu izskata cits vadītājs",
            "Another team lead resolves a dispute of your own scorecard",
        )
    comment = _comment_checked(comment)
    outcome = DisputeState.UPHELD if upheld else DisputeState.REJECTED
    with transaction.atomic():
        dispute = ScorecardDispute.objects.select_for_update().filter(scorecard=scorecard).first()
        if dispute is None:
            raise _refused(
                "dispute_missing",
                "Šī vērtējuma lapa nav apstrīdēta",
                "This scorecard is not disputed",
                status=409,
            )
        if dispute.state != DisputeState.OPEN:
            if dispute.state == outcome:
                return dispute
            raise _dispute_resolved()
        dispute.state, dispute.resolved_by, dispute.resolution = outcome, by, comment
        dispute.resolved_at = timezone.now()
        dispute.save(update_fields=["state", "resolved_by", "resolution", "resolved_at"])
        if upheld:
            _successor_open(scorecard)
    return dispute


def _successor_open(disputed: Scorecard) -> Scorecard:
    successor = Scorecard.objects.create(
        recording=disputed.recording,
        template=disputed.template,
        officer=disputed.officer,
        created_at=timezone.now(),
        supersedes=disputed,
    )
    rows = []
    for answer in disputed.answers.select_related("item"):
        if answer.value > answer.item.scale_max:
            continue  # the form's scale shrank since: left for the officer to answer again
        row = ScorecardAnswer(scorecard=successor, item=answer.item, value=answer.value, note=answer.note)
        row.snapshot(answer.item)
        rows.append(row)
    ScorecardAnswer.objects.bulk_create(rows)
    return successor


def scorecards_visible(user: User) -> ScorecardQuerySet:
    """Quality officers, team leads and staff read every scorecard; anyone else (an agent) the submitted
    scorecards of their own recordings."""
    rows = (
        Scorecard.objects.with_state()
        .select_related(
            "recording__agent__user",
            "template",
            "officer",
            "acknowledgement",
            "dispute__resolved_by",
            "successor",
        )
        .prefetch_related("answers")
    )
    if _reads_all(user):
        return rows
    return rows.filter(recording__agent__user=user, submitted_at__isnull=False)


def scorecard_list(
    *, user: User, recording_id: int | None = None, agent_id: int | None = None, state: str | None = None
) -> ScorecardQuerySet:
    rows = scorecards_visible(user)
    if recording_id is not None:
        rows = rows.filter(recording_id=recording_id)
    if agent_id is not None:
        rows = rows.filter(recording__agent_id=agent_id)
    if state is not None:
        rows = rows.filter(Q(state=state))  # with_state's annotation, which the type checker cannot see
    return rows


@dataclass(frozen=True)
class TrendPoint:
    period_start: date  # the Monday of the week, or the 1st of the month (Riga)
    scorecards: int
    average_score: Decimal


@dataclass(frozen=True)
class AgentTrend:
    agent_id: int
    name: str
    points: tuple[TrendPoint, ...]


def trend_agent(*, user: User, agent_id: int | None) -> int | None:
    """Whose trend `user` may see: anyone's for quality officers, team leads and staff; an agent, their
    own (asked for nobody in particular, they get theirs)."""
    if _reads_all(user):
        return agent_id
    own = Person.objects.filter(user=user).values_list("pk", flat=True).first()
    if own is None or agent_id not in (None, own):
        raise _refused(
            "trend_not_yours", "Varat skatīt tikai savu vērtējumu tendenci", "You may see only your own trend"
        )
    return own


def score_trends(
    *, agent_id: int | None = None, first: date, last: date, period: Period = "week"
) -> list[AgentTrend]:
    """The average score per agent per week or month, for calls made on the Riga days first..last.

    Counts submitted scorecards that no upheld dispute superseded, by when the call was made; a period is
    a Riga calendar week (keyed by its Monday) or month (by its 1st), and one at either end of first..last
    counts only its days within. Recordings without an agent are left out.
    One grouped query, and one for the agents' names.
    """
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(first, time.min), zone)
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), zone)
    truncate = TruncWeek if period == "week" else TruncMonth
    rows = (
        Scorecard.objects.filter(
            submitted_at__isnull=False,
            recording__agent__isnull=False,
            recording__started_at__gte=start,
            recording__started_at__lt=end,
        )
        .exclude(dispute__state=DisputeState.UPHELD)
        .filter(Q(recording__agent_id=agent_id) if agent_id is not None else Q())
        .annotate(period_start=truncate("recording__started_at", output_field=DateField(), tzinfo=zone))
        .values("recording__agent_id", "period_start")
        .annotate(scorecards=Count("pk"), average=Avg("score"))
        .order_by("recording__agent_id", "period_start")
    )
    series: dict[int, list[TrendPoint]] = {}
    for row in rows:
        average = Decimal(row["average"]).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        point = TrendPoint(row["period_start"], row["scorecards"], average)
        series.setdefault(row["recording__agent_id"], []).append(point)
    people = Person.objects.filter(pk__in=series).select_related("user")
    names = {person.pk: str(person) for person in people}
    return [AgentTrend(pk, names.get(pk, ""), tuple(points)) for pk, points in series.items()]
