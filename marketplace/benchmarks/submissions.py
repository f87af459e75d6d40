"""The one ingest service: the web form, the API, the CLI and the fixtures all call submit().

A file is accepted whole or not at all. On refusal submit() raises (ValidationFailed with
every error, or another DomainError for files it will not read), none of its figures are
kept, and a `rejected` Submission (the file, its error count and every error up to
validation.MAX_KEPT_ERRORS, for the centre's history and the errors download) and one
`submission.refused` audit event are left in the session: callers that want refusals on
record commit after catching (the web, API and CLI do). The rejected Submission is on the
exception as `refused_submission`.

This module decides whether a file is to be read at all (channel, replay, the centre's lock)
and audits refusals; the steps of reading, checking and writing it are in ingest.py.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from marketplace import clock, collector, events
from marketplace.audit import services as audit
from marketplace.benchmarks import ingest, periods
from marketplace.benchmarks.ingest_schemas import UploadReasonSchema
from marketplace.benchmarks.models import Submission
from marketplace.benchmarks.outcomes import Flag, SubmissionOutcome, changes_of
from marketplace.catalogue.models import ServiceCentre
from marketplace.errors import DomainError, FieldError, NotFound, PermissionDenied, ValidationFailed
from marketplace.extensions import db
from marketplace.input_guard import text_problem
from marketplace.web import forms

CHANNELS = ("web", "api", "cli", "fixtures")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_ROWS = 100_000


def _limits() -> tuple[int, int]:
    from flask import current_app, has_app_context

    if has_app_context():
        config = current_app.config
        return (
            config.get("MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES),
            config.get("MAX_UPLOAD_ROWS", DEFAULT_MAX_ROWS),
        )
    return DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS


def centre_for_organisation(organisation_id: int | None) -> ServiceCentre | None:
    if organisation_id is None:
        return None
    return db.session.execute(
        select(ServiceCentre).where(ServiceCentre.organisation_id == organisation_id)
    ).scalar_one_or_none()


def get_centre(slug: str) -> ServiceCentre:
    centre = db.session.execute(
        select(ServiceCentre).where(ServiceCentre.slug == slug)
    ).scalar_one_or_none()
    if centre is None:
        raise NotFound(f"There is no service centre '{slug}'.")
    return centre


def check_can_submit(
    centre: ServiceCentre, actor, *, organisation_id: int | None, via: str
) -> None:
    """Only the centre's own people (or their tokens) write its figures; others are audited."""
    if (
        actor is not None
        and getattr(actor, "role", None) == "centre"
        and (organisation_id == centre.organisation_id)
    ):
        return
    audit.record(
        "submission.forbidden",
        actor=actor,
        organisation_id=organisation_id,
        object_type="centre",
        object_id=centre.slug,
        detail={"via": via, "target_organisation_id": centre.organisation_id},
    )
    raise PermissionDenied(
        f"You cannot send benchmark data for {centre.name}. A token or account can only "
        "submit for its own centre."
    )


def submit(
    centre: ServiceCentre,
    content: bytes,
    *,
    filename: str,
    content_type: str,
    channel: str,
    actor=None,
    actor_label: str | None = None,
    reason: str = "",
    recompute_peers: bool = True,
    flag_outliers: bool = True,
) -> SubmissionOutcome:
    """Validate a file of benchmark figures for one centre and apply it whole, or refuse it.

    Bulk loads may pass `recompute_peers=False` (then call peers.recompute_all() once at the
    end) with `flag_outliers=False` (values are then not scored against their peers: while a
    national data set is half loaded, its peer groups are too). Flags are scored against the
    stored peer groups, so they need the recompute: one without the other is refused.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    max_bytes, max_rows = _limits()
    # The same bound as the API's and the web form's (one schema), before any file is read.
    reason = load_reason(reason)
    # The current quarter is always open, even if nobody opened it.
    periods.ensure_current(actor_label=audit.SYSTEM)
    request = ingest.IngestRequest(
        centre=centre,
        content=content,
        digest=hashlib.sha256(content).hexdigest(),
        filename=filename,
        content_type=content_type,
        channel=channel,
        actor=actor,
        actor_label=actor_label or getattr(actor, "email", None) or channel,
        reason=reason,
        recompute_peers=recompute_peers,
        flag_outliers=flag_outliers,
        max_bytes=max_bytes,
        max_rows=max_rows,
    )
    try:
        request = _checked_reason(request)
        with collector.paused():  # bulk work: see marketplace/collector.py
            request = ingest.read(request)  # before any lock: reading takes no database time
            outcome = _apply_once(request)
    except DomainError as error:
        error.refused_submission = _record_refusal(request, error)
        _audit_refusal(request, error)
        raise
    # Accepted: the file's values are written, or (outcome.created False) already were.
    if outcome.created:
        # Follow-ups of other areas (republishing a restated published figure) happen in
        # the same transaction, whichever door the file came through.
        events.submission_accepted.send(outcome, actor=actor, actor_label=actor_label)
    return outcome


def load_reason(reason: str | None) -> str:
    """The reason as every door accepts it: at most REASON_MAX_LENGTH characters, trimmed."""
    loaded = forms.load(UploadReasonSchema(), {"reason": reason or ""}, "The reason is too long.")
    return (loaded.get("reason") or "").strip()


def _checked_reason(request: ingest.IngestRequest) -> ingest.IngestRequest:
    """A reason reaches the change notes of the Atom feed and the PDFs: XML must carry it."""
    problem = text_problem(request.reason)
    if problem:
        raise ValidationFailed(
            "The reason contains a character that cannot be stored or published.",
            errors=[FieldError(problem, field="reason")],
        )
    return request


def _apply_once(request: ingest.IngestRequest) -> SubmissionOutcome:
    """Ingest the file, unless these very bytes were already accepted for the centre."""
    existing = _accepted(request.centre.id, request.digest)
    if existing is not None:
        return _replay(existing)
    savepoint = db.session.begin_nested()
    try:
        # One upload per centre at a time: the second waits here and then sees the first.
        _lock_centre(request.centre.id)
        existing = _accepted(request.centre.id, request.digest)
        if existing is not None:
            savepoint.commit()
            return _replay(existing)
        outcome = ingest.run(request)
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return outcome


def _record_refusal(request: ingest.IngestRequest, error: DomainError) -> Submission:
    """The refused file in the centre's history: what was sent and every error, no figures."""
    if isinstance(error, ingest.FileRefused):
        kept, total = error.kept, error.total
    else:
        kept = [
            {"row": e.row, "column": e.field, "value": "", "message": e.message}
            for e in error.errors
        ] or [{"row": None, "column": None, "value": "", "message": error.detail}]
        total = len(kept)
    parsed = request.parsed
    within_limit = len(request.content) <= request.max_bytes
    submission = Submission(
        public_id=secrets.token_hex(16),
        centre_id=request.centre.id,
        submitted_by_id=request.actor_id,
        actor_label=request.actor_label,
        channel=request.channel,
        filename=(request.filename or "")[:255],
        content_type=(request.content_type or "")[:120],
        file_format=parsed.file_format if parsed is not None else "",
        sha256=request.digest,
        size_bytes=len(request.content),
        # An oversized file is not kept: only its size is.
        content=request.content if within_limit else b"",
        row_count=0,
        status="rejected",
        reason=request.reason,
        errors=kept,
        summary={"error_count": total, "status": error.status, "detail": error.detail},
        created_at=clock.now(),
    )
    db.session.add(submission)
    db.session.flush()
    return submission


def _audit_refusal(request: ingest.IngestRequest, error: DomainError) -> None:
    centre = request.centre
    audit.record(
        "submission.refused",
        actor=request.actor,
        actor_label=request.actor_label,
        organisation_id=centre.organisation_id,
        object_type="centre",
        object_id=centre.slug,
        detail={
            "channel": request.channel,
            "filename": request.filename,
            "sha256": request.digest,
            "size_bytes": len(request.content),
            "status": error.status,
            "detail": error.detail,
            "error_count": getattr(error, "total", len(error.errors)),
            "submission": getattr(getattr(error, "refused_submission", None), "public_id", None),
        },
    )


def _accepted(centre_id: int, digest: str) -> Submission | None:
    return db.session.execute(
        select(Submission).where(
            Submission.centre_id == centre_id,
            Submission.sha256 == digest,
            Submission.status == "accepted",
        )
    ).scalar_one_or_none()


def _replay(submission: Submission) -> SubmissionOutcome:
    summary = submission.summary or {}
    return SubmissionOutcome(
        submission=submission,
        created=False,
        changes=changes_of(submission),
        flags=[Flag(**f) for f in summary.get("flags", [])],
    )


def _lock_centre(centre_id: int) -> None:
    db.session.execute(
        select(ServiceCentre.id).where(ServiceCentre.id == centre_id).with_for_update()
    ).one()
