"""The migrations build exactly the schema the models describe, and the database holds the rules."""

from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from marketplace.extensions import db
from tests.factories import OrganisationFactory, ServiceCentreFactory, UserFactory


def test_models_and_migrations_do_not_drift(db_session):
    # Through the test's own connection: on SQLite a second one would wait for the write
    # lock that the test's transaction (BEGIN IMMEDIATE) holds.
    connection = db.session.connection()
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_as_batch": True}
    )
    diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ; run `make migration MESSAGE=...`: {diff}"


def test_ownership_shares_must_sum_to_100(db_session):
    with pytest.raises(IntegrityError), db_session.begin_nested():
        ServiceCentreFactory(
            ownership_employee=Decimal("50"),
            ownership_government=Decimal("30"),
            ownership_private=Decimal("10"),
        )


def test_ownership_thirds_are_accepted(db_session):
    centre = ServiceCentreFactory(
        ownership_employee=Decimal("33.33"),
        ownership_government=Decimal("33.33"),
        ownership_private=Decimal("33.34"),
    )
    assert centre.id


def test_email_is_unique_whatever_its_case(db_session):
    UserFactory(email="dup@example.gov.uk")
    with pytest.raises(IntegrityError), db_session.begin_nested():
        UserFactory(email="DUP@example.gov.uk".lower())
    with pytest.raises(IntegrityError), db_session.begin_nested():
        UserFactory(email="Mixed@Example.gov.uk")  # stored case must be lower


def test_an_alb_needs_a_parent_department(db_session):
    with pytest.raises(IntegrityError), db_session.begin_nested():
        OrganisationFactory(kind="alb", parent=None)
