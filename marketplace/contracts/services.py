"""Contracts: made by an award, read by the buyer, the centre and the authority, rated
every published quarter (ratings.py), and overridden by the buyer with a reason.

Who sees a contract: buyers of its organisation and of that organisation's parent
department, the centre's own users, and admins. Only buyers of its organisation override a
rating. Everyone else is told nothing, not even that it exists (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_
from sqlalchemy.orm import selectinload

from marketplace import clock
from marketplace.accounts.models import Organisation
from marketplace.audit import services as audit
from marketplace.benchmarks.models import Metric, Observation, ReportingPeriod
from marketplace.catalogue.models import ServiceCentre
from marketplace.contracts import ratings
from marketplace.contracts.models import (
    MAX_KPIS,
    MIN_KPIS,
    RATING_LABELS,
    RATINGS,
    Contract,
    ContractKpi,
    KpiRating,
)
from marketplace.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from marketplace.extensions import db

NO_BASELINE = "The centre had no published figure of this metric when the contract was awarded."


# --- making a contract -----------------------------------------------------------------------


@dataclass(frozen=True)
class KpiTerms:
    metric: Metric
    target: Decimal


def kpi_metrics(preferred: list[str] | tuple[str, ...] = ()) -> list[Metric]:
    """The library's current metrics a KPI may use: `preferred` codes first, in that order,
    then the rest by service line and position."""
    metrics = list(
        db.session.execute(
            db.select(Metric)
            .where(Metric.is_current.is_(True), Metric.status == "active")
            .order_by(Metric.service_line_id, Metric.position, Metric.code)
        ).scalars()
    )
    rank = {code: i for i, code in enumerate(preferred)}
    return sorted(metrics, key=lambda m: rank.get(m.code, len(rank)))


def check_kpis(kpis: list[dict] | None, errors: list[FieldError]) -> list[KpiTerms]:
    """The KPIs of an award, checked: at least MIN_KPIS, each a current library metric (once)
    with a target in the metric's valid range. Each item is {"metric", "target"} and may
    carry its form "row" (1-based) for the field names of errors; blank rows are skipped."""
    metrics = {m.code: m for m in kpi_metrics()}
    terms: list[KpiTerms] = []
    seen: set[str] = set()
    for index, item in enumerate(kpis or [], start=1):
        row = item.get("row", index)
        code, target = (item.get("metric") or "").strip(), item.get("target")
        if not code and target is None:
            continue
        metric_field, target_field = f"kpi_metric_{row}", f"kpi_target_{row}"
        metric = metrics.get(code)
        if not code:
            errors.append(FieldError(f"Choose the metric of KPI {row}.", metric_field))
        elif metric is None:
            errors.append(FieldError(f"KPI {row}: choose a metric of the library.", metric_field))
        elif code in seen:
            errors.append(FieldError(f"KPI {row}: {metric.name} is a KPI already.", metric_field))
        if target is None:
            errors.append(FieldError(f"Give the target of KPI {row}.", target_field))
        elif metric is not None and not _in_range(metric, target):
            errors.append(
                FieldError(
                    f"KPI {row}: the target must be within {metric.name}'s valid range"
                    f"{_range_text(metric)}.",
                    target_field,
                )
            )
        if metric is not None and target is not None and code not in seen:
            terms.append(KpiTerms(metric, Decimal(target)))
        seen.add(code)
    if len([item for item in (kpis or []) if (item.get("metric") or "").strip()]) < MIN_KPIS:
        errors.append(
            FieldError(
                f"An award needs at least {MIN_KPIS} KPIs, each a metric and a target.", "kpis"
            )
        )
    elif len(terms) > MAX_KPIS:
        errors.append(FieldError(f"Agree at most {MAX_KPIS} KPIs.", "kpis"))
    return terms


def _in_range(metric: Metric, target: Decimal) -> bool:
    low, high = metric.valid_min, metric.valid_max
    return (low is None or target >= low) and (high is None or target <= high)


def _range_text(metric: Metric) -> str:
    if metric.valid_min is not None and metric.valid_max is not None:
        return f" ({metric.valid_min.normalize():f} to {metric.valid_max.normalize():f})"
    if metric.valid_min is not None:
        return f" (at least {metric.valid_min.normalize():f})"
    return ""


def baseline_of(centre_id: int, metric_id: int) -> tuple[Decimal, ReportingPeriod] | None:
    """The centre's latest published figure of the metric, with its period."""
    row = db.session.execute(
        db.select(Observation.value, ReportingPeriod)
        .join(ReportingPeriod, ReportingPeriod.id == Observation.period_id)
        .where(
            Observation.centre_id == centre_id,
            Observation.metric_id == metric_id,
            ReportingPeriod.status == "published",
        )
        .order_by(*ReportingPeriod.newest_first())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def create_for_award(
    actor,
    *,
    outcome_id: int,
    organisation_id: int,
    centre_id: int,
    title: str,
    terms: dict,
    kpis: list[KpiTerms],
) -> Contract:
    """The contract of an award, with its KPIs and their baselines; rated at once for the
    published quarters its term already covers. Call with checked terms (check_kpis and the
    award's own checks); flush only, audited."""
    if len(kpis) < MIN_KPIS:
        raise ValidationFailed(
            "The contract could not be made.",
            errors=[FieldError(f"An award needs at least {MIN_KPIS} KPIs.", "kpis")],
        )
    contract = Contract(
        outcome_id=outcome_id,
        organisation_id=organisation_id,
        centre_id=centre_id,
        title=title,
        value=terms["contract_value"],
        starts_on=terms["contract_starts_on"],
        ends_on=terms["contract_ends_on"],
        annual_volumes=dict(terms.get("annual_volumes") or {}),
        awarded_at=clock.now(),
        awarded_by_id=actor.id,
    )
    db.session.add(contract)
    for position, kpi in enumerate(kpis, start=1):
        found = baseline_of(centre_id, kpi.metric.id)
        contract.kpis.append(
            ContractKpi(
                metric=kpi.metric,
                position=position,
                target=kpi.target,
                direction=kpi.metric.direction,
                baseline=found[0] if found else None,
                baseline_period=found[1] if found else None,
                baseline_note=None if found else NO_BASELINE,
            )
        )
    db.session.flush()
    audit.record(
        "contract.created",
        actor=actor,
        organisation_id=organisation_id,
        object_type="contract",
        object_id=contract.public_id,
        detail={
            "centre": contract.centre.slug,
            "value": str(contract.value),
            "starts_on": contract.starts_on.isoformat(),
            "ends_on": contract.ends_on.isoformat(),
            "annual_volumes": contract.annual_volumes,
            "kpis": [
                {
                    "metric": k.metric.code,
                    "target": str(k.target),
                    "baseline": None if k.baseline is None else str(k.baseline),
                }
                for k in contract.kpis
            ],
        },
    )
    label = getattr(actor, "email", None)
    for period in ratings.published_periods_in_term(contract):
        ratings.rate_contracts([contract], period, actor_label=label)
    return contract


# --- who sees what ---------------------------------------------------------------------------


def can_view(viewer, contract: Contract) -> bool:
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.role == "admin":
        return True
    if viewer.role == "buyer":
        # A buyer still waiting to join is the public here, as everywhere (acts_as_buyer).
        return viewer.acts_as_buyer and viewer.organisation_id in (
            contract.organisation_id,
            contract.organisation.parent_id,
        )
    if viewer.role == "centre":
        return viewer.organisation_id == contract.centre.organisation_id
    return False


def can_override(viewer, contract: Contract) -> bool:
    return (
        viewer is not None
        and getattr(viewer, "role", None) == "buyer"
        and viewer.organisation_id == contract.organisation_id
    )


def visible(viewer, *, scope: str | None = None):
    """A select() of the contracts the viewer may see, newest award first.

    `scope` narrows an admin's or buyer's view to one role's own ("buyer", "centre")."""
    query = db.select(Contract).order_by(Contract.awarded_at.desc(), Contract.id.desc())
    role = getattr(viewer, "role", None)
    if role == "admin":
        return query
    if role == "buyer":
        children = db.select(Organisation.id).where(
            Organisation.parent_id == viewer.organisation_id
        )
        return query.where(
            or_(
                Contract.organisation_id == viewer.organisation_id,
                Contract.organisation_id.in_(children),
            )
        )
    if role == "centre":
        centres = db.select(ServiceCentre.id).where(
            ServiceCentre.organisation_id == viewer.organisation_id
        )
        return query.where(Contract.centre_id.in_(centres))
    return query.where(db.false())


def visible_contracts(viewer) -> list[Contract]:
    return list(db.session.execute(visible(viewer)).unique().scalars())


def get_for_viewer(public_id: str, viewer) -> Contract:
    contract = db.session.execute(
        db.select(Contract).where(Contract.public_id == public_id)
    ).scalar_one_or_none()
    if contract is None or not can_view(viewer, contract):
        raise NotFound("There is no contract at this address.")
    return contract


def for_outcome(outcome_id: int) -> Contract | None:
    return db.session.execute(
        db.select(Contract).where(Contract.outcome_id == outcome_id)
    ).scalar_one_or_none()


# --- overriding a rating ---------------------------------------------------------------------


def rating_of(contract: Contract, metric_code: str, period_code: str) -> KpiRating:
    rating = db.session.execute(
        db.select(KpiRating)
        .join(ContractKpi, ContractKpi.id == KpiRating.kpi_id)
        .join(Metric, Metric.id == ContractKpi.metric_id)
        .join(ReportingPeriod, ReportingPeriod.id == KpiRating.period_id)
        .where(
            ContractKpi.contract_id == contract.id,
            Metric.code == metric_code,
            ReportingPeriod.code == period_code,
        )
    ).scalar_one_or_none()
    if rating is None:
        raise NotFound("This KPI has no rating for that quarter.")
    return rating


def override(actor, contract: Contract, rating: KpiRating, new: str, reason: str) -> KpiRating:
    """The buyer's rating of a quarter, with the reason; choosing the computed rating again
    withdraws an override. Audited with what it was before; flush only."""
    if not can_override(actor, contract):
        raise PermissionDenied("Only buyers of the organisation that holds the contract can.")
    reason = (reason or "").strip()
    errors = []
    if new not in RATINGS:
        errors.append(FieldError("Choose the rating.", "rating"))
    if not reason:
        errors.append(FieldError("Give the reason for the rating.", "reason"))
    if errors:
        raise ValidationFailed("The rating could not be changed.", errors=errors)
    before = {"override": rating.override, "reason": rating.override_reason}
    if new == rating.computed:
        rating.override = rating.override_reason = None
        rating.overridden_by_id = rating.overridden_at = None
    else:
        rating.override, rating.override_reason = new, reason
        rating.overridden_by_id, rating.overridden_at = actor.id, clock.now()
    db.session.flush()
    audit.record(
        "contract.rating_overridden" if rating.override else "contract.override_withdrawn",
        actor=actor,
        organisation_id=contract.organisation_id,
        object_type="contract",
        object_id=contract.public_id,
        detail={
            "metric": rating.kpi.metric.code,
            "period": rating.period.code,
            "computed": rating.computed,
            "before": before,
            "after": {"override": rating.override, "reason": rating.override_reason},
            "reason": reason,
        },
    )
    return rating


# --- what pages, the API and open data show --------------------------------------------------


def rating_row(rating: KpiRating | None, period: ReportingPeriod) -> dict:
    if rating is None:
        return {
            "period": period.code,
            "period_label": period.label,
            "figure": None,
            "computed": None,
            "computed_label": "No figure",
            "rating": None,
            "rating_label": "No figure",
            "overridden": False,
            "reason": None,
            "overridden_by": None,
            "overridden_at": None,
        }
    return {
        "period": period.code,
        "period_label": period.label,
        "figure": rating.figure,
        "computed": rating.computed,
        "computed_label": RATING_LABELS[rating.computed],
        "rating": rating.rating,
        "rating_label": RATING_LABELS[rating.rating],
        "overridden": rating.override is not None,
        "reason": rating.override_reason,
        "overridden_by": rating.overridden_by.name if rating.overridden_by else None,
        "overridden_at": rating.overridden_at,
    }


def summary(contract: Contract) -> dict:
    """The contract without its KPIs: what a list shows."""
    return {
        "id": contract.public_id,
        "title": contract.title,
        "buyer": {"slug": contract.organisation.slug, "name": contract.organisation.name},
        "centre": {"slug": contract.centre.slug, "name": contract.centre.name},
        "value": contract.value,
        "starts_on": contract.starts_on,
        "ends_on": contract.ends_on,
        "annual_volumes": dict(sorted(contract.annual_volumes.items())),
        "awarded_at": contract.awarded_at,
    }


def detail(contract: Contract) -> dict:
    """Everything a contract page or the API shows: primitives, each published quarter of
    its term per KPI (with "No figure" where the centre published none)."""
    periods = ratings.published_periods_in_term(contract)
    by_kpi: dict[int, dict[int, KpiRating]] = {}
    kpi_ids = [k.id for k in contract.kpis]
    if kpi_ids:
        for rating in db.session.execute(
            db.select(KpiRating).where(KpiRating.kpi_id.in_(kpi_ids))
        ).scalars():
            by_kpi.setdefault(rating.kpi_id, {})[rating.period_id] = rating
    return {
        **summary(contract),
        "kpis": [
            {
                "metric": kpi.metric.code,
                "metric_name": kpi.metric.name,
                "unit": kpi.metric.unit,
                "decimals": kpi.metric.decimals,
                "direction": kpi.direction,
                "target": kpi.target,
                "baseline": kpi.baseline,
                "baseline_period": kpi.baseline_period.code if kpi.baseline_period else None,
                "baseline_period_label": (
                    kpi.baseline_period.label if kpi.baseline_period else None
                ),
                "baseline_note": kpi.baseline_note,
                "ratings": [
                    rating_row(by_kpi.get(kpi.id, {}).get(period.id), period) for period in periods
                ],
            }
            for kpi in contract.kpis
        ],
    }


OPEN_DATA_COLUMNS = (
    "period",
    "contract",
    "buyer",
    "buyer_name",
    "centre",
    "centre_name",
    "value",
    "starts_on",
    "ends_on",
    "metric",
    "metric_name",
    "direction",
    "target",
    "figure",
    "computed_rating",
    "rating",
    "reason",
)


def open_data(period: ReportingPeriod) -> list[dict]:
    """One record per KPI of every contract live in a published period, in a stable order;
    figure and ratings are empty where the centre published no figure."""
    if period.status != "published":
        raise NotFound(f"{period.code} is not published; its contract ratings are not open.")
    contracts = (
        db.session.execute(
            db.select(Contract)
            .where(Contract.starts_on <= period.ends_on, Contract.ends_on >= period.starts_on)
            .options(selectinload(Contract.kpis))
            .order_by(Contract.public_id)
        )
        .unique()
        .scalars()
        .all()
    )
    kpi_ids = [kpi.id for contract in contracts for kpi in contract.kpis]
    rated = {
        r.kpi_id: r
        for r in db.session.execute(
            db.select(KpiRating).where(
                KpiRating.period_id == period.id, KpiRating.kpi_id.in_(kpi_ids)
            )
        ).scalars()
    }
    records = []
    for contract in contracts:
        for kpi in sorted(contract.kpis, key=lambda k: k.metric.code):
            rating = rated.get(kpi.id)
            records.append(
                {
                    "period": period.code,
                    "contract": contract.public_id,
                    "buyer": contract.organisation.slug,
                    "buyer_name": contract.organisation.name,
                    "centre": contract.centre.slug,
                    "centre_name": contract.centre.name,
                    "value": contract.value,
                    "starts_on": contract.starts_on.isoformat(),
                    "ends_on": contract.ends_on.isoformat(),
                    "metric": kpi.metric.code,
                    "metric_name": kpi.metric.name,
                    "direction": kpi.direction,
                    "target": kpi.target,
                    "figure": rating.figure if rating else None,
                    "computed_rating": rating.computed if rating else None,
                    "rating": rating.rating if rating else None,
                    "reason": rating.override_reason if rating else None,
                }
            )
    return records
