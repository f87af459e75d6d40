"""Write a deterministic national-scale data set in the fixtures format.

    .venv/bin/python bench/generate.py [--centres 1000] [--quarters 40] [--out bench/data/national]

1,000 fictional centres, each offering all six service lines, so every metric of the library
(fixtures/demo/metrics.csv) for 40 quarters (2017-Q1 to 2026-Q4): about 1.3 million
observations. Statuses vary as they would nationally: most centres accredited throughout,
one in fifty each applied (no data), suspended, expired or withdrawn — those have data only
for the quarters they were accredited in. The same arguments always write the same bytes:
every random draw is seeded from a centre's slug. bench/data/ is git-ignored.

The directory is written beside the old one and swapped in when complete, with a marker
file (generated.txt) last; a complete, current copy is left alone unless --force is given.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from marketplace.benchmarks.periods import (  # noqa: E402
    code_for,
    codes_between,
    parse_code,
    quarter_bounds,
)
from marketplace.fixtures.demo import (  # noqa: E402
    CentreProfile,
    accredited_on,
    centre_rows,
    read_library,
    seeded,
    write_rows,
)

DEMO = ROOT / "fixtures" / "demo"
DEFAULT_OUT = ROOT / "bench" / "data" / "national"
# The data set is fixed relative to this day (the suite's frozen clock), like the demo.
AS_OF = date(2026, 11, 27)
LAST_QUARTER = "2026-Q4"
# Written last: its presence says the directory is complete. Bump the version when the
# generator's output changes, so existing copies are rewritten.
MARKER = "generated.txt"
FORMAT_VERSION = 1

PLACES_A = (
    "Ash", "Bramble", "Cold", "Dun", "Elder", "Fern", "Gold", "Hazel", "Ivy", "Juniper",
    "Kings", "Larch", "Mill", "North", "Oak", "Pine", "Quarry", "Raven", "Stone", "Thorn",
    "Under", "Vale", "West", "Yew", "High",
)  # fmt: skip
PLACES_B = ("moor", "field", "brook", "ford", "wick", "ham", "stead", "gate", "mere", "combe")
KINDS = ("Shared Services", "Business Services", "Service Centre", "Back Office Partnership")
REGIONS = (
    "North East", "North West", "Yorkshire and the Humber", "East Midlands", "West Midlands",
    "East of England", "London", "South East", "South West", "Wales", "Scotland",
    "Northern Ireland",
)  # fmt: skip
PLATFORMS = (
    "Oracle Fusion Cloud ERP",
    "SAP S/4HANA",
    "Workday",
    "Unit4 ERP",
    "Microsoft Dynamics 365",
)
SCHEMES = ("iso27001", "cyber_essentials_plus", "iso9001", "iso22301", "isae3402")
# business model -> ((employee, government, private), board seats)
MODELS = {
    "public_in_house": ((0, 100, 0), (0, 3, 5, 0, 1)),
    "joint_venture": ((0, 25, 75), (0, 2, 2, 4, 1)),
    "employee_owned_mutual": ((25, 35, 40), (3, 3, 3, 0, 1)),
    "private": ((0, 0, 100), (0, 0, 0, 5, 2)),
}
SERVICE_LINES = ("finance", "payroll", "hr", "procurement", "ict", "customer")


def centre_name(index: int) -> str:
    place = PLACES_A[index % len(PLACES_A)] + PLACES_B[(index // len(PLACES_A)) % len(PLACES_B)]
    kind = KINDS[(index // (len(PLACES_A) * len(PLACES_B))) % len(KINDS)]
    cycle = index // (len(PLACES_A) * len(PLACES_B) * len(KINDS))
    return f"{place} {kind}" + (f" {cycle + 1}" if cycle else "")


def slugify(name: str) -> str:
    return "-".join(name.lower().split())


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def history(index: int) -> list[dict]:
    """A plausible accreditation history; one in fifty each ends applied, suspended, expired
    or withdrawn."""
    fate = {7: "applied", 13: "withdrawn", 21: "suspended", 33: "expired"}.get(index % 50)
    applied_on = date(2016, 1, 4) + timedelta(days=index % 270)
    steps = [_step("apply", applied_on)]
    if fate == "applied":
        steps[0]["effective_on"] = date(2026, 6, 1) + timedelta(days=index % 120)
        return steps
    start = applied_on + timedelta(days=60)
    until = add_years(start, 3) - timedelta(days=1)
    steps.append(_step("accredit", start, valid_from=start, valid_until=until))
    while until < AS_OF:
        renew_on = until - timedelta(days=20)
        if fate == "expired" and until.year >= 2025:
            steps.append(_step("renew", renew_on, valid_until=date(2026, 3, 31)))
            return steps
        until = add_years(until, 3)
        steps.append(_step("renew", renew_on, valid_until=until))
    if fate == "suspended":
        steps.append(_step("suspend", date(2026, 8, 3), reason="Benchmark data under review."))
    if fate == "withdrawn":
        steps.append(_step("suspend", date(2025, 2, 10), reason="Service failures."))
        steps.append(_step("withdraw", date(2025, 5, 20), reason="Left the market."))
    return steps


def _step(action, effective_on, *, valid_from=None, valid_until=None, reason=""):
    return {
        "action": action,
        "effective_on": effective_on,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "reason": reason,
    }


def centre_entry(index: int, slug: str, name: str) -> dict:
    rng = seeded("catalogue", slug)
    model = tuple(MODELS)[index % len(MODELS)]
    ownership, seats = MODELS[model]
    employees = int(math.exp(rng.uniform(math.log(2_000), math.log(150_000))))
    sites = [
        {"name": f"{name} site {n}", "town": f"{name.split()[0]}", "region": rng.choice(REGIONS)}
        for n in range(1, rng.randint(1, 3) + 1)
    ]
    certifications = [
        {
            "scheme": scheme,
            "reference": f"{slug[:12].upper()}-{n}",
            "expires_on": (AS_OF + timedelta(days=rng.randint(10, 1100))).isoformat(),
        }
        for n, scheme in enumerate(rng.sample(SCHEMES, rng.randint(1, 4)), start=1)
    ]
    return {
        "slug": slug,
        "name": name,
        "summary": f"A fictional {model.replace('_', ' ')} centre generated for benchmarks.",
        "business_model": model,
        "ownership": dict(zip(("employee", "government", "private"), ownership, strict=True)),
        "governance": dict(
            zip(
                ("workforce", "customers", "government", "private_partner", "independent"),
                seats,
                strict=True,
            )
        ),
        "delivery_model": "virtual" if index % 3 == 0 else "integrated_centres",
        "sites": sites,
        "service_lines": list(SERVICE_LINES),
        "capacity": {
            "employees_served": employees,
            "transactions_per_year": employees * rng.randint(40, 90),
        },
        "platform": rng.choice(PLATFORMS),
        "certifications": certifications,
        "pricing": {"model": "Per transaction.", "drivers": "per invoice, per payslip"},
        "contact": {"name": "Bench Contact", "email": f"contact@{slug}.example", "phone": ""},
    }


def write_csv(path: Path, header, rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def generate(out: Path, centres: int, quarters: int) -> int:
    """Write the data set into a fresh directory, then swap it in; returns observations."""
    final, out = out, out.with_name(out.name + ".partial")
    if out.exists():
        shutil.rmtree(out)
    total = _write(out, centres, quarters)
    (out / MARKER).write_text(_stamp(centres, quarters), encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)
    out.rename(final)
    return total


def _stamp(centres: int, quarters: int) -> str:
    return json.dumps({"centres": centres, "quarters": quarters, "version": FORMAT_VERSION})


def up_to_date(out: Path, centres: int, quarters: int) -> bool:
    marker = out / MARKER
    return marker.exists() and marker.read_text(encoding="utf-8") == _stamp(centres, quarters)


def _write(out: Path, centres: int, quarters: int) -> int:
    year, quarter = parse_code(LAST_QUARTER)
    first = year * 4 + quarter - 1 - (quarters - 1)
    periods = codes_between(code_for(first // 4, first % 4 + 1), LAST_QUARTER)
    (out / "observations").mkdir(parents=True)
    shutil.copy(DEMO / "service_lines.csv", out / "service_lines.csv")
    shutil.copy(DEMO / "metrics.csv", out / "metrics.csv")
    library = read_library(out / "metrics.csv")
    departments = [(f"bench-department-{n:02d}", f"Bench Department {n}") for n in range(1, 21)]
    write_csv(
        out / "organisations.csv",
        ("slug", "name", "kind", "parent"),
        [("authority", "Bench Accreditation Authority", "authority", "")]
        + [(slug, name, "department", "") for slug, name in departments]
        + [
            (f"bench-alb-{n:03d}", f"Bench Agency {n}", "alb", departments[n % 20][0])
            for n in range(1, 201)
        ],
    )
    write_csv(
        out / "periods.csv",
        ("code", "status"),
        [(code, "open" if code == LAST_QUARTER else "closed") for code in periods],
    )
    entries, steps_out, total = [], [], 0
    for index in range(centres):
        name = centre_name(index)
        slug = slugify(name)
        entries.append(centre_entry(index, slug, name))
        steps = history(index)
        steps_out.extend(
            (
                slug,
                s["action"],
                s["effective_on"].isoformat(),
                s["valid_from"].isoformat() if s["valid_from"] else "",
                s["valid_until"].isoformat() if s["valid_until"] else "",
                s["reason"],
            )
            for s in steps
        )
        accredited = [
            code
            for code in periods
            if accredited_on(steps, min(quarter_bounds(*parse_code(code))[1], AS_OF))
        ]
        if accredited:
            entry = entries[-1]
            profile = CentreProfile(
                slug=slug,
                service_lines=tuple(entry["service_lines"]),
                employees_served=entry["capacity"]["employees_served"],
                transactions_per_year=entry["capacity"]["transactions_per_year"],
            )
            total += write_rows(
                out / "observations" / f"{slug}.csv", centre_rows(profile, library, accredited)
            )
    (out / "centres.json").write_text(
        json.dumps({"centres": entries}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    write_csv(
        out / "accreditations.csv",
        ("centre", "action", "effective_on", "valid_from", "valid_until", "reason"),
        steps_out,
    )
    return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--centres", type=int, default=1000)
    parser.add_argument("--quarters", type=int, default=40)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--force", action="store_true", help="rewrite even if up to date")
    args = parser.parse_args(argv)
    if not args.force and up_to_date(args.out, args.centres, args.quarters):
        print(f"{args.out} is up to date ({args.centres:,} centres, {args.quarters} quarters).")
        return
    started = time.perf_counter()
    total = generate(args.out, args.centres, args.quarters)
    elapsed = time.perf_counter() - started
    print(
        f"Wrote {args.centres:,} centres and {total:,} observations over {args.quarters} "
        f"quarters to {args.out} in {elapsed:.1f} s."
    )


if __name__ == "__main__":
    main()
