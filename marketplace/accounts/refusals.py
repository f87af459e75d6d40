"""The audit trail of refusals: who was refused what, from where.

marketplace.errors announces each refusal that counts (events.access_refused); this
receiver rolls back whatever the refused request had written, then records one
`access.refused` event (actor, address, method, path, status, reason) and commits it on its
own. It lives in accounts because it needs to know who is asking.
"""

from __future__ import annotations

import logging

from flask_login import current_user

from marketplace.audit import services as audit
from marketplace.extensions import db

log = logging.getLogger("marketplace.audit")


def record_refusal(_sender, *, method: str, path: str, status: int, reason: str) -> None:
    try:
        db.session.rollback()  # nothing of the refused request may commit with the event
        actor = current_user._get_current_object() if current_user.is_authenticated else None
        audit.record(
            "access.refused",
            actor=actor,
            actor_label=None if actor is not None else "anonymous",
            object_type="request",
            object_id=f"{method} {path}"[:120],
            detail={"method": method, "path": path, "status": status, "reason": reason[:500]},
        )
        db.session.commit()
    except Exception:  # the refusal itself must still be answered
        db.session.rollback()
        log.exception("could not record a refused request")
