"""The e-mail handler's pages: the queue of open written matters (e-mail, portal questions, registered
letters), what falls due first on top, with the working time left and the rule at risk; a matter's page
(sanitised HTML, attachments, a letter's scans, events); reply from a template (signature and feedback link
added), a holding reply with a promised date, reassign, mark as a complaint. The decisions on a written
matter (answered, forwarded, extended, reclassified) are workplace.decisions'."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain

import nh3
from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agents.errors import DomainError
from agents.models import Person, Role
from contact_centre.models import Channel, EventKind, Interaction, InteractionState
from contact_centre.services import complaint_mark, interaction_reassign
from intake.models import Scan
from mail.attachments import attachment_fetch
from mail.models import MailTemplate, OutboundMail, StoredMessage, TemplateKind
from mail.replies import reply_queue
from sla.calendar_source import current_calendar
from sla.models import Clock, ClockState
from sla.selectors import interaction_scope
from workplace.access import roles_required, signed_in_person, signed_in_user
from workplace.deadlines import deadlines_context, open_until, working_left
from workplace.decision_forms import WRITTEN_CHANNELS, DecisionForm, decisions_for

QUEUE_ROWS = 50
QUEUE_ROLES = (Role.EMAIL_HANDLER, Role.TEAM_LEAD)


@dataclass(frozen=True)
class QueueRow:
    interaction: Interaction
    clock: Clock
    working_left: int  # seconds of office time to the due time; negative once it is past


def queue_rows(*, scope: Q | None, now: datetime, mine_only: Person | None = None) -> list[QueueRow]:
    """Open e-mail matters by their earliest pending deadline, the first QUEUE_ROWS of them.

    Two reads. First the pending clocks of the open matters in scope, in due order, as ids only: the due
    time lives on the shared deadline, so no index gives these clocks in order and the database sorts them
    all; that read grows with the pending clocks in scope (bench/ui_bench.py), so it carries nothing but
    the ids. Then the first clock of each of the first QUEUE_ROWS matters, with what the page shows."""
    matters = Interaction.objects.filter(channel__in=WRITTEN_CHANNELS, state=InteractionState.OPEN)
    if scope is not None:
        matters = matters.filter(scope)
    if mine_only is not None:
        matters = matters.filter(owner=mine_only)
    pending = Clock.objects.filter(state=ClockState.PENDING, interaction__in=matters)
    first: dict[int, int] = {}  # matter -> its clock falling due first
    for clock_id, interaction_id in pending.order_by("deadline__due_at", "pk").values_list(
        "pk", "interaction_id"
    )[: QUEUE_ROWS * 4]:
        first.setdefault(interaction_id, clock_id)
        if len(first) == QUEUE_ROWS:
            break
    clocks = Clock.objects.select_related(
        "deadline", "interaction__owner__user", "interaction__service"
    ).in_bulk(list(first.values()))
    calendar = current_calendar()
    return [
        QueueRow(clock.interaction, clock, working_left(clock.due_at, now, calendar))
        for clock in (clocks[clock_id] for clock_id in first.values())
    ]


def _queue_context(request: HttpRequest) -> dict[str, object]:
    now = timezone.now()
    user = signed_in_user(request)
    mine = request.GET.get("mine") == "1"
    person = signed_in_person(request) if mine else None
    return {
        "rows": queue_rows(scope=interaction_scope(user), now=now, mine_only=person),
        "open_until": open_until(now, current_calendar()),
        "mine": mine,
    }


@roles_required(*QUEUE_ROLES)
def mail_queue(request: HttpRequest) -> HttpResponse:
    return render(request, "workplace/mail/queue.html", _queue_context(request))


@roles_required(*QUEUE_ROLES)
def mail_queue_rows(request: HttpRequest) -> HttpResponse:
    """The queue's rows alone, refreshed by the page every minute (new mail, met deadlines)."""
    return render(request, "workplace/mail/_rows.html", _queue_context(request))


# --- One matter -------------------------------------------------------------------------------------


def visible_interaction(request: HttpRequest, pk: int) -> Interaction:
    """The written matter `pk` if the user may see it, else 404 (as for one that does not exist)."""
    scope = interaction_scope(signed_in_user(request))
    visible = Interaction.objects.filter(channel__in=WRITTEN_CHANNELS)
    if scope is not None:
        visible = visible.filter(scope)
    interaction = visible.select_related("owner__user", "unit", "service").filter(pk=pk).first()
    if interaction is None:
        raise Http404
    return interaction


def safe_mail_html(html: str) -> SafeString:
    """Stored e-mail HTML was sanitised when it arrived (mail.parsing); it is cleaned again here with the
    strictest rules (no styles, no images from elsewhere, links made inert to the opener) before it is
    marked safe, so a rule loosened in one place never reaches a page."""
    cleaned = nh3.clean(
        html,
        tags={"p", "br", "div", "span", "b", "strong", "i", "em", "u", "ul", "ol", "li", "a", "blockquote",
              "pre", "code", "table", "thead", "tbody", "tr", "td", "th", "h1", "h2", "h3", "h4", "hr"},
        attributes={"a": {"href"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        clean_content_tags={"script", "style", "title", "template", "noscript"},
    )  # fmt: skip
    return mark_safe(cleaned)  # noqa: S308 -- nh3 has just cleaned it with an allow-list


@dataclass(frozen=True)
class ThreadItem:
    at: datetime
    inbound: bool
    sender: str
    subject: str
    text: str
    html: SafeString | None
    attachments: list[dict[str, object]]
    stored_id: int | None = None  # a client's message: its attachments can be fetched


def _thread(interaction: Interaction) -> list[ThreadItem]:
    inbound = (
        ThreadItem(
            message.received_at,
            True,
            f"{message.from_name} <{message.from_address}>".strip(),
            message.subject,
            message.text,
            safe_mail_html(message.html) if message.html else None,
            list(message.attachments),
            message.pk,
        )
        for message in StoredMessage.objects.filter(interaction=interaction)
    )
    outbound = (
        ThreadItem(row.sent_at or row.created_at, False, row.mail_from, row.subject, row.body, None, [])
        for row in OutboundMail.objects.filter(interaction=interaction)
    )
    return sorted(chain(inbound, outbound), key=lambda item: item.at)


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Reply"), widget=forms.Textarea(attrs={"rows": 8}), required=False
    )
    template = forms.ModelChoiceField(
        label=gettext_lazy("Template"),
        queryset=MailTemplate.objects.filter(
            active=True, kind__in=[TemplateKind.REPLY, TemplateKind.HOLDING_REPLY]
        ),
        required=False,
        to_field_name="code",
    )
    promised_on = forms.DateField(
        label=gettext_lazy("Holding reply: the answer will come by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    complaint_outcome = forms.BooleanField(
        label=gettext_lazy("This reply gives the complainant the outcome"), required=False
    )


class ReassignForm(forms.Form):
    owner = forms.ModelChoiceField(label=gettext_lazy("New owner"), queryset=Person.objects.none())
    reason = forms.CharField(label=gettext_lazy("Why"), max_length=500)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        handlers = Person.objects.filter(user__groups__name=Role.EMAIL_HANDLER, user__is_active=True)
        self.fields["owner"].queryset = handlers.select_related("user").order_by("user__last_name")  # type: ignore[attr-defined]


def _registration_number(interaction: Interaction) -> str:
    """A registered letter's number, as the registering event recorded it ("" for other matters)."""
    if interaction.channel not in (Channel.POST, Channel.E_ADDRESS):
        return ""
    event = interaction.events.filter(kind=EventKind.LETTER_REGISTERED).order_by("seq").first()
    return str(event.payload.get("registration_number", "")) if event else ""


def thread_page(
    request: HttpRequest,
    interaction: Interaction,
    reply_form: ReplyForm | None = None,
    reassign_form: ReassignForm | None = None,
    decision_form: DecisionForm | None = None,
) -> HttpResponse:
    """The matter's page; a form the user just posted with errors replaces its blank one."""
    context = {
        **deadlines_context(interaction, timezone.now()),
        "interaction": interaction,
        "thread": _thread(interaction),
        "events": interaction.events.select_related("actor").order_by("seq"),
        "reply_form": reply_form or ReplyForm(),
        "reassign_form": reassign_form or ReassignForm(),
        "can_reply": interaction.channel == Channel.EMAIL and bool(interaction.client_contact),
        "registration_number": _registration_number(interaction),
        "scans": Scan.objects.filter(interaction=interaction),
        "decisions": decisions_for(interaction, signed_in_user(request), decision_form),
    }
    return render(request, "workplace/mail/thread.html", context)


@roles_required(*QUEUE_ROLES)
def mail_thread(request: HttpRequest, pk: int) -> HttpResponse:
    return thread_page(request, visible_interaction(request, pk))


def _promised(value: date | None) -> date | None:
    return value or None


@roles_required(*QUEUE_ROLES)
def mail_reply(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = visible_interaction(request, pk)
    if request.method != "POST":
        return redirect("mail-thread", pk=pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return thread_page(request, interaction, reply_form=form)
    data = form.cleaned_data
    try:
        reply_queue(
            interaction=interaction,
            author=signed_in_user(request),
            body=data["body"] or "",
            promised_on=_promised(data["promised_on"]),
            template_code=data["template"].code if data["template"] else None,
            complaint_outcome=data["complaint_outcome"],
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return thread_page(request, interaction, reply_form=form)
    messages.success(request, _("Reply queued; it counts once it is sent."))
    return redirect("mail-thread", pk=pk)


@roles_required(*QUEUE_ROLES)
def mail_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = visible_interaction(request, pk)
    if request.method != "POST":
        return redirect("mail-thread", pk=pk)
    form = ReassignForm(request.POST)
    if not form.is_valid():
        return thread_page(request, interaction, reassign_form=form)
    interaction_reassign(
        interaction=interaction,
        owner=form.cleaned_data["owner"],
        occurred_at=timezone.now(),
        reason=form.cleaned_data["reason"],
        actor=signed_in_user(request),
    )
    messages.success(request, _("Passed to %(owner)s.") % {"owner": form.cleaned_data["owner"]})
    return redirect("mail-thread", pk=pk)


@roles_required(*QUEUE_ROLES)
def mail_complaint(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = visible_interaction(request, pk)
    if request.method == "POST":
        complaint_mark(
            interaction=interaction,
            by=signed_in_user(request),
            at=timezone.now(),
            note=request.POST.get("note", ""),
        )
        messages.success(request, _("Marked as a complaint; the team leads have been told."))
    return redirect("mail-thread", pk=pk)


@roles_required(*QUEUE_ROLES)
def mail_attachment(request: HttpRequest, pk: int, message_pk: int, index: int) -> HttpResponse:
    """A client's attachment, fetched from the mailbox, always as a download: never shown in the page,
    never sniffed as something the browser would run."""
    interaction = visible_interaction(request, pk)
    message = StoredMessage.objects.filter(pk=message_pk, interaction=interaction).first()
    if message is None:
        raise Http404
    try:
        attachment = attachment_fetch(message=message, index=index)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("mail-thread", pk=pk)
    response = HttpResponse(attachment.data, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=attachment.filename
    )
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
