"""Joining the marketplace: the buyer email-domain allow-list, invitations sent by admins,
and buyers registering themselves with an address on an allowed domain.

Self-registration proves the address first: the person asks, we email a single-use link,
and only the holder of that link chooses a password and their department or ALB. So an
account exists only for an address whose owner has read our email. Callers commit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from marketplace.accounts import email_links, membership
from marketplace.accounts import services as accounts
from marketplace.accounts.models import ROLE_ORG_KINDS, EmailDomain, Organisation, User
from marketplace.audit import services as audit
from marketplace.errors import Conflict, FieldError, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.mail import services as mail

INVITATION_LIFETIME = timedelta(days=7)
REGISTRATION_LIFETIME = timedelta(hours=48)
# At most this many address checks a day per address, so nobody can bomb an inbox.
MAX_REGISTRATION_EMAILS = 3
DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

LinkBuilder = Callable[[str], str]


# --- the allow-list ------------------------------------------------------------------------


def normalise_domain(text: str) -> str:
    domain = (text or "").strip().lower().lstrip("@").rstrip(".")
    if not DOMAIN.match(domain):
        raise ValidationFailed(
            "That is not an email domain.",
            errors=[FieldError("Enter a domain like example.gov.uk (without the @).", "domain")],
        )
    return domain


def allowed_domains() -> list[EmailDomain]:
    return list(db.session.execute(db.select(EmailDomain).order_by(EmailDomain.domain)).scalars())


def domain_of(email: str) -> str:
    return accounts.normalise_email(email).rpartition("@")[2]


def matching_domain(email: str) -> EmailDomain | None:
    """The allow-list entry admitting an address: its own domain or a parent domain."""
    domain = domain_of(email)
    if not domain:
        return None
    labels = domain.split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    return db.session.execute(
        db.select(EmailDomain)
        .where(EmailDomain.domain.in_(candidates))
        .order_by(EmailDomain.domain.desc())
        .limit(1)
    ).scalar_one_or_none()


def is_allowed(email: str) -> bool:
    return matching_domain(email) is not None


def get_domain(domain: str) -> EmailDomain:
    row = db.session.execute(
        db.select(EmailDomain).where(EmailDomain.domain == (domain or "").lower())
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"'{domain}' is not on the allow-list.")
    return row


def add_domain(
    domain: str,
    *,
    description: str = "",
    organisations: list[str] | None = None,
    actor=None,
    actor_label: str | None = None,
) -> EmailDomain:
    """Allow a domain, naming the organisations (slugs) its people may ask to join; the actor
    is an admin, or None with a label for the CLI and fixtures."""
    domain = normalise_domain(domain)
    if db.session.execute(db.select(EmailDomain.id).where(EmailDomain.domain == domain)).first():
        raise Conflict(
            f"{domain} is already allowed.",
            errors=[FieldError(f"{domain} is already on the list.", "domain")],
        )
    row = EmailDomain(
        domain=domain,
        description=(description or "").strip()[:300],
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "email_domain.added",
        actor=actor,
        actor_label=actor_label,
        object_type="email_domain",
        object_id=domain,
        detail={"description": row.description},
    )
    if organisations:
        set_domain_organisations(row, organisations, actor=actor, actor_label=actor_label)
    return row


def remove_domain(row: EmailDomain, *, actor, reason: str) -> None:
    """Stops new self-registrations from the domain; existing accounts are not touched."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Give the reason.",
            errors=[FieldError("Give the reason to remove this domain.", "reason")],
        )
    audit.record(
        "email_domain.removed",
        actor=actor,
        object_type="email_domain",
        object_id=row.domain,
        detail={"description": row.description, "reason": reason},
    )
    db.session.delete(row)
    db.session.flush()


def joinable_organisations(email: str) -> list[Organisation]:
    """The departments and ALBs the address's allow-list entry names, in buyer order; all of
    them when it names none. Empty when the domain is not (or no longer) allowed."""
    entry = matching_domain(email)
    if entry is None:
        return []
    everyone = buyer_organisations()
    if not entry.organisations:
        return everyone
    named = {org.id for org in entry.organisations}
    return [org for org in everyone if org.id in named]


def set_domain_organisations(
    row: EmailDomain, slugs: list[str], *, actor=None, actor_label: str | None = None
) -> EmailDomain:
    """Name the buyer organisations a domain's people may ask to join (none: any)."""
    chosen: list[Organisation] = []
    for slug in dict.fromkeys(s.strip() for s in slugs if s and s.strip()):
        org = accounts.get_organisation_or_none(slug)
        if org is None or org.kind not in ROLE_ORG_KINDS["buyer"]:
            raise ValidationFailed(
                "Choose departments or arm's-length bodies.",
                errors=[
                    FieldError(
                        f"'{slug}' is not a department or arm's-length body.", "organisations"
                    )
                ],
            )
        chosen.append(org)
    before = sorted(org.slug for org in row.organisations)
    after = sorted(org.slug for org in chosen)
    if before == after:
        return row
    row.organisations = chosen
    db.session.flush()
    audit.record(
        "email_domain.organisations_changed",
        actor=actor,
        actor_label=actor_label,
        object_type="email_domain",
        object_id=row.domain,
        detail={"before": before, "after": after},
    )
    return row


def buyer_organisations() -> list[Organisation]:
    """Departments and their ALBs, each department followed by its ALBs."""
    everyone = list(
        db.session.execute(
            db.select(Organisation).where(Organisation.kind.in_(("department", "alb")))
        ).scalars()
    )
    by_parent: dict[int | None, list[Organisation]] = {}
    for org in everyone:
        by_parent.setdefault(org.parent_id, []).append(org)
    out: list[Organisation] = []
    for department in sorted(by_parent.get(None, []), key=lambda o: o.name):
        out.append(department)
        out.extend(sorted(by_parent.get(department.id, []), key=lambda o: o.name))
    return out


# --- invitations ---------------------------------------------------------------------------


def invite(
    email: str,
    *,
    organisation: Organisation,
    role: str,
    name: str = "",
    actor,
    link: LinkBuilder,
):
    """Email a person a link to set up an account with this role in this organisation."""
    email = accounts.checked_email(email)
    if role not in ROLE_ORG_KINDS or organisation.kind not in ROLE_ORG_KINDS[role]:
        allowed = " or ".join(ROLE_ORG_KINDS.get(role, ()))
        raise ValidationFailed(
            "The role does not fit the organisation.",
            errors=[
                FieldError(
                    f"A {role} account must belong to a {allowed} organisation; "
                    f"{organisation.name} is a {organisation.kind}.",
                    "role",
                )
            ],
        )
    if accounts.get_user_by_email(email) is not None:
        raise Conflict(
            f"{email} already has an account.",
            errors=[FieldError("This person already has an account.", "email")],
        )
    row, secret = email_links.issue(
        "invitation",
        email,
        lifetime=INVITATION_LIFETIME,
        organisation=organisation,
        role=role,
        name=(name or "").strip(),
        actor=actor,
    )
    mail.queue(
        email,
        "You are invited to the shared-services marketplace",
        "invitation",
        name=row.name,
        organisation=organisation.name,
        role=role,
        link=link(secret),
        inviter=actor.name or actor.email,
        expires_at=row.expires_at,
    )
    audit.record(
        "user.invited",
        actor=actor,
        organisation_id=organisation.id,
        object_type="user",
        object_id=email,
        detail={"role": role, "organisation": organisation.slug, "expires_at": row.expires_at},
    )
    return row


def accept_invitation(secret: str, *, name: str, password: str) -> User:
    row = email_links.find("invitation", secret, lock=True)
    user = accounts.create_user(
        email=row.email,
        organisation=row.organisation,
        role=row.role,
        password=password,
        name=(name or row.name).strip(),
        actor_label=row.email,
    )
    email_links.use(row)
    audit.record(
        "user.invitation_accepted",
        actor=user,
        object_type="user",
        object_id=user.email,
        detail={"role": user.role, "organisation": row.organisation.slug},
    )
    return user


# --- buyers registering themselves -------------------------------------------------------


def request_registration(email: str, *, link: LinkBuilder, sign_in_link: str) -> None:
    """Check the domain and email the address a link; the answer on screen is always the same
    for an allowed domain, so nobody learns whether an address already has an account."""
    # One mailbox only: a list such as "a@evil.example,b@allowed.gov.uk" is refused here,
    # before the allow-list reads the domain.
    email = accounts.checked_email(email)
    if not is_allowed(email):
        raise ValidationFailed(
            "That email domain cannot register.",
            errors=[
                FieldError(
                    f"Addresses ending @{domain_of(email)} cannot register themselves. Use your "
                    "work address at a government organisation, or ask the accreditation "
                    "authority to invite you.",
                    "email",
                )
            ],
        )
    if (
        email_links.recent_count("registration", email, timedelta(days=1))
        >= MAX_REGISTRATION_EMAILS
    ):
        audit.record(
            "registration.throttled", actor_label=email, object_type="user", object_id=email
        )
        return
    existing = accounts.get_user_by_email(email)
    if existing is not None:
        # Counted as a registration email too, and tells the owner rather than the asker.
        email_links.issue("registration", email, lifetime=timedelta(seconds=1))
        mail.queue(
            email,
            "You already have an account",
            "registration_exists",
            sign_in_link=sign_in_link,
        )
        audit.record(
            "registration.existing_account", actor_label=email, object_type="user", object_id=email
        )
        return
    row, secret = email_links.issue("registration", email, lifetime=REGISTRATION_LIFETIME)
    mail.queue(
        email,
        "Confirm your email address",
        "registration",
        link=link(secret),
        expires_at=row.expires_at,
    )
    audit.record("registration.requested", actor_label=email, object_type="user", object_id=email)


def registration_email(secret: str) -> str:
    """The address a registration link was sent to (for the page that completes it)."""
    return email_links.find("registration", secret).email


def complete_registration(
    secret: str,
    *,
    name: str,
    password: str,
    organisation_slug: str,
    decision_link: LinkBuilder | None = None,
) -> User:
    """Make the account and its request to join the chosen organisation, which waits for that
    organisation's approvers or an admin (accounts.membership): until then the account can
    sign in but do nothing buyer-specific."""
    row = email_links.find("registration", secret, lock=True)
    if not is_allowed(row.email):  # the domain may have been removed since the email
        raise ValidationFailed(
            "That email domain can no longer register.",
            errors=[FieldError("Ask the accreditation authority to invite you.", "email")],
        )
    joinable = {org.slug: org for org in joinable_organisations(row.email)}
    organisation = joinable.get(organisation_slug or "")
    if organisation is None:
        raise ValidationFailed(
            "Choose your organisation.",
            errors=[
                FieldError(
                    "Choose your department or arm's-length body from the list.", "organisation"
                )
            ],
        )
    if not (name or "").strip():
        raise ValidationFailed(
            "Enter your name.", errors=[FieldError("Enter your full name.", "name")]
        )
    user = accounts.create_user(
        email=row.email,
        organisation=organisation,
        role="buyer",
        password=password,
        name=name.strip(),
        actor_label=row.email,
    )
    email_links.use(row)
    domain = matching_domain(row.email).domain
    audit.record(
        "user.registered",
        actor=user,
        object_type="user",
        object_id=user.email,
        detail={"organisation": organisation.slug, "domain": domain},
    )
    membership.ask_to_join(user, organisation, domain=domain, link=decision_link)
    return user
