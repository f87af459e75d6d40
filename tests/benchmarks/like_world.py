"""A world for like-with-like tests: centres of every business model, size and platform.

Two metrics in 2026-Q2 (published) and 2026-Q3 (closed): ap_cost_per_invoice (£, lower is
better, finance) and invoice_exception_rate (%, lower is better, finance). Values are drawn
from a seeded generator, so a test can work out any group's members and statistics itself.

Besides the personas' centre-a and centre-b (joint ventures, integrated delivery centres,
Oracle Fusion, 25,000 employees served), the world holds centres that a narrowed group must
leave out, because they are not in the standard group at all: one that does not offer
finance, and one accredited only after the periods ended.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from marketplace import clock
from marketplace.benchmarks import peers
from marketplace.extensions import db
from tests.factories import (
    MetricFactory,
    ObservationFactory,
    OrganisationFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
    ServiceLineFactory,
)

# slug: (business model, delivery model, platform, employees served)
CENTRES = {
    "mutual-1": ("employee_owned_mutual", "integrated_centres", "Oracle HCM Cloud", 5_000),
    "mutual-2": ("employee_owned_mutual", "integrated_centres", "Oracle HCM Cloud", 12_000),
    "mutual-3": ("employee_owned_mutual", "virtual", "SAP S/4HANA", 20_000),
    "mutual-4": ("employee_owned_mutual", "virtual", "Oracle HCM Cloud", 20_001),
    "mutual-5": ("employee_owned_mutual", "integrated_centres", "oracle hcm cloud", 8_000),
    "mutual-6": ("employee_owned_mutual", "integrated_centres", "Oracle HCM Cloud", 4_999),
    "mutual-7": ("employee_owned_mutual", "virtual", "Unit4", None),
    "mutual-8": ("employee_owned_mutual", "integrated_centres", "Unit4", 15_500),
    "private-1": ("private", "virtual", "SAP S/4HANA", 60_000),
    "private-2": ("private", "virtual", "SAP S/4HANA", 50_000),
    "private-3": ("private", "integrated_centres", "SAP S/4HANA", 50_001),
    "private-4": ("private", "virtual", "Unit4", 3_000),
    "public-1": ("public_in_house", "integrated_centres", "Oracle Fusion", 15_000),
    "public-2": ("public_in_house", "integrated_centres", "Oracle Fusion", 18_000),
    "public-3": ("public_in_house", "virtual", "Oracle Fusion", 100),
}
# In the data, never in a peer group.
NO_FINANCE = "mutual-no-finance"
LATE = "mutual-late"
PERSONA_ATTRIBUTES = ("joint_venture", "integrated_centres", "Oracle Fusion", 25_000)


@dataclass
class LikeWorld:
    cost: object
    exceptions: object
    q2: object
    q3: object
    attributes: dict[str, tuple] = field(default_factory=dict)  # slug -> as CENTRES
    values: dict[tuple[str, str, str], Decimal] = field(
        default_factory=dict
    )  # metric, period, slug
    centres: dict[str, object] = field(default_factory=dict)

    def members(self, metric_code: str, period_code: str, keep) -> list[str]:
        """The standard group's slugs (every peer but the two outsiders) that `keep` keeps."""
        return sorted(
            slug
            for (code, period, slug) in self.values
            if code == metric_code
            and period == period_code
            and slug not in (NO_FINANCE, LATE)
            and keep(*self.attributes[slug])
        )


def build_like_world(personas) -> LikeWorld:
    finance = ServiceLineFactory(code="finance", name="Finance", position=1)
    cost = MetricFactory(
        code="ap_cost_per_invoice", name="AP cost per invoice", service_line=finance
    )
    exceptions = MetricFactory(
        code="invoice_exception_rate",
        name="Invoice exception rate",
        service_line=finance,
        unit="percent",
        direction="lower",
        valid_max=Decimal("100"),
        scale=Decimal("100"),
        is_share=True,
        decimals=1,
        position=2,
    )
    q2 = ReportingPeriodFactory(
        year=2026, quarter=2, status="published", published_at=clock.now() - timedelta(days=60)
    )
    q3 = ReportingPeriodFactory(year=2026, quarter=3, status="closed")
    world = LikeWorld(cost, exceptions, q2, q3)
    world.centres = {"centre-a": personas["centre"], "centre-b": personas["other_centre"]}
    world.attributes = {"centre-a": PERSONA_ATTRIBUTES, "centre-b": PERSONA_ATTRIBUTES}
    for slug, attributes in CENTRES.items():
        world.centres[slug] = _centre(slug, *attributes)
        world.attributes[slug] = attributes
    world.centres[NO_FINANCE] = _centre(
        NO_FINANCE,
        "employee_owned_mutual",
        "integrated_centres",
        "Oracle HCM Cloud",
        10_000,
        lines=["payroll"],
    )
    world.attributes[NO_FINANCE] = ("employee_owned_mutual", "integrated_centres", "x", 10_000)
    world.centres[LATE] = _centre(
        LATE,
        "employee_owned_mutual",
        "integrated_centres",
        "Oracle HCM Cloud",
        10_000,
        accredited_from=clock.today() - timedelta(days=30),
    )
    world.attributes[LATE] = ("employee_owned_mutual", "integrated_centres", "x", 10_000)
    rng = random.Random(20261202)
    for period in (q2, q3):
        for slug, centre in world.centres.items():
            for metric, low, high in ((cost, 1.5, 9.0), (exceptions, 5.0, 40.0)):
                value = Decimal(f"{rng.uniform(low, high):.2f}")
                if slug == "public-3" and metric is cost:
                    value = Decimal("4.00")  # ties with mutual-2 below
                if slug == "mutual-2" and metric is cost:
                    value = Decimal("4.00")
                ObservationFactory(centre=centre, metric=metric, period=period, value=value)
                world.values[metric.code, period.code, slug] = value
    peers.recompute_all()
    db.session.commit()
    return world


def _centre(slug, business, delivery, platform, employees, *, lines=None, accredited_from=None):
    extra = {"accredited_from": accredited_from} if accredited_from else {}
    return ServiceCentreFactory(
        organisation=OrganisationFactory(centre=True, slug=slug, name=f"{slug.title()} Services"),
        business_model=business,
        delivery_model=delivery,
        platform=platform,
        employees_served=employees,
        lines=lines if lines is not None else ["finance"],
        **extra,
    )
