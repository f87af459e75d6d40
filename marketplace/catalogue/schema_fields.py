"""Field helpers every catalogue schema shares: CodeLabel, Grouped and Share (how stored
codes, column groups and percentages are written) and blank_or. Loading and its errors are
marketplace/web/forms.py's."""

from __future__ import annotations

from marshmallow import Schema, fields
from marshmallow.validate import Range


def blank_or(validator):
    """Allow an empty string (the field was cleared) or a value the validator accepts."""

    def validate(value):
        if value == "":
            return True
        return validator(value)

    return validate


class CodeLabelSchema(Schema):
    code = fields.String(metadata={"description": "Stable code, for filters and scripts."})
    label = fields.String(metadata={"description": "The words to show a person."})


class CodeLabel(fields.Nested):
    """A stored code dumped as {code, label}."""

    def __init__(self, labels: dict[str, str], **kwargs):
        super().__init__(CodeLabelSchema, **kwargs)
        self.labels = labels

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return {"code": value, "label": self.labels.get(value, value)}


class Grouped(fields.Nested):
    """Dumps some of the object's own columns as one JSON object (ownership, contact…)."""

    def get_value(self, obj, attr, accessor=None, default=None):
        return obj


class Share(fields.Decimal):
    """A percentage held exactly as Decimal, written to JSON as a number."""

    def __init__(self, **kwargs):
        super().__init__(
            places=2, validate=Range(0, 100, error="Enter a share from 0 to 100."), **kwargs
        )

    def _serialize(self, value, attr, obj, **kwargs):
        number = super()._serialize(value, attr, obj, **kwargs)
        return None if number is None else float(number)
