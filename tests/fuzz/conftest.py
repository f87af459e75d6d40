"""A demo-sized world for the API fuzzer, loaded once and reset after every example.

The demo fixtures (twelve centres in every state, the metric library, eight quarters of
figures and the demo accounts) are loaded once into an outer transaction on one connection.
Each generated request then runs inside a SAVEPOINT on that connection that is rolled back
afterwards, so what one request wrote (a PATCHed centre, an accepted upload, a suspension)
never leaks into the next, and nothing is ever committed: the suite's database is left as it
was found.

No application context stays open while requests run: each request pushes its own, so `g`
(where Flask-Login caches the signed-in user and the API layer its token) starts empty every
time, as in production; a cached admin would otherwise leak into an anonymous request.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import pytest
from sqlalchemy.orm import scoped_session, sessionmaker

from marketplace import clock
from marketplace.accounts.models import User
from marketplace.accounts.tokens import create_token
from marketplace.extensions import db
from marketplace.fixtures import loader
from marketplace.fixtures.cli import DEMO_DIR
from tests.conftest import TEST_TODAY

BUYER = "buyer@demo.example"
CENTRE_USER = "centre@northmoor.example"
ADMIN = "admin@authority.example"
OWN_CENTRE = "northmoor"


@dataclass
class World:
    """What the fuzzer knows about the data: real identifiers and each role's credentials."""

    centres: dict[str, str] = field(default_factory=dict)  # slug -> stored status
    metrics: list[str] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # role -> headers
    # role -> cookies. Werkzeug's test client drops a hand-written Cookie header (it sends
    # its own jar), so a session travels as a cookie, as a browser sends it.
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)
    connection: object = None

    def hidden_centres(self) -> set[str]:
        return {slug for slug, status in self.centres.items() if status in HIDDEN}


HIDDEN = ("applied", "withdrawn")


def _session_cookie(app, user: User) -> dict[str, str]:
    """A signed-in browser session, made the way Flask-Login stores one."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    return {cookie.key: cookie.value}


# Module scope: the world's transaction must end before any other test module runs, or its
# uncommitted rows would hold locks (and unique keys) that the next module's writes wait on.
@pytest.fixture(scope="module")
def fuzz_world(app):
    from marketplace.benchmarks.models import Metric, ReportingPeriod
    from marketplace.catalogue.models import ServiceCentre

    original_session = db.session
    with app.app_context():
        connection = db.engine.connect()
    outer = connection.begin()
    session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    )
    db.session = session
    world = World(connection=connection)
    try:
        with clock.frozen_at(TEST_TODAY), app.app_context():
            loader.load(DEMO_DIR, actor_label="fuzz world")
            db.session.commit()
            users = {
                user.email: user
                for user in db.session.execute(
                    db.select(User).where(User.email.in_([BUYER, CENTRE_USER, ADMIN]))
                ).scalars()
            }
            # Schemathesis asks for gzip as HTTP clients do, but its WSGI transport does not
            # decompress; compression is the transport's business (tests/test_static_assets.py),
            # so the fuzz asks for the body as it is.
            plain = {"Accept-Encoding": "identity"}
            world.headers = {
                "anonymous": dict(plain),
                "buyer": dict(plain),
                "centre": {
                    **plain,
                    "Authorization": "Bearer " + create_token(users[CENTRE_USER], "fuzz")[1],
                },
                "admin": {
                    **plain,
                    "Authorization": "Bearer " + create_token(users[ADMIN], "fuzz")[1],
                },
            }
            # A buyer's browser session, without the page's CSRF token: reads work, writes
            # must be refused.
            world.cookies = {role: {} for role in world.headers}
            world.cookies["buyer"] = _session_cookie(app, users[BUYER])
            db.session.commit()
            world.centres = dict(
                db.session.execute(
                    db.select(ServiceCentre.slug, ServiceCentre.accreditation_status)
                ).all()
            )
            world.metrics = list(db.session.execute(db.select(Metric.code)).scalars())
            world.periods = [
                p.code for p in db.session.execute(db.select(ReportingPeriod)).scalars()
            ]
            db.session.remove()
        yield world
    finally:
        db.session.remove()
        db.session = original_session
        outer.rollback()
        connection.close()


@pytest.fixture
def db_session(app, fuzz_world):
    """Overrides the suite's fixture: the world stays; each example rolls back (see below).

    Session-level CSRF is on here (the suite turns it off) so that writes riding on a
    session cookie are judged as production judges them.
    """
    previous = app.config["WTF_CSRF_ENABLED"]
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield db.session
    finally:
        app.config["WTF_CSRF_ENABLED"] = previous


@contextlib.contextmanager
def one_example(world: World):
    """Run one generated request inside a SAVEPOINT that is rolled back afterwards.

    Per example rather than per test: Hypothesis replays a failing example to confirm it,
    and the replay must meet the same data (a suspension made by the first run would
    otherwise turn the replay's 200 into a 409 and the failure into a 'flaky' one).
    """
    nested = world.connection.begin_nested()
    try:
        yield
    finally:
        db.session.remove()
        if nested.is_active:
            nested.rollback()
