"""The sites and certifications of /centre/profile as rows of a plain HTML form.

The page works without JavaScript, so each list is a fixed set of rows: one per saved entry,
each with a Remove checkbox, then a few blank rows for new entries. A row's inputs are named
`<list>-<row>-<field>` (`sites-2-town`), and two hidden inputs say how many rows the page
showed (`sites-rows`) and how many of them were saved entries (`sites-saved`). A page without
them leaves the list alone, as a PATCH without the list does.

Reading the rows gives the list CentreUpdateSchema reads, exactly as the API takes it (each
value trimmed, nothing else changed), so the schema decides what is valid and says why. A
saved row stays in the list unless Remove is ticked, even if cleared (so clearing it is an
error, not a silent removal); a new row left blank is ignored. The schema numbers list items
as they were sent ('sites.1.name'), which is not the row's number on the page once rows are
removed or left blank; `Rows.anchor` maps an error back to the input the person typed into.

A date (a certification's expiry) is a GOV.UK date input of three boxes
(`certifications-0-expires_on-day`, `-month`, `-year`, read by marketplace.web.dates): the
schema gets it as YYYY-MM-DD, as the API sends it, and a date the boxes do not make is
explained by the date input's own message in the schema's place for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from marketplace.errors import FieldError
from marketplace.web import dates

# More rows than any page shows; a post claiming more is cut to this many.
MAX_ROWS = 200


@dataclass(frozen=True)
class ListSpec:
    name: str  # the CentreUpdateSchema field, and the prefix of the inputs
    fields: tuple[str, ...]  # the item's fields, in the order the page shows them
    distinct: str  # the field the schema wants different in every item
    # The fields that are date inputs, with how a message names them ("the expiry date").
    date_labels: dict[str, str] = field(default_factory=dict)
    item: str = "entry"  # what one row is, as its legend says ("certification")

    def inputs(self, name: str) -> tuple[str, ...]:
        """The suffixes of the inputs of one field: itself, or a date input's three boxes."""
        return dates.input_names(name) if name in self.date_labels else (name,)

    @property
    def all_inputs(self) -> tuple[str, ...]:
        return tuple(suffix for name in self.fields for suffix in self.inputs(name))


SITES = ListSpec("sites", ("name", "town", "region"), distinct="name")
CERTIFICATIONS = ListSpec(
    "certifications",
    ("scheme", "reference", "expires_on"),
    "scheme",
    date_labels={"expires_on": "the expiry date"},
    item="certification",
)


def input_id(spec: ListSpec, index: int, field: str) -> str:
    return f"{spec.name}-{index}-{field}"


@dataclass(frozen=True)
class Row:
    index: int  # position on the page, in the inputs' names
    number: int  # 1-based among saved rows, or among new rows, for the legend
    saved: bool
    values: dict[str, str]  # by input suffix: 'name', or a date's 'expires_on-day'…
    remove: bool = False

    @property
    def blank(self) -> bool:
        return not any(value.strip() for value in self.values.values())


@dataclass(frozen=True)
class Rows:
    spec: ListSpec
    rows: list[Row]

    @property
    def saved_count(self) -> int:
        return sum(1 for row in self.rows if row.saved)

    @property
    def sent(self) -> list[Row]:
        """The rows that become list items: saved ones not removed, new ones not blank."""
        return [row for row in self.rows if (not row.remove if row.saved else not row.blank)]

    def reading(self, row: Row, name: str) -> dates.DateReading:
        prefix = input_id(self.spec, row.index, name)
        boxes = {f"{prefix}-{part}": row.values[f"{name}-{part}"] for part in dates.PARTS}
        # Named as the row's legend names it, since every row repeats the same boxes.
        item = self.spec.item if row.saved else f"new {self.spec.item}"
        label = f"{self.spec.date_labels[name]} of {item} {row.number}"
        return dates.read(boxes, prefix, label, required=True)

    def readings(self) -> dict[str, dates.DateReading]:
        """The date inputs of the rows sent, by the schema's field ('certifications.0.…')."""
        return {
            f"{self.spec.name}.{position}.{name}": self.reading(row, name)
            for position, row in enumerate(self.sent)
            for name in self.spec.date_labels
        }

    def payload(self) -> list[dict[str, str]]:
        return [
            {
                name: (
                    self.reading(row, name).schema_value()
                    if name in self.spec.date_labels
                    else row.values[name].strip()
                )
                for name in self.spec.fields
            }
            for row in self.sent
        ]

    def with_date_errors(self, errors: list[FieldError]) -> list[FieldError]:
        """The schema's errors, each date it could not take explained by its date input."""
        return dates.with_date_errors(errors, self.readings())

    def form_values(self) -> dict[str, str]:
        """The rows as the page's flat input values (`sites-0-name`: 'Head office')."""
        values = {}
        for row in self.rows:
            for suffix in self.spec.all_inputs:
                values[input_id(self.spec, row.index, suffix)] = row.values[suffix]
            if row.remove:
                values[input_id(self.spec, row.index, "remove")] = "yes"
        return values

    def anchor(self, field: str) -> str | None:
        """The id of the input a schema error on this list belongs to; None if not this list.

        'sites.1.name' -> the name input of the second row sent; 'sites.1' -> that row's first
        input; 'sites' (the list as a whole: two items alike) -> the input of the first item
        that repeats an earlier one, else the first row's.
        """
        name, _, rest = field.partition(".")
        if name != self.spec.name:
            return None
        sent = self.sent
        position, _, item_field = rest.partition(".")
        if position.isdigit() and int(position) < len(sent):
            row = sent[int(position)]
            item_field = item_field if item_field in self.spec.fields else self.spec.fields[0]
            if item_field in self.spec.date_labels:
                return dates.anchor(input_id(self.spec, row.index, item_field))
            return input_id(self.spec, row.index, item_field)
        seen: set[str] = set()
        for row in sent:
            key = row.values[self.spec.distinct].strip().casefold()
            if key in seen:
                return input_id(self.spec, row.index, self.spec.distinct)
            seen.add(key)
        first = sent[0] if sent else (self.rows[0] if self.rows else None)
        if first is None:
            return self.spec.name
        return input_id(self.spec, first.index, self.spec.distinct)


def _entry_values(spec: ListSpec, entry: dict) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in spec.fields:
        if name in spec.date_labels:
            value = entry[name]
            values.update(dates.form_values(name, value if isinstance(value, date) else None))
        else:
            values[name] = entry[name]
    return values


def from_entries(spec: ListSpec, entries: list[dict], blanks: int) -> Rows:
    """The rows for the first view of the page: the saved entries (a date field's value a
    date), then blank rows."""
    rows = [
        Row(index=i, number=i + 1, saved=True, values=_entry_values(spec, entries[i]))
        for i in range(len(entries))
    ]
    rows += [
        Row(
            index=len(entries) + i,
            number=i + 1,
            saved=False,
            values=dict.fromkeys(spec.all_inputs, ""),
        )
        for i in range(blanks)
    ]
    return Rows(spec, rows)


def read(spec: ListSpec, form) -> Rows | None:
    """The rows a posted page showed, or None if it showed none of this list."""
    try:
        count = min(int(form.get(f"{spec.name}-rows", "")), MAX_ROWS)
        saved = int(form.get(f"{spec.name}-saved", ""))
    except ValueError:
        return None
    if count < 0 or saved < 0:
        return None
    saved = min(saved, count)
    rows = [
        Row(
            index=i,
            number=i + 1 if i < saved else i - saved + 1,
            saved=i < saved,
            values={suffix: form.get(input_id(spec, i, suffix), "") for suffix in spec.all_inputs},
            remove=i < saved and bool(form.get(input_id(spec, i, "remove"))),
        )
        for i in range(count)
    ]
    return Rows(spec, rows)
