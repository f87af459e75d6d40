"""What each accreditation action takes: one body per action, told apart by `action`.

The API documents them as a `oneOf` with a discriminator on `action`, so that a client reads
in the OpenAPI document exactly which fields each action needs: `accredit` and `renew` a
`valid_until`, `suspend`, `reinstate` and `withdraw` a reason that is not blank. Each body is
closed: a field another action takes (a `valid_until` sent with `suspend`) is refused rather
than silently ignored.

What no body can say stays with the service (catalogue.accreditation.change), which every
door calls: whether the action is open from the centre's status today, and whether a renewal
extends the validity it has (both 409 Conflict: they depend on the centre's state); and the
two date rules JSON Schema cannot state, `valid_until` not before today and not before
`valid_from` (422 on `valid_until`).
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields
from marshmallow.validate import Length, OneOf, Regexp

from marketplace.catalogue.accreditation import ACTIONS, REASON_MAX_LENGTH, REASON_TOO_LONG
from marketplace.errors import FieldError, ValidationFailed
from marketplace.input_guard import NON_BLANK_TEXT_PATTERN
from marketplace.web import forms
from marketplace.web.fields import IsoDate

DATE_FORMAT = "Enter the date as YYYY-MM-DD, for example 2027-03-31."
REASON = "Why: shown in the accreditation history, and to the centre."


def _action(name: str) -> fields.String:
    return fields.String(
        required=True,
        validate=OneOf([name]),
        metadata={"description": f"`{name}`."},
    )


def _optional_reason() -> fields.String:
    return fields.String(
        load_default="",
        validate=Length(max=REASON_MAX_LENGTH, error=REASON_TOO_LONG),
        metadata={"description": REASON},
    )


def _required_reason(verb: str) -> fields.String:
    message = f"Give the reason to {verb} this centre."
    return fields.String(
        required=True,
        validate=[
            Length(max=REASON_MAX_LENGTH, error=REASON_TOO_LONG),
            Regexp(NON_BLANK_TEXT_PATTERN, error=message),
        ],
        error_messages={"required": message, "null": message},
        metadata={"description": REASON},
    )


def _valid_until(what: str) -> IsoDate:
    return IsoDate(
        required=True,
        error_messages={
            "required": f"Enter {what}.",
            "null": f"Enter {what}.",
            "invalid": DATE_FORMAT,
        },
        metadata={"description": "Last day of validity: today or later."},
    )


class _ChangeSchema(Schema):
    class Meta:
        unknown = RAISE

    error_messages = {"unknown": "This field does not apply to this action."}


class AccreditChangeSchema(_ChangeSchema):
    """Accredit an applicant (applied → accredited)."""

    action = _action("accredit")
    valid_from = IsoDate(
        load_default=None,
        allow_none=True,
        error_messages={"invalid": DATE_FORMAT},
        metadata={"description": "First day of validity; today when left out."},
    )
    valid_until = _valid_until("the date the accreditation is valid until")
    reason = _optional_reason()


class SuspendChangeSchema(_ChangeSchema):
    """Suspend an accredited centre (accredited → suspended)."""

    action = _action("suspend")
    reason = _required_reason("suspend")


class ReinstateChangeSchema(_ChangeSchema):
    """Reinstate a suspended centre (suspended → accredited)."""

    action = _action("reinstate")
    reason = _required_reason("reinstate")


class WithdrawChangeSchema(_ChangeSchema):
    """Withdraw a centre's accreditation (accredited, expired or suspended → withdrawn)."""

    action = _action("withdraw")
    reason = _required_reason("withdraw")


class RenewChangeSchema(_ChangeSchema):
    """Renew an accreditation (accredited or expired → accredited, a later `valid_until`)."""

    action = _action("renew")
    valid_until = _valid_until("the new date the accreditation is valid until")
    reason = _optional_reason()


CHANGE_SCHEMAS: dict[str, type[_ChangeSchema]] = {
    "accredit": AccreditChangeSchema,
    "suspend": SuspendChangeSchema,
    "reinstate": ReinstateChangeSchema,
    "withdraw": WithdrawChangeSchema,
    "renew": RenewChangeSchema,
}


def load_change(data) -> dict:
    """The change as keyword arguments of accreditation.change (with `action`), or a
    ValidationFailed naming each field that is wrong for the action sent."""
    if not isinstance(data, dict):
        raise ValidationFailed(
            "Send the change as a JSON object.",
            errors=[FieldError("Send an object with an `action`.", field=None)],
        )
    action = data.get("action")
    schema = CHANGE_SCHEMAS.get(action) if isinstance(action, str) else None
    if schema is None:
        raise ValidationFailed(
            "Say which change to make.",
            errors=[FieldError(f"Choose one of: {', '.join(ACTIONS)}.", field="action")],
        )
    return forms.load(schema(), data, "Check the details of the change: see errors.")
