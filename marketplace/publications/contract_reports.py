"""The yearly contract performance PDF: a contract's terms and each KPI's quarterly ratings
for one calendar year of its term, as an accessible PDF.

Rendered the same safe way as published reports (render.py: escaped primitives only, the
locked-down fetcher, a capped child process, PDF/UA) from the contract's detail
(contracts.services.detail), dated at the latest rating or override shown (or the award),
so the same ratings always give the same bytes. Kept in content-addressed storage under the
hash of its primitives: the first download renders it; a later override makes a new file.
"""

from __future__ import annotations

from datetime import datetime

from marketplace import formatting
from marketplace.benchmarks import drivers
from marketplace.contracts import services as contracts
from marketplace.contracts.models import Contract, KpiRating
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.publications import formatting as fmt
from marketplace.publications import private_pdfs
from marketplace.publications.storage import StoredFile

TEMPLATE = "reports/contract_performance.html"


def years_of(contract: Contract) -> list[int]:
    return list(range(contract.starts_on.year, contract.ends_on.year + 1))


def primitives(contract: Contract, year: int) -> dict:
    """Strings and numbers ready to print: the terms and the year's quarters of each KPI."""
    if year not in years_of(contract):
        raise NotFound(f"The contract does not run in {year}.")
    detail = contracts.detail(contract)
    kpis = []
    for kpi in detail["kpis"]:
        rows = [r for r in kpi["ratings"] if r["period"].startswith(f"{year}-")]
        kpis.append(
            {
                "name": kpi["metric_name"],
                "direction": f"{kpi['direction']} is better",
                "target": fmt.figure(kpi["target"], kpi["decimals"], kpi["unit"]),
                "baseline": (
                    fmt.figure(kpi["baseline"], kpi["decimals"], kpi["unit"])
                    + f" ({kpi['baseline_period_label']})"
                    if kpi["baseline"] is not None
                    else f"None. {kpi['baseline_note']}"
                ),
                "quarters": [
                    {
                        "period": r["period_label"],
                        "figure": (
                            "No figure"
                            if r["figure"] is None
                            else fmt.figure(r["figure"], kpi["decimals"], kpi["unit"])
                        ),
                        "computed": r["computed_label"],
                        "rating": r["rating_label"],
                        "overridden": r["overridden"],
                        "reason": r["reason"] or "",
                    }
                    for r in rows
                ],
            }
        )
    volumes = "; ".join(drivers.volume_texts(detail["annual_volumes"])) or "None given"
    return {
        "kind": "contract_performance",
        "title": f"Contract performance {year}: {detail['title']}",
        "year": year,
        "period": {"code": str(year)},
        "contract": {
            "id": detail["id"],
            "title": detail["title"],
            "buyer": detail["buyer"]["name"],
            "centre": detail["centre"]["name"],
            "value": formatting.money(detail["value"]),
            "starts_on": fmt.date_text(detail["starts_on"]),
            "ends_on": fmt.date_text(detail["ends_on"]),
            "volumes": volumes or "None given",
        },
        "kpis": kpis,
    }


def dated(contract: Contract) -> datetime:
    """The latest rating or override of the contract, else the award."""
    moments = [contract.awarded_at]
    for rated_at, overridden_at in db.session.execute(
        db.select(KpiRating.rated_at, KpiRating.overridden_at).where(
            KpiRating.kpi_id.in_([k.id for k in contract.kpis])
        )
    ):
        moments.extend(m for m in (rated_at, overridden_at) if m is not None)
    return max(moments)


def performance_pdf(contract: Contract, year: int) -> tuple[StoredFile, str]:
    """The stored PDF for this contract and year (rendered on first use) and its name."""
    data = primitives(contract, year)
    moment = dated(contract)
    filename = f"contract-{contract.public_id}-{year}.pdf"
    author = data["contract"]["buyer"]
    return private_pdfs.stored_pdf("contracts", TEMPLATE, data, moment, author), filename
