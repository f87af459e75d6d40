"""E-mail addresses: one address means one mailbox.

Every door that accepts an address (sign-in, registration, password reset, invitations, the
users admin, `create-user`, the fixtures' users.csv) loads it through `EmailAddress`, which
calls `normalise`. An address is refused unless it is exactly one plain mailbox: no list
("a@evil.example,b@ok.example" would pass a check of the text after the last @ and then be
delivered to both), no display name or angle brackets, no quotes or comments, no white space
and no control characters (a CR/LF would reach the mail headers). The syntax itself is
checked by email-validator, without looking the domain up.

A shared module: it imports no area (mail checks the stored recipient with it too).
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from marshmallow import fields

MAX_LENGTH = 320
INVALID = "Enter an email address like name@example.gov.uk."
# Characters that make one string more than one plain mailbox.
_NOT_IN_A_MAILBOX = frozenset(',;:<>"()[]\\')


class AddressNotValid(ValueError):
    pass


def normalise(text: str | None) -> str:
    """The address in the one form we store (lower case), or AddressNotValid."""
    address = (text or "").strip()
    if not address:
        raise AddressNotValid("Enter an email address.")
    if len(address) > MAX_LENGTH or any(
        char.isspace() or not char.isprintable() or char in _NOT_IN_A_MAILBOX for char in address
    ):
        raise AddressNotValid(INVALID)
    try:
        result = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise AddressNotValid(INVALID) from None
    return (result.ascii_email or result.normalized).lower()


def is_plain(address: str) -> bool:
    """True when the text is already one normalised mailbox (what the sender checks)."""
    try:
        return normalise(address) == address
    except AddressNotValid:
        return False


class EmailAddress(fields.String):
    """The marshmallow field every schema accepting an address uses."""

    default_error_messages = {"invalid": INVALID}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text.strip():
            raise self.make_error("required")
        try:
            return normalise(text)
        except AddressNotValid:
            raise self.make_error("invalid") from None
