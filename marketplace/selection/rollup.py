"""Roll-up of a department with its ALBs (DOMAIN.md, "Like with like"): volume-weighted
averages over the contracts they hold that are live in one published quarter.

Whose contracts: the organisation's own, and when it is a department, those of its ALBs
(organisations whose parent it is). An ALB's roll-up is its own contracts only.

Unit costs, per service line a contract gives an annual volume for: the line's cost metric
is the unit-cost metric of the first cost driver (benchmarks/drivers.py, the same mapping
the projected cost uses) whose metric belongs to the line (finance: cost per invoice; HR:
cost per employee served). The average is Σ volume × unit cost ÷ Σ volume over the
contracts whose centre published a figure of that metric for the quarter; a contract whose
centre published none is listed, with no unit cost, and left out of both sums. With no
contributing contract (or only zero volumes) there is no average: None, never zero. Exact
Decimal throughout; the average is rounded once, half up, to the penny
(formatting.rounded(…, 2)), and each line's annual cost (volume ÷ per × unit cost) likewise.

KPI ratings, per metric of the live contracts' KPIs: the rating that stands for the quarter
(the buyer's override when there is one, else the computed one), counted plainly and
weighted by the contract's annual volume for the metric's service line. A KPI with no
rating for the quarter (the centre published no figure) is listed as unrated and counted in
neither; a rated KPI whose contract gives no volume for the metric's line is counted but
carries no weight (its volumes would be of a different thing). Shares are percentages of
the weighted volume, rounded half up to 0.1.

Everything comes back as primitives (dicts, Decimals, strings), for the page, the CSV and
the API alike. Read only: nothing here writes.
"""

from __future__ import annotations

from decimal import Decimal

from marketplace import formatting
from marketplace.accounts.models import Organisation
from marketplace.benchmarks import drivers
from marketplace.benchmarks.models import Observation, ReportingPeriod
from marketplace.catalogue.models import ServiceLine
from marketplace.contracts.models import RATING_LABELS, RATINGS, Contract, ContractKpi, KpiRating
from marketplace.errors import NotFound, PermissionDenied
from marketplace.extensions import db

ROLLUP_KINDS = ("department", "alb")
PUBLISHED = "published"


# --- who sees what ---------------------------------------------------------------------------


def organisation_for_rollup(slug: str) -> Organisation:
    """A department or ALB by slug; anything else (a centre, the authority) has no roll-up."""
    organisation = db.session.execute(
        db.select(Organisation).where(Organisation.slug == slug)
    ).scalar_one_or_none()
    if organisation is None or organisation.kind not in ROLLUP_KINDS:
        raise NotFound("There is no department or ALB with that name.")
    return organisation


def can_view(viewer, organisation: Organisation) -> bool:
    """Admins: any department or ALB. A member buyer: its own organisation's roll-up, and
    (in a department) each of its ALBs'. Nobody else, an ALB's buyers of their department's
    included: that roll-up holds the contracts of the department's other bodies."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.role == "admin":
        return True
    if not getattr(viewer, "acts_as_buyer", False):
        return False
    return viewer.organisation_id in (organisation.id, organisation.parent_id)


def check_view(viewer, organisation: Organisation) -> None:
    if can_view(viewer, organisation):
        return
    if getattr(viewer, "role", None) == "buyer" and organisation.id == getattr(
        viewer.organisation, "parent_id", None
    ):
        raise PermissionDenied(
            "An ALB's buyers see the roll-up of their own body's contracts. The department's "
            "roll-up covers its other bodies' contracts too, so only the department's buyers "
            "see it."
        )
    raise PermissionDenied(
        "Only the organisation's buyers (a department's also for its ALBs) and the "
        "accreditation authority's administrators see its roll-up."
    )


def departments() -> list[Organisation]:
    """What an admin chooses from: every department, then every ALB, by name."""
    return list(
        db.session.execute(
            db.select(Organisation)
            .where(Organisation.kind.in_(ROLLUP_KINDS))
            .order_by(Organisation.kind.desc(), Organisation.name)
        ).scalars()
    )


# --- periods ---------------------------------------------------------------------------------


def published_periods() -> list[ReportingPeriod]:
    return list(
        db.session.execute(
            db.select(ReportingPeriod)
            .where(ReportingPeriod.status == PUBLISHED)
            .order_by(*ReportingPeriod.newest_first())
        ).scalars()
    )


def choose_period(code: str | None) -> ReportingPeriod | None:
    """The published quarter asked for; by default the newest (None when none is)."""
    if not code:
        periods = published_periods()
        return periods[0] if periods else None
    period = db.session.execute(
        db.select(ReportingPeriod).where(ReportingPeriod.code == code)
    ).scalar_one_or_none()
    if period is None or period.status != PUBLISHED:
        raise NotFound(f"{code} is not a published quarter; a roll-up uses published figures.")
    return period


# --- the roll-up -----------------------------------------------------------------------------


def covered(organisation: Organisation) -> list[Organisation]:
    """The organisation, then (for a department) its ALBs by name."""
    bodies = [organisation]
    if organisation.kind == "department":
        bodies += list(
            db.session.execute(
                db.select(Organisation)
                .where(Organisation.parent_id == organisation.id)
                .order_by(Organisation.name)
            ).scalars()
        )
    return bodies


def live_contracts(organisation_ids: list[int], period: ReportingPeriod) -> list[Contract]:
    return list(
        db.session.execute(
            db.select(Contract)
            .where(
                Contract.organisation_id.in_(organisation_ids),
                Contract.starts_on <= period.ends_on,
                Contract.ends_on >= period.starts_on,
            )
            .order_by(Contract.public_id)
        )
        .unique()
        .scalars()
    )


def _party(thing) -> dict:
    return {"slug": thing.slug, "name": thing.name}


def _figures(metric_ids: set[int], centre_ids: set[int], period) -> dict[tuple[int, int], Decimal]:
    if not metric_ids or not centre_ids:
        return {}
    rows = db.session.execute(
        db.select(Observation.metric_id, Observation.centre_id, Observation.value).where(
            Observation.period_id == period.id,
            Observation.metric_id.in_(metric_ids),
            Observation.centre_id.in_(centre_ids),
        )
    ).all()
    return {(m, c): value for m, c, value in rows}


def _unit_costs(contracts: list[Contract], period: ReportingPeriod) -> list[dict]:
    mapping = drivers.line_drivers()
    names = {line.code: line.name for line in db.session.execute(db.select(ServiceLine)).scalars()}
    line_codes = sorted(
        {code for c in contracts for code in c.annual_volumes},
        key=lambda code: (code not in mapping, code),
    )
    figures = _figures(
        {mapping[code][1].id for code in line_codes if code in mapping},
        {c.centre_id for c in contracts},
        period,
    )
    result = []
    for code in line_codes:
        driver, metric = mapping.get(code, (None, None))
        behind, weighted, volume_total, counted = [], Decimal(0), 0, 0
        for contract in contracts:
            if code not in contract.annual_volumes:
                continue
            volume = int(contract.annual_volumes[code])
            unit_cost = None if metric is None else figures.get((metric.id, contract.centre_id))
            if unit_cost is not None:
                weighted += Decimal(volume) * unit_cost
                volume_total += volume
                counted += 1
            behind.append(
                {
                    "contract": contract.public_id,
                    "title": contract.title,
                    "centre": _party(contract.centre),
                    "organisation": _party(contract.organisation),
                    "volume": volume,
                    "unit_cost": unit_cost,
                    "annual_cost": (
                        None
                        if unit_cost is None
                        else formatting.rounded(drivers.annual_cost(volume, unit_cost, driver), 2)
                    ),
                }
            )
        average = formatting.rounded(weighted / volume_total, 2) if volume_total else None
        if metric is None:
            note = "No unit-cost metric prices this service line."
        elif average is None:
            note = f"No centre behind these contracts published {metric.name} for {period.label}."
        elif counted < len(behind):
            missing = len(behind) - counted
            note = (
                f"{formatting.plural(missing, 'contract')} without a published unit cost "
                "for the quarter left out."
            )
        else:
            note = None
        result.append(
            {
                "service_line": code,
                "service_line_name": names.get(code, code),
                "metric": None if metric is None else metric.code,
                "metric_name": None if metric is None else metric.name,
                "decimals": 2,
                "driver": None if driver is None else driver.code,
                "driver_label": None if driver is None else driver.noun,
                "volume": sum(row["volume"] for row in behind),
                "weighted_volume": volume_total,
                "average": average,
                "contracts": counted,
                "note": note,
                "behind": behind,
            }
        )
    return result


def _kpis(contracts: list[Contract], period: ReportingPeriod) -> list[dict]:
    by_id = {c.id: c for c in contracts}
    kpis = list(
        db.session.execute(
            db.select(ContractKpi).where(ContractKpi.contract_id.in_(list(by_id)))
        ).scalars()
    )
    rated = {
        r.kpi_id: r
        for r in db.session.execute(
            db.select(KpiRating).where(
                KpiRating.period_id == period.id,
                KpiRating.kpi_id.in_([k.id for k in kpis]),
            )
        ).scalars()
    }
    lines = {line.id: line.code for line in db.session.execute(db.select(ServiceLine)).scalars()}
    grouped: dict[str, list[ContractKpi]] = {}
    for kpi in kpis:
        grouped.setdefault(kpi.metric.code, []).append(kpi)
    result = []
    for code in sorted(grouped):
        items = sorted(grouped[code], key=lambda k: by_id[k.contract_id].public_id)
        metric = items[0].metric
        line = lines.get(metric.service_line_id)
        counts = dict.fromkeys(RATINGS, 0)
        volumes = dict.fromkeys(RATINGS, 0)
        behind = []
        for kpi in items:
            contract = by_id[kpi.contract_id]
            rating = rated.get(kpi.id)
            raw = contract.annual_volumes.get(line)
            volume = None if raw is None else int(raw)
            if rating is not None:
                counts[rating.rating] += 1
                volumes[rating.rating] += volume or 0
            behind.append(
                {
                    "contract": contract.public_id,
                    "title": contract.title,
                    "centre": _party(contract.centre),
                    "organisation": _party(contract.organisation),
                    "volume": volume,
                    "target": kpi.target,
                    "figure": None if rating is None else rating.figure,
                    "computed": None if rating is None else rating.computed,
                    "rating": None if rating is None else rating.rating,
                    "rating_label": "No figure" if rating is None else RATING_LABELS[rating.rating],
                    "overridden": rating is not None and rating.override is not None,
                }
            )
        total_volume = sum(volumes.values())
        result.append(
            {
                "metric": metric.code,
                "metric_name": metric.name,
                "service_line": line,
                "rated": sum(counts.values()),
                "unrated": len(items) - sum(counts.values()),
                "weighted_volume": total_volume,
                "ratings": [
                    {
                        "rating": r,
                        "label": RATING_LABELS[r],
                        "count": counts[r],
                        "volume": volumes[r],
                        "share": (
                            formatting.rounded(Decimal(100 * volumes[r]) / total_volume, 1)
                            if total_volume
                            else None
                        ),
                    }
                    for r in RATINGS
                ],
                "behind": behind,
            }
        )
    return result


def rollup(organisation: Organisation, period: ReportingPeriod | None) -> dict:
    """The roll-up of the organisation (with its ALBs) for a published quarter (see the
    module). With no published quarter at all, the figures are empty and say so."""
    bodies = covered(organisation)
    contracts = [] if period is None else live_contracts([b.id for b in bodies], period)
    return {
        "organisation": {**_party(organisation), "kind": organisation.kind},
        "covers": [{**_party(b), "kind": b.kind} for b in bodies],
        "period": None if period is None else {"code": period.code, "label": period.label},
        "contracts": [
            {
                "id": c.public_id,
                "title": c.title,
                "organisation": _party(c.organisation),
                "centre": _party(c.centre),
                "value": c.value,
                "starts_on": c.starts_on,
                "ends_on": c.ends_on,
            }
            for c in contracts
        ],
        "unit_costs": [] if period is None else _unit_costs(contracts, period),
        "kpis": [] if period is None or not contracts else _kpis(contracts, period),
    }


CSV_HEADER = (
    "section",
    "period",
    "service_line_or_metric",
    "rating",
    "figure",
    "count",
    "volume",
    "contract",
    "organisation",
    "centre",
    "unit_cost",
    "annual_cost",
    "overridden",
)


def csv_rows(result: dict) -> list[list]:
    """The roll-up as CSV rows: each figure's summary row, then the contracts behind it.
    `figure` is the weighted average unit cost (£, 2 dp), the weighted share of a rating
    (%, 1 dp) or a KPI's figure; empty where there is none. Text is defused by the CSV
    writer (csvexport), not here."""
    period = result["period"]["code"] if result["period"] else ""
    rows: list[list] = [list(CSV_HEADER)]

    def add(**cells) -> None:
        rows.append([cells.get(name, "") for name in CSV_HEADER])

    for line in result["unit_costs"]:
        code = line["service_line"]
        add(
            section="average_unit_cost",
            period=period,
            service_line_or_metric=code,
            figure=formatting.plain(line["average"], 2),
            count=line["contracts"],
            volume=line["weighted_volume"],
        )
        for row in line["behind"]:
            add(
                section="unit_cost",
                period=period,
                service_line_or_metric=code,
                volume=row["volume"],
                contract=row["contract"],
                organisation=row["organisation"]["name"],
                centre=row["centre"]["name"],
                unit_cost=formatting.plain(row["unit_cost"], 2),
                annual_cost=formatting.plain(row["annual_cost"], 2),
            )
    for kpi in result["kpis"]:
        for share in kpi["ratings"]:
            add(
                section="rating_share",
                period=period,
                service_line_or_metric=kpi["metric"],
                rating=share["rating"],
                figure=formatting.plain(share["share"], 1),
                count=share["count"],
                volume=share["volume"],
            )
        for row in kpi["behind"]:
            add(
                section="kpi_rating",
                period=period,
                service_line_or_metric=kpi["metric"],
                rating=row["rating"] or "",
                figure=formatting.plain(row["figure"], 6),
                volume=row["volume"],
                contract=row["contract"],
                organisation=row["organisation"]["name"],
                centre=row["centre"]["name"],
                overridden=row["overridden"],
            )
    return rows
