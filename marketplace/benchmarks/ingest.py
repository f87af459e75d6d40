"""The steps of one ingest, run by submissions.submit() under the centre's lock.

Each step takes the IngestRequest: check the size, read the file, stage its rows (checking
each one in Python), check them set-wise in SQL and, only when nothing is wrong, record the
Submission, write the values, flag outliers and audit. A refusal is an exception; submit()
then rolls its savepoint back, so nothing of the upload is kept.
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from marketplace import clock
from marketplace.audit import services as audit
from marketplace.benchmarks import (
    bulk,
    outliers,
    parsing,
    peers,
    problems,
    restatements,
    set_checks,
    validation,
)
from marketplace.benchmarks.models import Metric, Observation, ReportingPeriod, Submission
from marketplace.benchmarks.outcomes import Change, Flag, SubmissionOutcome
from marketplace.catalogue.models import ServiceCentre
from marketplace.errors import DomainError, FieldError, ValidationFailed
from marketplace.extensions import db


@dataclass(frozen=True)
class IngestRequest:
    """One upload as submit() received it: whose, what, through which door, within what limits."""

    centre: ServiceCentre
    content: bytes
    digest: str  # sha256 of content, hex: the same bytes twice are accepted once
    filename: str
    content_type: str
    channel: str
    actor: object  # the person (or token's person) sending, or None
    actor_label: str
    reason: str  # already stripped; a JSON body's own reason fills it when empty
    recompute_peers: bool
    flag_outliers: bool
    max_bytes: int
    max_rows: int
    # The file read by read() before any transaction; run() reads it itself when None.
    parsed: parsing.ParsedFile | None = None

    def __post_init__(self) -> None:
        if self.flag_outliers and not self.recompute_peers:
            # Scores are read from the stored peer groups (outliers.py): stale ones would
            # score the new figures against the old.
            raise ValueError("outlier flags need the peer groups recomputed")

    @property
    def actor_id(self) -> int | None:
        return getattr(self.actor, "id", None)


@dataclass
class ProblemTally:
    """The problems a refusal lists, and how many there were in all.

    The file's own and the row checks' errors, and the set checks' errors, are each in file
    order and each keep only their first MAX_KEPT_ERRORS: enough, once merged and sorted, for
    the first MAX_KEPT_ERRORS of all (the refused file's errors download), of which the page
    and the API list the first MAX_ERRORS. The counts go on past the cap so the message can
    say how many.
    """

    errors: list[FieldError]
    parse_errors: list[FieldError]  # the file's own (header, shape), all counted
    row_problem_count: int = 0
    set_errors: list[FieldError] = field(default_factory=list)
    set_problem_count: int = 0

    def add_row_problems(self, found: list[FieldError]) -> None:
        self.row_problem_count += len(found)
        if len(self.errors) < validation.MAX_KEPT_ERRORS:
            self.errors.extend(found)

    def add_set_problem(self, message: str, column: str, row_no: int) -> None:
        self.set_problem_count += 1
        if len(self.set_errors) < validation.MAX_KEPT_ERRORS:
            self.set_errors.append(FieldError(message, field=column, row=row_no))

    @property
    def total(self) -> int:
        return self.row_problem_count + self.set_problem_count + len(self.parse_errors)


def read(request: IngestRequest) -> IngestRequest:
    """Check the size and read the whole file into rows, touching no table.

    Called before the centre's lock and the savepoint, so a slow or hostile file holds no
    database lock while it is read, and a file that cannot be read is refused before any
    write. At most max_rows + 1 rows are kept: one more than allowed is enough to refuse.
    """
    _check_size(request)
    parsed = parsing.parse(
        request.content, filename=request.filename, content_type=request.content_type
    )
    try:
        rows = list(itertools.islice(parsed.rows, request.max_rows + 1))
    except DomainError:
        raise
    except RecursionError:
        raise parsing.refuse("The file is nested too deeply to be read.") from None
    except (ArithmeticError, ValueError, UnicodeError) as error:
        raise parsing.refuse(
            f"The file could not be read ({type(error).__name__}).",
            status_cls=parsing.UnreadableFile,
        ) from None
    return dataclasses.replace(request, parsed=dataclasses.replace(parsed, rows=iter(rows)))


def run(request: IngestRequest) -> SubmissionOutcome:
    """Read and check the whole file, then apply it; raise with every problem found."""
    if request.parsed is None:
        request = read(request)
    parsed = request.parsed
    if parsed.reason and not request.reason:
        request = dataclasses.replace(request, reason=parsed.reason.strip())
    today = clock.today()
    tally = ProblemTally(errors=list(parsed.errors), parse_errors=parsed.errors)
    # read() holds the rows already; kept so a refusal can quote each problem's cell as sent.
    rows = list(parsed.rows)
    row_count = _stage(iter(rows), request.max_rows, tally)
    if not tally.errors and row_count == 0:
        tally.errors.append(FieldError("The file has no data rows. Add one row per figure.", row=2))
    _check_set_wise(request, today, tally)
    # Appended after the row checks' errors; _refusal sorts them all into file order.
    tally.errors.extend(tally.set_errors)
    if tally.errors:
        raise _refusal(tally, rows)
    changes, edits, held = _changes(request, today)
    summary = _summary(changes, row_count)
    submission = _record(request, parsed.file_format, row_count, summary)
    # Restatements of published figures wait for the authority; the rest is written now.
    restatements.hold(request, submission, held)
    _write_values(request, submission, summary)
    if request.recompute_peers and edits:
        _recompute_peers(request.centre.id, edits)
    # After the recompute: the scores are read from the groups as they now stand.
    flags = _flag_outliers(request, submission, summary)
    _expire_observations(request.centre.id)
    _audit_accepted(request, submission, summary, flags)
    db.session.flush()
    return SubmissionOutcome(submission=submission, created=True, changes=changes, flags=flags)


def _check_size(request: IngestRequest) -> None:
    """Refuse an oversized or empty file before reading any of it."""
    if len(request.content) > request.max_bytes:
        raise parsing.UploadTooLarge(
            f"The file is larger than the limit of {request.max_bytes / 1_048_576:.0f} MB. "
            "Split the data into smaller files and upload each one.",
            errors=[FieldError("The file is too large.", field="file")],
        )
    if not request.content:
        raise ValidationFailed(
            "The file is empty.",
            errors=[
                FieldError("The file is empty. Choose a file with your figures.", field="file")
            ],
        )


def _stage(rows: Iterable[parsing.RawRow], max_rows: int, tally: ProblemTally) -> int:
    """Check each row in Python and stream it into the staging table; returns the count."""
    metric_ids = dict(
        db.session.execute(select(Metric.code, Metric.id).where(Metric.is_current.is_(True))).all()
    )
    periods = dict(db.session.execute(select(ReportingPeriod.code, ReportingPeriod.id)).all())
    bulk.create_staging()
    return bulk.fill_staging(_cleaned_rows(rows, max_rows, metric_ids, periods, tally))


def _cleaned_rows(rows, max_rows: int, metric_ids, periods, tally: ProblemTally) -> Iterator[tuple]:
    # A generator, so a long file is checked and staged as it is read, never held whole.
    clean = validation.clean_row
    for seq, raw in enumerate(rows, start=1):
        if seq > max_rows:
            raise parsing.UploadTooLarge(
                f"The file has more than {max_rows:,} observations. Split it into smaller "
                "files and upload each one.",
                errors=[FieldError("Too many rows.", field="file")],
            )
        row, found = clean(raw, seq, metric_ids, periods)
        if found:
            tally.add_row_problems(found)
        yield row


def _check_set_wise(request: IngestRequest, today: date, tally: ProblemTally) -> None:
    """Word each problem only the database can see (ranges, duplicates, closed periods…)."""
    info: dict[str, problems.MetricInfo] = {}
    for row in set_checks.problem_rows(request.centre.id, request.reason, today):
        # Read only when a file has problems.
        info = info or problems.metric_info()
        for column, message in problems.set_problem_messages(row, info, today):
            tally.add_set_problem(message, column, row["row_no"])


class FileRefused(ValidationFailed):
    """A file refused on its contents: the first MAX_ERRORS errors to list, and `kept`, every
    error (up to MAX_KEPT_ERRORS) as {row, column, value, message} with the cell as sent."""

    def __init__(self, detail: str, *, errors: list[FieldError], kept: list[dict], total: int):
        super().__init__(detail, errors=errors)
        self.kept = kept
        self.total = total


def _refusal(tally: ProblemTally, rows: list[parsing.RawRow]) -> FileRefused:
    errors = sorted(tally.errors, key=lambda e: (e.row or 0,))
    kept = errors[: validation.MAX_KEPT_ERRORS]
    shown = kept[: validation.MAX_ERRORS]
    total = tally.total
    more = f" Only the first {len(shown)} are listed." if total > len(shown) else ""
    return FileRefused(
        f"The file was not accepted: {total} problem{'s' if total != 1 else ''} found. "
        f"None of its figures were saved. Fix each one and upload the whole file again.{more}",
        errors=shown,
        kept=_with_cells(kept, rows),
        total=total,
    )


def _with_cells(errors: list[FieldError], rows: list[parsing.RawRow]) -> list[dict]:
    """Each error with the text of the cell it is about, as the file had it ("" if none)."""
    wanted = {e.row for e in errors if e.row}
    cells: dict[tuple[int, str], object] = {}
    extras: dict[tuple[int, str], str] = {}
    for raw in rows:
        if raw.row not in wanted:
            continue
        # The value first: in the wide layout its column is also the period's (the header).
        for column, cell in (
            (raw.value_column, raw.value),
            ("metric", raw.metric),
            (raw.period_column, raw.period),
            ("numerator", raw.numerator),
            ("denominator", raw.denominator),
            ("comment", raw.comment),
        ):
            cells.setdefault((raw.row, column), cell)
        if raw.extra is not None:
            extras[(raw.row, raw.value_column)] = raw.extra
    kept = []
    for error in errors:
        key = (error.row or 0, error.field or "")
        cell = cells.get(key)
        if key in extras and error.message.startswith("This row has more cells"):
            cell = extras[key]
        kept.append(
            {
                "row": error.row,
                "column": error.field,
                "value": cell_text(cell),
                "message": error.message,
            }
        )
    return kept


def cell_text(cell: object) -> str:
    """A cell as text: what the file held, for the errors download."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    return str(cell)


def _changes(
    request: IngestRequest, today: date
) -> tuple[list[Change], dict[tuple[int, int], tuple], set[tuple[int, int]]]:
    """What the file changes; for each (metric id, period id) whose figure differs now, the
    figure before (None if new) and now; and the pairs held as pending restatements (a
    changed figure of a published period)."""
    published = set(
        db.session.scalars(select(ReportingPeriod.id).where(ReportingPeriod.status == "published"))
    )
    changes: list[Change] = []
    edits: dict[tuple[int, int], tuple] = {}
    held_pairs: set[tuple[int, int]] = set()
    for code, period, held, old, new, restated, metric_id, period_id in set_checks.changed_rows(
        request.centre.id, request.reason, today
    ):
        old_text = validation.fmt(old) if held else None
        new_text = validation.fmt(new)
        pending = bool(restated) and held is not None and period_id in published
        changes.append(Change(code, period, old_text, new_text, bool(restated), pending))
        if pending:
            held_pairs.add((metric_id, period_id))
        elif old_text != new_text:
            edits[(metric_id, period_id)] = (old if held else None, new)
    return changes, edits, held_pairs


def _summary(changes: list[Change], row_count: int) -> dict:
    new_values = sum(1 for c in changes if c.old is None)
    pending = sum(1 for c in changes if c.pending)
    return {
        "created": new_values,
        "updated": len(changes) - new_values - pending,
        "pending": pending,
        "unchanged": row_count - len(changes),
        "restated": sum(1 for c in changes if c.restated),
        "changes": [c.as_row() for c in changes],
        "flags": [],
    }


def _record(request: IngestRequest, file_format: str, row_count: int, summary: dict) -> Submission:
    """The accepted Submission, flushed so the written values can point at it."""
    submission = Submission(
        public_id=secrets.token_hex(16),
        centre_id=request.centre.id,
        submitted_by_id=request.actor_id,
        actor_label=request.actor_label,
        channel=request.channel,
        filename=(request.filename or "")[:255],
        content_type=(request.content_type or "")[:120],
        file_format=file_format,
        sha256=request.digest,
        size_bytes=len(request.content),
        content=request.content,
        row_count=row_count,
        status="accepted",
        reason=request.reason,
        errors=[],
        summary=summary,
        created_at=clock.now(),
    )
    db.session.add(submission)
    db.session.flush()
    return submission


def _write_values(request: IngestRequest, submission: Submission, summary: dict) -> None:
    created, updated = bulk.write(
        bulk.WriteContext(
            centre_id=request.centre.id,
            submission_id=submission.id,
            actor_id=request.actor_id,
            actor_label=request.actor_label,
            reason=request.reason,
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


def _flag_outliers(request: IngestRequest, submission: Submission, summary: dict) -> list[Flag]:
    if not request.flag_outliers:
        return []
    flags = [
        Flag(s.metric, s.period, validation.fmt(s.value), round(s.score, 2))
        for s in outliers.score_submission(request.centre.id, submission.id)
    ]
    if flags:
        submission.summary = {**summary, "flags": [f.as_dict() for f in flags]}
    return flags


def _expire_observations(centre_id: int) -> None:
    """Core statements bypassed the ORM: forget any loaded copies of this centre's values."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Observation) and obj.centre_id == centre_id:
            db.session.expire(obj)


def _recompute_peers(centre_id: int, edits: dict) -> None:
    """Peer statistics of the groups whose values changed, in this same transaction."""
    peers.apply_edits(centre_id, edits)


def _audit_accepted(
    request: IngestRequest, submission: Submission, summary: dict, flags: list[Flag]
) -> None:
    # The written counts equal the summary's: _write_values refuses anything else.
    audit.record(
        "submission.accepted",
        actor=request.actor,
        actor_label=request.actor_label,
        organisation_id=request.centre.organisation_id,
        object_type="submission",
        object_id=submission.public_id,
        detail={
            "centre": request.centre.slug,
            "channel": request.channel,
            "rows": submission.row_count,
            "created": summary["created"],
            "updated": summary["updated"],
            "restated": summary["restated"],
            "pending": summary["pending"],
            "flags": len(flags),
            "reason": request.reason,
        },
    )
