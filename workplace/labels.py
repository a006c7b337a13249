"""The workplace's words for the ledger's codes, one language at a time (the models' own labels carry
both languages, for the admin and the API)."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

AGENT_STATES: dict[str, Promise] = {
    "available": _("Available"),
    "break": _("On a break"),
    "wrap_up": _("Wrap-up"),
    "offline": _("Offline"),
}
ABSENCE_KINDS: dict[str, Promise] = {
    "leave": _("Leave"),
    "business_trip": _("Business trip"),
    "training": _("Training"),
    "sick": _("Sick"),
    "other": _("Other"),
}
VERDICTS: dict[str, Promise] = {
    "met": _("met"),
    "pending": _("running"),
    "breached": _("breached"),
    "stopped": _("stopped"),
}
# How one ring of an agent's phone ended (telephony.line), in the call's timeline.
RING_OUTCOMES: dict[str, Promise] = {
    "answered": _("answered"),
    "busy": _("busy"),
    "no_answer": _("not answered"),
    "unreachable": _("unreachable"),
    "caller_left": _("the caller hung up"),
}
# Who or what ended a call (telephony.line), in the call's timeline.
CALL_ENDED_BY: dict[str, Promise] = {
    "caller": _("the caller hung up"),
    "agent": _("the agent hung up"),
    "codec": _("no common audio codec"),
    "shutdown": _("the line was shut down"),
    "error": _("a line error"),
}
CHANNELS: dict[str, Promise] = {
    "phone": _("Phone"),
    "email": _("E-mail"),
    "portal": _("Portal"),
    "visit": _("Visit"),
    "post": _("Post"),
    "e_address": _("E-address"),
}
RULES: dict[str, Promise] = {
    "PH-RING": _("Answer by the third ring"),
    "PH-CALLBACK": _("Call back"),
    "PH-ABSENT": _("Message for an absent colleague"),
    "PH-REC": _("Call recorded"),
    "EM-ACK": _("Acknowledge within a working day"),
    "EM-REPLY": _("Reply within two working days"),
    "COMPLAINT": _("Complaint outcome"),
    "PORTAL-FWD": _("Pass a portal question on"),
    "PORTAL-ANS": _("Answer a portal question"),
    "SUBM-ANS": _("Answer a submission in substance"),
    "SUBM-FWD": _("Forward a submission to the competent institution"),
    "VISIT-BOOK": _("Book a visit two working days ahead"),
}
EVENT_KINDS: dict[str, Promise] = {
    "email_received": _("E-mail received"),
    "email_automatic_received": _("Automatic mail received"),
    "email_acknowledged": _("Acknowledgement sent"),
    "email_replied": _("Reply sent"),
    "email_holding_reply": _("Holding reply sent"),
    "email_out_of_office": _("Out-of-office reply sent"),
    "email_delivery_failed": _("Delivery failed"),
    "call_arrived": _("Call reached the line"),
    "call_out_of_hours": _("Call out of hours"),
    "call_answered": _("Call answered"),
    "call_abandoned": _("Caller hung up"),
    "call_agent_rung": _("Agent rung"),
    "call_forwarded": _("Call forwarded"),
    "call_unanswered": _("Nobody answered"),
    "call_ended": _("Call ended"),
    "call_dropped": _("Call dropped"),
    "call_recorded": _("Call recorded"),
    "callback_requested": _("Callback requested"),
    "callback_made": _("Called back"),
    "message_taken": _("Message taken"),
    "message_handled": _("Message dealt with"),
    "portal_received": _("Portal question received"),
    "letter_registered": _("Letter registered"),
    "answer_sent": _("Answer in substance sent"),
    "forwarded": _("Forwarded to another institution"),
    "submission_extended": _("Answer time extended"),
    "visit_booked": _("Visit booked"),
    "visit_served": _("Visitor served"),
    "visit_no_show": _("Visitor did not come"),
    "visit_cancelled": _("Visit cancelled"),
    "reclassified": _("Reclassified"),
    "complaint_marked": _("Marked as a complaint"),
    "complaint_outcome": _("Complaint outcome given"),
    "sla_breached": _("Deadline breached"),
    "sla_breach_withdrawn": _("Breach withdrawn"),
    "note": _("Note"),
    "reassigned": _("Reassigned"),
    "closed": _("Closed"),
    "reopened": _("Reopened"),
}


WEEKDAYS: dict[int, Promise] = {
    0: _("Monday"),
    1: _("Tuesday"),
    2: _("Wednesday"),
    3: _("Thursday"),
    4: _("Friday"),
    5: _("Saturday"),
    6: _("Sunday"),
}
# How a written matter's answer went out, how the client was told of a forwarding or an extension, why a
# matter is not a client's, and how a visit ended (intake.services' codes).
ANSWER_WAYS: dict[str, Promise] = {
    "post": _("By post"),
    "e_address": _("To the e-address"),
    "in_person": _("Handed over in person"),
}
TOLD_BY: dict[str, Promise] = {
    "email": _("By e-mail from here (the notice is sent now)"),
    "post": _("By post"),
    "e_address": _("To the e-address"),
    "phone": _("By phone"),
}
NOT_CLIENT_MATTER: dict[str, Promise] = {
    "": _("A client matter"),
    "spam": _("Not a client matter: spam"),
    "misdirected": _("Not a client matter: sent to us by mistake"),
}
VISIT_OUTCOMES: dict[str, Promise] = {
    "booked": _("Booked"),
    "served": _("Served"),
    "no_show": _("Did not come"),
    "cancelled": _("Cancelled"),
}
OVERRIDE_KINDS: dict[str, Promise] = {
    "holiday": _("Extra public holiday"),
    "day_off": _("Extra day off"),
    "working_saturday": _("Working Saturday"),
}


def label(table: dict[Any, Promise], code: Any) -> str:
    """The word for `code`, or the code itself for one this table does not know yet."""
    return str(table.get(code, code))
