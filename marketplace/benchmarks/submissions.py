"""The one ingest service: the web form, the API, the CLI and the fixtures all call submit().

A file is accepted whole or not at all. On refusal submit() raises (ValidationFailed with
every error, or another DomainError for files it will not read), nothing of the upload is
kept, and one `submission.refused` audit event is left in the session: callers that want
refusals on record commit after catching (the web, API and CLI do).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from marketplace import clock, events
from marketplace.audit import services as audit
from marketplace.benchmarks import bulk, outliers, parsing, peers, problems, validation
from marketplace.benchmarks.models import Metric, Observation, ReportingPeriod, Submission
from marketplace.catalogue.models import ServiceCentre
from marketplace.errors import DomainError, FieldError, NotFound, PermissionDenied, ValidationFailed
from marketplace.extensions import db

CHANNELS = ("web", "api", "cli", "fixtures")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class Change:
    """One value a submission set: before (None if new) and after, as plain decimal text."""

    metric: str
    period: str
    old: str | None
    new: str
    restated: bool

    def as_dict(self) -> dict:
        return {
            "metric": self.metric,
            "period": self.period,
            "old": self.old,
            "new": self.new,
            "restated": self.restated,
        }

    def as_row(self) -> list:
        # Stored compactly in Submission.summary: a file may change 100,000 values.
        return [self.metric, self.period, self.old, self.new, self.restated]


def changes_of(submission: Submission) -> list[Change]:
    return [Change(*row) for row in (submission.summary or {}).get("changes", [])]


@dataclass(frozen=True)
class Flag:
    metric: str
    period: str
    value: str
    score: float

    def as_dict(self) -> dict:
        return {
            "metric": self.metric,
            "period": self.period,
            "value": self.value,
            "score": self.score,
        }


@dataclass
class SubmissionOutcome:
    submission: Submission
    created: bool  # False: identical bytes were already accepted; nothing was written
    changes: list[Change] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)


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
    end) and `flag_outliers=False` (values are then not scored against their peers: while a
    national data set is half loaded, its peer groups are too).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    label = actor_label or getattr(actor, "email", None) or channel
    digest = hashlib.sha256(content).hexdigest()
    try:
        existing = _accepted(centre.id, digest)
        if existing is not None:
            return _replay(existing)
        savepoint = db.session.begin_nested()
        try:
            # One upload per centre at a time: the second waits here and then sees the first.
            _lock_centre(centre.id)
            existing = _accepted(centre.id, digest)
            if existing is not None:
                savepoint.commit()
                return _replay(existing)
            outcome = _ingest(
                centre,
                content,
                digest=digest,
                filename=filename,
                content_type=content_type,
                channel=channel,
                actor=actor,
                label=label,
                reason=(reason or "").strip(),
                recompute_peers=recompute_peers,
                flag_outliers=flag_outliers,
            )
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()
    except DomainError as error:
        audit.record(
            "submission.refused",
            actor=actor,
            actor_label=label,
            organisation_id=centre.organisation_id,
            object_type="centre",
            object_id=centre.slug,
            detail={
                "channel": channel,
                "filename": filename,
                "sha256": digest,
                "size_bytes": len(content),
                "status": error.status,
                "detail": error.detail,
                "error_count": len(error.errors),
            },
        )
        raise
    if outcome.created:
        # Follow-ups of other areas (republishing a restated published figure) happen in
        # the same transaction, whichever door the file came through.
        events.submission_accepted.send(outcome, actor=actor, actor_label=actor_label)
    return outcome


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


def _ingest(
    centre,
    content,
    *,
    digest,
    filename,
    content_type,
    channel,
    actor,
    label,
    reason,
    recompute_peers,
    flag_outliers,
) -> SubmissionOutcome:
    max_bytes, max_rows = _limits()
    if len(content) > max_bytes:
        raise parsing.UploadTooLarge(
            f"The file is larger than the limit of {max_bytes / 1_048_576:.0f} MB. Split the "
            "data into smaller files and upload each one.",
            errors=[FieldError("The file is too large.", field="file")],
        )
    if not content:
        raise ValidationFailed(
            "The file is empty.",
            errors=[
                FieldError("The file is empty. Choose a file with your figures.", field="file")
            ],
        )
    parsed = parsing.parse(content, filename=filename, content_type=content_type)
    if parsed.reason and not reason:
        reason = parsed.reason.strip()
    today = clock.today()
    metric_ids = dict(
        db.session.execute(select(Metric.code, Metric.id).where(Metric.is_current.is_(True))).all()
    )
    periods = dict(db.session.execute(select(ReportingPeriod.code, ReportingPeriod.id)).all())
    errors: list[FieldError] = list(parsed.errors)
    counter = {"errors": 0}

    def staged_rows() -> Iterator[tuple]:
        clean = validation.clean_row
        for seq, raw in enumerate(parsed.rows, start=1):
            if seq > max_rows:
                raise parsing.UploadTooLarge(
                    f"The file has more than {max_rows:,} observations. Split it into smaller "
                    "files and upload each one.",
                    errors=[FieldError("Too many rows.", field="file")],
                )
            row, problems = clean(raw, seq, metric_ids, periods)
            if problems:
                counter["errors"] += len(problems)
                if len(errors) < validation.MAX_ERRORS:
                    errors.extend(problems)
            yield row

    bulk.create_staging()
    row_count = bulk.fill_staging(staged_rows())
    if not errors and row_count == 0:
        errors.append(FieldError("The file has no data rows. Add one row per figure.", row=2))
    info: dict[str, problems.MetricInfo] = {}
    changes: list[Change] = []
    changed_pairs: set[tuple[int, int]] = set()
    set_error_count = 0
    set_errors: list[FieldError] = []
    for row in bulk.problem_rows(centre.id, reason, today):
        info = info or problems.metric_info()
        for column, message in problems.set_problem_messages(row, info, today):
            set_error_count += 1
            if len(set_errors) < validation.MAX_ERRORS:
                set_errors.append(FieldError(message, field=column, row=row["row_no"]))
    # Both lists are in file order and each holds its first MAX_ERRORS: enough for the
    # first MAX_ERRORS of all.
    errors.extend(set_errors)
    if not errors:
        for code, period, held, old, new, restated, metric_id, period_id in bulk.changed_rows(
            centre.id, reason, today
        ):
            old_text = validation.fmt(old) if held else None
            new_text = validation.fmt(new)
            changes.append(Change(code, period, old_text, new_text, bool(restated)))
            if old_text != new_text:
                changed_pairs.add((metric_id, period_id))
    if errors:
        total = counter["errors"] + set_error_count + len(parsed.errors)
        errors.sort(key=lambda e: (e.row or 0,))
        shown = errors[: validation.MAX_ERRORS]
        more = f" Only the first {len(shown)} are listed." if total > len(shown) else ""
        raise ValidationFailed(
            f"The file was not accepted: {total} problem{'s' if total != 1 else ''} found. "
            f"Nothing was saved. Fix each one and upload the whole file again.{more}",
            errors=shown,
        )

    new_values = sum(1 for c in changes if c.old is None)
    summary = {
        "created": new_values,
        "updated": len(changes) - new_values,
        "unchanged": row_count - len(changes),
        "restated": sum(1 for c in changes if c.restated),
        "changes": [c.as_row() for c in changes],
        "flags": [],
    }
    submission = Submission(
        public_id=secrets.token_hex(16),
        centre_id=centre.id,
        submitted_by_id=getattr(actor, "id", None),
        actor_label=label,
        channel=channel,
        filename=(filename or "")[:255],
        content_type=(content_type or "")[:120],
        file_format=parsed.file_format,
        sha256=digest,
        size_bytes=len(content),
        content=content,
        row_count=row_count,
        status="accepted",
        reason=reason,
        errors=[],
        summary=summary,
        created_at=clock.now(),
    )
    db.session.add(submission)
    db.session.flush()
    created, updated = bulk.write(
        bulk.WriteContext(
            centre_id=centre.id,
            submission_id=submission.id,
            actor_id=getattr(actor, "id", None),
            actor_label=label,
            reason=reason,
            now=clock.now(),
        ),
        expect_updates=summary["updated"] > 0,
        expect_creates=summary["created"] > 0,
    )
    bulk.clear_staging()
    if (created, updated) != (summary["created"], summary["updated"]):
        # Under the centre's lock the writes must do what the checks saw; if not, undo all.
        raise RuntimeError(
            f"ingest wrote {created} new and {updated} changed values where the checks found "
            f"{summary['created']} and {summary['updated']}"
        )
    flags = []
    if flag_outliers:
        flags = [
            Flag(s.metric, s.period, validation.fmt(s.value), round(s.score, 2))
            for s in outliers.score_submission(centre.id, submission.id)
        ]
    if flags:
        submission.summary = {**summary, "flags": [f.as_dict() for f in flags]}
    _expire_observations(centre.id)
    if recompute_peers and changed_pairs:
        _recompute_peers(changed_pairs)
    audit.record(
        "submission.accepted",
        actor=actor,
        actor_label=label,
        organisation_id=centre.organisation_id,
        object_type="submission",
        object_id=submission.public_id,
        detail={
            "centre": centre.slug,
            "channel": channel,
            "rows": row_count,
            "created": created,
            "updated": updated,
            "restated": summary["restated"],
            "flags": len(flags),
            "reason": reason,
        },
    )
    db.session.flush()
    return SubmissionOutcome(submission=submission, created=True, changes=changes, flags=flags)


def _expire_observations(centre_id: int) -> None:
    """Core statements bypassed the ORM: forget any loaded copies of this centre's values."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Observation) and obj.centre_id == centre_id:
            db.session.expire(obj)


def _recompute_peers(pairs) -> None:
    """Peer statistics of the groups whose values changed, in this same transaction."""
    peers.recompute(sorted(pairs))
