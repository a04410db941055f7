"""Test set-up: one database per run (SQLite file, or PostgreSQL with TEST_DATABASE_URL),
emptied after every test; factories for people and products; a client that sends CSRF tokens."""

from __future__ import annotations

import io
import os
import re
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from shop import create_app
from shop.extensions import db, limiter

PASSWORD = "correct horse 42"
_PASSWORD_HASH = generate_password_hash(PASSWORD)
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')

pytest_plugins = ["tests.fixtures.factories", "tests.fixtures.festivals"]


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A fresh database for this run; dropped at the end (PostgreSQL)."""
    url = _postgres_url()
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI and cannot be reached: {exc}")
        pytest.skip("PostgreSQL not reachable")
    admin.dispose()
    with scratch_postgres_database(url, "neigou_test") as scratch_url:
        yield scratch_url


@contextmanager
def scratch_postgres_database(url: str, prefix: str):
    """A new, empty PostgreSQL database on the server of ``url``; dropped afterwards."""
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """Another, empty database on the suite's backend (for migrating from scratch)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with scratch_postgres_database(database_url, "neigou_empty") as url:
        yield url


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    os.environ["NEIGOU_INSTANCE_PATH"] = str(instance)
    application = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    os.environ.pop("NEIGOU_INSTANCE_PATH")
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _app_context(app):
    """Every test runs in an app context and leaves an empty database and empty caches behind
    (ids come back in the next test, so a row kept under an id would be another's)."""
    from shop import caching

    with app.app_context():
        yield
        db.session.remove()
        _empty_tables()
        caching.forget_all()
    limiter.reset()
    outbox = Path(app.instance_path) / "outbox"
    for message in outbox.glob("*.eml") if outbox.exists() else ():
        message.unlink()


def _empty_tables() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def is_postgres(app) -> bool:
    return db.engine.dialect.name == "postgresql"


class CsrfClient(FlaskClient):
    """The Flask test client, plus helpers that post real forms with their CSRF token.

    Each request runs in its own app context, as in production: a fresh ``g`` (current user,
    CSRF token) and its own database session, removed afterwards, so work the app leaves
    uncommitted is thrown away. The test's own session is committed before each request and
    expired after it, so both sides see what the other committed.
    """

    @property
    def raw(self) -> "CsrfClient":
        return self

    def open(self, *args, **kwargs):
        if not has_app_context():
            return super().open(*args, **kwargs)
        db.session.commit()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response

    def csrf_token(self, page: str = "/login") -> str:
        response = self.get(page)
        html = response.get_data(as_text=True)
        response.close()
        match = CSRF_RE.search(html)
        assert match, f"no CSRF token on {page}"
        return match.group(1) or match.group(2)

    def post_form(self, url: str, data: dict | None = None, *, token_from: str | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token(token_from or self._token_page()))
        return self.post(url, data=data, **kwargs)

    def _token_page(self) -> str:
        with self.session_transaction() as session:
            logged_in = "_user_id" in session
        return "/" if logged_in else "/login"


@pytest.fixture
def client(app) -> CsrfClient:
    app.test_client_class = CsrfClient
    return app.test_client()


@pytest.fixture
def statements():
    """Every SQL statement run while the test holds it, whitespace folded."""
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", count)
    yield seen
    sa.event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture
def caches_on(app):
    """Every cache on, as in production; each test starts and ends with them empty."""
    from shop import caching

    app.config["CACHES_ENABLED"] = True
    caching.forget_all()
    yield
    app.config["CACHES_ENABLED"] = False
    caching.forget_all()


@pytest.fixture
def redis_url():
    """The local Redis (database 15, emptied), or skip. Under pytest-xdist each worker has a
    database of its own (gw0 15, gw1 14, ...), since the tests empty it."""
    import redis

    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    url = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - worker}")
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    except redis.RedisError:
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is required under CI")
        pytest.skip("Redis not reachable")
    yield url
    client.flushdb()
    client.close()


def login(client: CsrfClient, user, **request) -> CsrfClient:
    """Log a user in without the form (the form itself is tested in test_accounts): the login id
    as Flask-Login keeps it, ``User.get_id()`` (id and session token). ``request`` goes to
    ``session_transaction`` (e.g. ``base_url`` for another host)."""
    with client.raw.session_transaction(**request) as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


@pytest.fixture
def server(app):
    """The app served over HTTP on a free port of 127.0.0.1, in a thread, for the browser tests:
    its base URL."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def upload_roster(client: CsrfClient, content: bytes, *, filename: str = "roster.csv", **fields):
    """Upload an HR roster through /admin/roster as an admin would. A file the page refuses
    gives the page's answer; a file it queues is imported by the worker's job
    (``roster_imports.run_pending``, as the worker would run it) and the import's page is
    returned, with its report."""
    from shop.accounts import roster_imports

    data = {"roster": (io.BytesIO(content), filename), **fields}
    response = client.post_form("/admin/roster", data, token_from="/admin/roster", content_type="multipart/form-data")
    db.session.rollback()  # what the request did not commit is gone, as at the end of a real request
    if response.status_code != 303:
        return response
    roster_imports.run_pending()
    return client.get(response.location)


def outbox(app) -> list[str]:
    folder = Path(app.instance_path) / "outbox"
    return [p.read_text() for p in sorted(folder.glob("*.eml"))] if folder.exists() else []


def link_in(message: str, path_prefix: str) -> str:
    match = re.search(rf"http://[^/\s]+({re.escape(path_prefix)}[^\s]+)", message)
    assert match, f"no {path_prefix} link in message"
    return match.group(1)
