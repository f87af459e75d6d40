"""Domain events: how one area tells the others that something happened.

An area that makes a change announces it here; an area above it that must follow up (rebuild
peer groups, republish a report) connects a receiver in its `register(app)`. Sending is
synchronous, inside the transaction of the change, so the follow-up commits or rolls back
with it, and whichever door made the change (web, API, CLI, fixtures) gets the same
follow-ups: no caller has to remember a second call.

The signals carry primitives or the changed objects, never a request; receivers may raise a
DomainError, which refuses the whole change.
"""

from __future__ import annotations

from blinker import Namespace

_events = Namespace()

#: A centre moved through the accreditation lifecycle. Sender: the AccreditationEvent.
accreditation_changed = _events.signal("accreditation-changed")

#: A centre's catalogue entry changed. Sender: the ServiceCentre; `changed` is
#: {field: {"before": …, "after": …}} of the fields that really changed.
centre_edited = _events.signal("centre-edited")

#: A submission of figures was accepted (not an identical resubmission). Sender: the
#: SubmissionOutcome; `actor` and `actor_label` name who sent it.
submission_accepted = _events.signal("submission-accepted")

#: The authority approved restatements of published figures; their values are now applied.
#: Sender: the list of approved PendingRestatements; `period_ids` the periods they restate,
#: `actor` and `actor_label` who approved them. Receivers republish once per period.
restatements_approved = _events.signal("restatements-approved")

#: A period was published (closed -> published; its reports follow). Sender: the
#: ReportingPeriod; `actor` and `actor_label` name who published it. Receivers refresh what
#: is computed from published figures: the market's latest variations
#: (benchmarks/market_signals.py) and every live contract's KPI ratings (contracts/receivers.py).
period_published = _events.signal("period-published")

# A request was refused (401, 403 or 404 on a write, or on a page of an admin or
# organisation area); sent by marketplace.errors with method=, path=, status=, reason=.
# accounts/refusals.py records it in the audit trail, in a transaction of its own.
access_refused = _events.signal("access-refused")
