"""What goes in and out of the accounts area: sign-in, new users, API tokens.

The same schemas parse the web forms and the CLI arguments, so both give the same messages.
Rules that need the database (an email already taken, a role that does not fit the
organisation) stay in accounts.services.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from marketplace.accounts.models import JOIN_REASON_MAX, ROLES
from marketplace.accounts.services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from marketplace.accounts.tokens import TOKEN_NAME_MAX
from marketplace.addresses import EmailAddress


class Trimmed(fields.String):
    """A string with surrounding white space removed; blank counts as missing."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text and self.required:
            raise self.make_error("required")
        return text


def _required(message: str) -> dict:
    return {"required": message, "null": message}


class LoginSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # the CSRF token and the submit button travel with the form

    email = EmailAddress(required=True, error_messages=_required("Enter your email address."))
    # Passwords are taken exactly as typed: spaces can be part of them.
    password = fields.String(
        required=True,
        validate=validate.Length(min=1, error="Enter your password."),
        error_messages=_required("Enter your password."),
    )


class NewUserSchema(Schema):
    email = EmailAddress(required=True, error_messages=_required("Enter an email address."))
    role = fields.String(
        required=True,
        validate=validate.OneOf(ROLES, error="Choose buyer, centre or admin."),
        error_messages=_required("Choose buyer, centre or admin."),
    )
    name = Trimmed(
        load_default="",
        validate=validate.Length(max=200, error="Enter a name of 200 characters or fewer."),
    )
    password = fields.String(
        required=True,
        validate=validate.Length(
            min=MIN_PASSWORD_LENGTH,
            max=MAX_PASSWORD_LENGTH,
            error=(
                f"Enter a password of between {MIN_PASSWORD_LENGTH} and "
                f"{MAX_PASSWORD_LENGTH} characters."
            ),
        ),
        error_messages=_required("Enter a password."),
    )


class AddressSchema(Schema):
    """One address on its own: registering, and asking for a password reset."""

    class Meta:
        unknown = EXCLUDE

    email = EmailAddress(
        required=True, error_messages=_required("Enter the email address you sign in with.")
    )


class NewTokenSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    name = Trimmed(
        required=True,
        validate=validate.Length(
            max=TOKEN_NAME_MAX,
            error=f"Enter a name of {TOKEN_NAME_MAX} characters or fewer.",
        ),
        error_messages=_required("Enter a name for the token, such as 'Quarterly upload'."),
    )


class JoinDecisionSchema(Schema):
    """An approver's answer to a request to join: approve, or refuse with a reason."""

    class Meta:
        unknown = EXCLUDE

    decision = fields.String(
        required=True,
        validate=validate.OneOf(("approve", "refuse"), error="Choose approve or refuse."),
        error_messages=_required("Choose approve or refuse."),
    )
    reason = Trimmed(
        load_default="",
        validate=validate.Length(
            max=JOIN_REASON_MAX, error=f"Enter a reason of {JOIN_REASON_MAX} characters or fewer."
        ),
    )

    @validates_schema
    def _refusal_needs_a_reason(self, data, **kwargs):
        if data.get("decision") == "refuse" and not data.get("reason"):
            raise ValidationError(
                "Give the reason for refusing; the person will see it.", field_name="reason"
            )
