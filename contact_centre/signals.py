"""The ledger's announcement: sent after a transaction that appended events has committed."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `seq`: the chain position of an event that has just committed. Receivers read the
# ledger from their own cursor, so a missed announcement only delays them (the sla sweep catches up).
ledger_changed = Signal()
