"""The demo seed (`flask shop seed-demo`): what it creates, that it is idempotent, and the CLI."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select

from shop import demo
from shop.accounts.models import Department, Kind, Role, User
from shop.accounts.services import authenticate
from shop.audit.models import AuditEntry
from shop.catalog.festival_models import Festival, FestivalItem, Phase
from shop.catalog.images import upload_dir
from shop.catalog.models import Category, PriceTier, Product, ProductImage, SalesMode, Variant
from shop.database import utcnow, write_intent
from shop.extensions import db
from shop.festivals.models import FestivalReminder
from shop.orders.models import HOLDING_STATUSES, Address, Order, OrderLine, OrderStatus, PaymentMethod

COUNTED = (User, Department, Category, Product, Variant, ProductImage, Address, Order, OrderLine, AuditEntry)


def counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in COUNTED}


class RecordingProgress:
    """Stands in for click.progressbar: remembers each step's label, total and updates."""

    def __init__(self):
        self.steps: dict[str, list[int]] = {}

    def __call__(self, label: str, total: int):
        self.steps[label] = [total, 0]
        steps = self.steps

        class Bar:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def update(self, n, current_item=None):
                steps[label][1] += n

        return Bar()


def run_seed(progress=None) -> None:
    with write_intent():
        demo.seed(progress=progress)
        db.session.commit()


def test_seed_demo_creates_consistent_data_once_and_is_idempotent(app):
    # The command, as `make run` calls it, on an empty database: seeds, commits, prints the log-ins.
    started = utcnow()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["shop", "seed-demo", "--if-empty"])
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    assert "demo data ready" in result.stdout
    for label in ("People", "Products", "Pictures", "Orders", "Festivals"):
        assert label in result.stderr  # click's progress bars
    logins = demo.demo_logins()
    domain = app.config["COMPANY_EMAIL_DOMAINS"][0]
    assert [(role, email.split("@")[0]) for role, email, _ in logins] == [
        ("admin", "admin"),
        ("operator", "operator"),
        ("sales", "sales"),
        ("employee", "alice"),
        ("employee", "bob"),
        ("contact L1", "lily.zhao.0"),
        ("contact L2", "tom.wu.1"),
    ]
    for _role, email, password in logins:
        assert f"{email}  /  {password}" in result.stdout
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None and user.check_password(password), email
    level1, level2 = (db.session.scalar(select(User).where(User.email == e)) for _, e, _ in logins[-2:])
    assert (level1.kind, level1.level, level2.kind, level2.level) == (Kind.contact, 1, Kind.contact, 2)
    assert level2.referrer_id == level1.id and level1.root_employee_id == level2.root_employee_id
    # Every account the README tells you to log in with is one `flask shop demo-logins` prints.
    readme = (Path(__file__).parents[1] / "README.md").read_text().split("## Pages")[0]
    mentioned = set(re.findall(r"[\w.]+@(?:neigou|friends)\.example", readme)) - {"you@neigou.example"}
    assert mentioned == {email for _, email, _ in logins}
    printed = runner.invoke(args=["shop", "demo-logins"])
    assert all(f"{role:<11} {email}  /  {password}" in printed.stdout for role, email, password in logins)
    db.session.rollback()  # the command committed: nothing is left to roll back

    # People: 50 employees plus an admin, an operator and a sales rep, all verified level-0 staff.
    # (The demo's contacts are checked in test_referrals_demo.)
    users = db.session.scalars(select(User).where(User.kind == Kind.employee)).all()
    assert len(users) == 53
    assert Counter(u.role for u in users) == {Role.member: 50, Role.admin: 1, Role.operator: 1, Role.sales: 1}
    assert all(u.kind == Kind.employee and u.level == 0 and u.email.endswith("@" + domain) for u in users)
    assert all(u.employee_no and u.department and u.email_verified_at and u.is_active for u in users)
    assert len({u.employee_no for u in users}) == 53
    assert db.session.scalar(select(func.count()).select_from(Department)) == 4
    assert (
        db.session.scalar(
            select(func.count(func.distinct(Address.user_id)))
            .join(User, User.id == Address.user_id)
            .where(User.kind == Kind.employee)
        )
        == 53
    )
    for role, email, password in logins:
        assert len(password) >= 8
        user = authenticate(email, password)
        assert user.role == (Role.member if role in ("employee", "contact L1", "contact L2") else Role(role))

    # Catalog: 5 categories, 30 products (2 lead, 2 share only), one stored picture each.
    assert db.session.scalar(select(func.count()).select_from(Category)) == 5
    products = db.session.scalars(select(Product)).all()
    assert len(products) == 30
    assert Counter(p.sales_mode for p in products) == {SalesMode.direct: 26, SalesMode.lead: 2, SalesMode.share_only: 2}
    for product in products:
        assert product.summary and product.summary in product.description_md
        assert (1 <= len(product.variants) <= 3) == (product.sales_mode == SalesMode.direct)
        [picture] = product.images
        assert (picture.width, picture.height) == (600, 600)
        path = Path(upload_dir()) / picture.filename
        assert path.is_file()
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == (600, 600)
    variants = db.session.scalars(select(Variant)).all()
    assert all(v.currency == app.config["CURRENCY"] for v in variants)
    assert all(v.market_price >= v.contact_price >= v.employee_price > 0 for v in variants)
    assert all(0 <= v.stock <= 200 for v in variants)
    assert any(v.stock == 0 for v in variants) and any(0 < v.stock <= 5 for v in variants)

    # Past orders, made through the services: employee prices, attribution, payroll, stock.
    orders = db.session.scalars(select(Order).order_by(Order.id)).all()
    assert 30 <= len(orders) <= 40
    statuses = Counter(o.status for o in orders)
    assert set(statuses) == {OrderStatus.paid, OrderStatus.shipped, OrderStatus.completed, OrderStatus.cancelled}
    by_sku = {v.sku: v for v in variants}
    for order in orders:
        assert started - timedelta(days=61) < order.created_at < started
        assert order.buyer.role == Role.member
        assert (order.price_tier, order.buyer_level, order.root_employee_id) == (PriceTier.employee, 0, order.buyer_id)
        assert order.total_amount == sum(line.unit_price * line.quantity for line in order.lines) > 0
        assert all(line.unit_price == by_sku[line.sku].employee_price for line in order.lines)
        if order.status == OrderStatus.cancelled:
            assert order.paid_at is None and order.created_at < order.closed_at < order.expires_at
        else:
            assert order.payment_method == PaymentMethod.payroll
            assert order.created_at < order.paid_at < order.expires_at
        if order.status in (OrderStatus.shipped, OrderStatus.completed):
            assert order.paid_at < order.shipped_at < started and order.carrier and order.tracking_number
        if order.status == OrderStatus.completed:
            assert order.shipped_at < order.completed_at < started
    # Festivals: one selling with three items, one in preheat with two items and reminders.
    festivals = {f.slug: f for f in db.session.scalars(select(Festival).order_by(Festival.id))}
    assert {slug: (f.name, f.phase()) for slug, f in festivals.items()} == {
        "golden-autumn-fair": ("金秋内购节", Phase.launch),
        "year-end-gala": ("年终内购节", Phase.preheat),
    }
    assert [len(f.items) for f in festivals.values()] == [3, 2]
    assert all(
        item.allocated == 30
        and item.sold == 0
        and item.per_buyer_limit == 2
        and item.employee_price < item.variant.employee_price
        for f in festivals.values()
        for item in f.items
    )
    reminded = db.session.scalars(
        select(User.email)
        .join(FestivalReminder, FestivalReminder.user_id == User.id)
        .where(FestivalReminder.festival_id == festivals["year-end-gala"].id)
    ).all()
    assert len(reminded) == 12 and not any(email.startswith("alice@") for email in reminded)
    # Held orders took their units from the planned stock, and so did the festivals' allocations;
    # cancelled orders gave theirs back.
    held = Counter()
    for order in orders:
        if order.status in HOLDING_STATUSES:
            for line in order.lines:
                held[line.sku] += line.quantity
    for item in db.session.scalars(select(FestivalItem)):
        held[item.variant.sku] += item.allocated
    planned = {v.sku: v.stock for plan in demo.catalog_plan().values() for v in plan}
    assert held and {sku: v.stock + held[sku] for sku, v in by_sku.items()} == planned
    # The audit trail tells each order's story at the moments it happened.
    placed = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "order.place")).all()
    assert sorted(e.at for e in placed) == [o.created_at for o in orders]
    shipped = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "order.shipped")).all()
    assert sorted(e.at for e in shipped) == sorted(o.shipped_at for o in orders if o.shipped_at)

    # seed() again (silently, then with a progress bar): nothing new, nothing changed.
    before = counts()
    stock_before = {v.sku: v.stock for v in variants}
    pictures_before = sorted(p.name for p in Path(upload_dir()).iterdir())
    run_seed()
    progress = RecordingProgress()
    run_seed(progress)
    assert progress.steps == {"People": [53, 53], "Products": [30, 30], "Pictures": [30, 30]}
    db.session.expire_all()
    assert counts() == before
    assert {v.sku: v.stock for v in db.session.scalars(select(Variant))} == stock_before
    assert sorted(p.name for p in Path(upload_dir()).iterdir()) == pictures_before

    # And the command leaves a database with data alone.
    again = runner.invoke(args=["shop", "seed-demo", "--if-empty"])
    assert again.exit_code == 0, again.output
    assert "demo seed skipped" in again.stdout and "demo data ready" not in again.stdout
    assert counts() == before


def test_database_is_empty_looks_at_users(make_user):
    assert demo.database_is_empty()
    make_user()
    assert not demo.database_is_empty()
