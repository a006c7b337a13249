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
CHANNELS: dict[str, Promise] = {
    "phone": _("Phone"),
    "email": _("E-mail"),
    "portal": _("Portal"),
    "visit": _("Visit"),
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
OVERRIDE_KINDS: dict[str, Promise] = {
    "holiday": _("Extra public holiday"),
    "day_off": _("Extra day off"),
    "working_saturday": _("Working Saturday"),
}


def label(table: dict[Any, Promise], code: Any) -> str:
    """The word for `code`, or the code itself for one this table does not know yet."""
    return str(table.get(code, code))
