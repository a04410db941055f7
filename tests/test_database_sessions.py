"""The settings of every PostgreSQL session the app opens (``DB_SESSION_OPTIONS``)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shop import create_app
from shop.extensions import db

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/neigou"


def engine_options(tmp_path, monkeypatch, url: str, **overrides) -> dict:
    """The engine options create_app derives for ``url`` (nothing connects)."""
    monkeypatch.setenv("NEIGOU_INSTANCE_PATH", str(tmp_path))
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, **overrides})
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    with app.app_context():
        db.engine.dispose()
    return options


def test_postgresql_sessions_run_without_jit_unless_the_url_or_the_setting_says_otherwise(tmp_path, monkeypatch):
    default = {"options": "-c jit=off -c max_parallel_workers_per_gather=0"}
    assert engine_options(tmp_path, monkeypatch, POSTGRES)["connect_args"] == default
    own = engine_options(tmp_path, monkeypatch, POSTGRES + "?options=-c%20work_mem%3D64MB")
    assert "connect_args" not in own  # the URL's options are left as they are
    other = engine_options(tmp_path, monkeypatch, POSTGRES, DB_SESSION_OPTIONS="-c statement_timeout=5000")
    assert other["connect_args"] == {"options": "-c statement_timeout=5000"}
    assert "connect_args" not in engine_options(tmp_path, monkeypatch, POSTGRES, DB_SESSION_OPTIONS="")
    assert "connect_args" not in engine_options(tmp_path, monkeypatch, f"sqlite:///{tmp_path / 'x.db'}")


def test_the_apps_postgresql_sessions_have_jit_off_and_no_parallel_workers():
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL setting")
    assert db.session.execute(sa.text("SHOW jit")).scalar() == "off"
    assert db.session.execute(sa.text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
