"""The shape of an evaluation snapshot, written down once: dataclasses and their schema.

A snapshot is what a buyer sees of an evaluation (snapshots.py works it out). Pages, CSV
exports, the lock fingerprint and the stored JSON (Evaluation.snapshot) all use the plain
dict that SnapshotSchema dumps; load_snapshot reads a stored one back as these dataclasses.
The JSON keys are those of every snapshot stored so far: keep them so. Format 2 adds the
buyer's rationale and "not scored" reasons to the cells and the weights section (sealed
weights and every change); a format-1 snapshot has none of these keys and dumps back without
them.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema, fields, post_dump, post_load


@dataclass
class MetricRef:
    code: str
    version: int
    unit: str
    unit_label: str
    direction: str
    decimals: int
    definition: str


@dataclass
class Statistics:
    n: int
    min: float | None
    p25: float | None
    median: float | None
    p75: float | None
    max: float | None


@dataclass
class Criterion:
    code: str
    name: str
    kind: str  # "metric" or "buyer"
    weight: float
    share: float  # of the total weight, 0–1
    is_social_value: bool
    metric: MetricRef | None = None
    statistics: Statistics | None = None  # None when withheld or there is no peer group
    withheld: bool = False


@dataclass
class CellView:
    value: str | None = None  # the metric value as a decimal string, exactly as stored
    percentile: float | None = None
    band: int | None = None
    band_label: str | None = None
    score: float | None = None  # the buyer's score (buyer criteria; metrics without a figure)
    rationale: str | None = None  # the evidence for the buyer's score
    not_scored_reason: str | None = None  # why the buyer did not score this centre here


@dataclass
class EvaluationRef:
    id: str
    title: str
    needs: str
    organisation: str


@dataclass
class PeriodRef:
    code: str
    label: str
    status: str
    published: bool


@dataclass
class ServiceLineRef:
    code: str
    name: str


@dataclass
class Candidate:
    slug: str
    name: str
    status: str
    warning: str | None


@dataclass
class Result:
    slug: str
    name: str
    score: float | None
    coverage: float
    rank: int | None


@dataclass
class LockedBy:
    name: str
    email: str


@dataclass
class SealedWeight:
    code: str
    name: str
    weight: str  # exactly as stored, e.g. "2.000"


@dataclass
class WeightChange:
    changed_at: str  # ISO 8601
    changed_by: LockedBy
    code: str
    name: str
    old: str | None  # None: the criterion was added
    new: str | None  # None: the criterion was removed
    after_sealing: bool
    reason: str | None


@dataclass
class Weights:
    sealed_at: str | None
    sealed_by: LockedBy | None
    sealed: list[SealedWeight]  # the weights when they were sealed
    changes: list[WeightChange]  # every change, oldest first


@dataclass
class Snapshot:
    format: int
    method_version: str
    computed_at: str  # ISO 8601
    evaluation: EvaluationRef
    period: PeriodRef
    threshold: int
    service_lines: list[ServiceLineRef]
    candidates: list[Candidate]
    criteria: list[Criterion]
    cells: dict[str, dict[str, CellView]]  # criterion code -> centre slug -> cell
    results: list[Result]
    total_weight: float
    social_value_share: float
    warnings: list[str]
    caveat: str
    # Set only by locking; drafts have neither key.
    locked_at: str | None = None
    locked_by: LockedBy | None = None
    # Format 2 on: the sealing and history of the weights.
    weights: Weights | None = None


def _drop_none(data: dict, keys: tuple[str, ...]) -> dict:
    for key in keys:
        if data.get(key) is None:
            data.pop(key, None)
    return data


class _Number(fields.Float):
    """A number kept as it was computed or stored (an int stays an int), so that a stored
    snapshot dumps back to exactly the JSON it was read from."""

    def _format_num(self, value):
        return value if isinstance(value, int | float) else float(value)


class _Loads(Schema):
    """A schema whose load gives an instance of its dataclass, `loads_into`."""

    loads_into: type

    @post_load
    def make(self, data, **_kwargs):
        return self.loads_into(**data)


class SnapshotMetricSchema(_Loads):
    loads_into = MetricRef

    code = fields.String()
    version = fields.Integer()
    unit = fields.String()
    unit_label = fields.String()
    direction = fields.String()
    decimals = fields.Integer()
    definition = fields.String()


class SnapshotStatisticsSchema(_Loads):
    loads_into = Statistics

    n = fields.Integer()
    min = _Number(allow_none=True)
    p25 = _Number(allow_none=True)
    median = _Number(allow_none=True)
    p75 = _Number(allow_none=True)
    max = _Number(allow_none=True)


class SnapshotCriterionSchema(_Loads):
    loads_into = Criterion

    code = fields.String()
    name = fields.String()
    kind = fields.String()
    weight = _Number()
    share = _Number()
    is_social_value = fields.Boolean()
    metric = fields.Nested(SnapshotMetricSchema, allow_none=True)
    statistics = fields.Nested(SnapshotStatisticsSchema, allow_none=True)
    withheld = fields.Boolean()


class SnapshotCellSchema(_Loads):
    loads_into = CellView

    value = fields.String(allow_none=True)
    percentile = _Number(allow_none=True)
    band = fields.Integer(allow_none=True)
    band_label = fields.String(allow_none=True)
    score = _Number(allow_none=True)
    rationale = fields.String(allow_none=True)
    not_scored_reason = fields.String(allow_none=True)

    @post_dump
    def drop_absent(self, data, **_kwargs):
        # Format-1 cells have neither key; a cell without them keeps that shape.
        return _drop_none(data, ("rationale", "not_scored_reason"))


class SnapshotEvaluationSchema(_Loads):
    loads_into = EvaluationRef

    id = fields.String()
    title = fields.String()
    needs = fields.String()
    organisation = fields.String()


class SnapshotPeriodSchema(_Loads):
    loads_into = PeriodRef

    code = fields.String()
    label = fields.String()
    status = fields.String()
    published = fields.Boolean()


class SnapshotServiceLineSchema(_Loads):
    loads_into = ServiceLineRef

    code = fields.String()
    name = fields.String()


class SnapshotCandidateSchema(_Loads):
    loads_into = Candidate

    slug = fields.String()
    name = fields.String()
    status = fields.String()
    warning = fields.String(allow_none=True)


class SnapshotResultSchema(_Loads):
    loads_into = Result

    slug = fields.String()
    name = fields.String()
    score = _Number(allow_none=True)
    coverage = _Number()
    rank = fields.Integer(allow_none=True)


class SnapshotLockedBySchema(_Loads):
    loads_into = LockedBy

    name = fields.String()
    email = fields.String()


class SnapshotSealedWeightSchema(_Loads):
    loads_into = SealedWeight

    code = fields.String()
    name = fields.String()
    weight = fields.String()


class SnapshotWeightChangeSchema(_Loads):
    loads_into = WeightChange

    changed_at = fields.String()
    changed_by = fields.Nested(SnapshotLockedBySchema)
    code = fields.String()
    name = fields.String()
    old = fields.String(allow_none=True)
    new = fields.String(allow_none=True)
    after_sealing = fields.Boolean()
    reason = fields.String(allow_none=True)


class SnapshotWeightsSchema(_Loads):
    loads_into = Weights

    sealed_at = fields.String(allow_none=True)
    sealed_by = fields.Nested(SnapshotLockedBySchema, allow_none=True)
    sealed = fields.List(fields.Nested(SnapshotSealedWeightSchema))
    changes = fields.List(fields.Nested(SnapshotWeightChangeSchema))


class SnapshotSchema(_Loads):
    loads_into = Snapshot

    format = fields.Integer()
    method_version = fields.String()
    computed_at = fields.String()
    evaluation = fields.Nested(SnapshotEvaluationSchema)
    period = fields.Nested(SnapshotPeriodSchema)
    threshold = fields.Integer()
    service_lines = fields.List(fields.Nested(SnapshotServiceLineSchema))
    candidates = fields.List(fields.Nested(SnapshotCandidateSchema))
    criteria = fields.List(fields.Nested(SnapshotCriterionSchema))
    cells = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Nested(SnapshotCellSchema)),
    )
    results = fields.List(fields.Nested(SnapshotResultSchema))
    total_weight = _Number()
    social_value_share = _Number()
    warnings = fields.List(fields.String())
    caveat = fields.String()
    locked_at = fields.String(allow_none=True)
    locked_by = fields.Nested(SnapshotLockedBySchema, allow_none=True)
    weights = fields.Nested(SnapshotWeightsSchema, allow_none=True)

    @post_dump
    def drop_unlocked(self, data, **_kwargs):
        # A draft's view has no lock keys at all, as before the schema existed; a format-1
        # snapshot has no weights section.
        return _drop_none(data, ("locked_at", "locked_by", "weights"))


def dump_snapshot(snapshot: Snapshot) -> dict:
    """The JSON-ready dict stored on the evaluation and handed to pages and exports."""
    return SnapshotSchema().dump(snapshot)


def load_snapshot(data: dict) -> Snapshot:
    """A stored snapshot (Evaluation.snapshot) as typed objects."""
    return SnapshotSchema().load(data)
