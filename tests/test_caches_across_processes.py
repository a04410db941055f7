"""The caches (shop/caching.py) across processes: a change committed by another process (a real
one here, on the same database and Redis, as a second gunicorn host would be) shows on this
process's very next page view, although the page and the user were being served from its caches."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shop.extensions import db
from tests.conftest import login

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def shared_redis(app, caches_on, redis_url):
    """This app's caches on, their invalidation shared through Redis, and entries kept longer
    than the other process takes to start: what it changes is forgotten, not expired."""
    kept = {key: app.config[key] for key in ("USER_CACHE_SECONDS", "PAGE_CACHE_SECONDS")}
    app.config.update(REDIS_URL=redis_url, USER_CACHE_SECONDS=600, PAGE_CACHE_SECONDS=600)
    yield redis_url
    app.config.update(REDIS_URL=None, **kept)


def in_another_process(app, redis_url: str, body: str) -> None:
    """Run ``body`` (inside an app context, ``db`` imported) in a new Python process with an
    app of its own on this database and Redis, caches on as in production."""
    script = textwrap.dedent(
        f"""
        import os
        os.environ["NEIGOU_INSTANCE_PATH"] = {app.instance_path!r}
        from shop import create_app
        from shop.extensions import db
        other = create_app({{
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": {app.config["SQLALCHEMY_DATABASE_URI"]!r},
            "REDIS_URL": {redis_url!r},
            "CACHES_ENABLED": True,
        }})
        with other.app_context():
        """
    ) + textwrap.indent(textwrap.dedent(body), "    ")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def served_from_the_caches(client, url: str, statements) -> str:
    """The page at ``url``, asked twice: the second time neither the page nor the user is read
    from the database."""
    assert client.get(url).status_code == 200
    db.session.remove()  # each request has a session of its own, as in a server
    statements.clear()
    page = client.get(url).get_data(as_text=True)
    assert statements == []
    return page


def test_a_user_deactivated_in_another_process_is_refused_by_the_next_page_view(
    shared_redis, app, client, employee, admin, product, statements
):
    url, user_id, admin_id = f"/p/{product.slug}", employee.id, admin.id
    login(client, employee)
    served_from_the_caches(client, url, statements)
    in_another_process(
        app,
        shared_redis,
        f"""
        from shop.accounts import services
        from shop.accounts.models import User
        services.deactivate(db.session.get(User, {admin_id}), db.session.get(User, {user_id}), "left")
        db.session.commit()
        """,
    )
    db.session.remove()
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_product_renamed_in_another_process_shows_on_the_next_page_view(
    shared_redis, app, client, employee, operator, product, statements
):
    url, product_id, operator_id = f"/p/{product.slug}", product.id, operator.id
    login(client, employee)
    assert "Tea Set Deluxe" not in served_from_the_caches(client, url, statements)
    in_another_process(
        app,
        shared_redis,
        f"""
        from shop.accounts.models import User
        from shop.catalog import services
        from shop.catalog.models import Product
        product = db.session.get(Product, {product_id})
        services.save_product(
            db.session.get(User, {operator_id}),
            product,
            name="Tea Set Deluxe",
            slug=product.slug,
            category_id=product.category_id,
            summary="",
            description_md="",
            sales_mode=product.sales_mode,
            is_active=True,
        )
        db.session.commit()
        """,
    )
    db.session.remove()
    assert "Tea Set Deluxe" in client.get(url).get_data(as_text=True)
