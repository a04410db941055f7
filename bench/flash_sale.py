"""`make bench-flash-sale`: a thousand buyers pressing "buy now" at the same second, over HTTP.

Creates a scratch PostgreSQL database (127.0.0.1:5432 unless --pg-url says otherwise), migrates
it, and fills it: one festival in its launch phase, one item with a limited allocation, a
per-buyer limit and a chain cap, and 1,000 buyers with addresses in chains of different sizes.
Starts gunicorn on it, logs every buyer in through the real /login form and keeps their cookie
and CSRF token. Then the timed phase: every buyer's "buy now" posts
(POST /festivals/<slug>/items/<id>/buy) go out through a fixed number of concurrent clients,
in random order. Afterwards everything is counted from the database, and pgbench measures the
database's own ceiling for one hot row (a conditional stock update plus an insert per
transaction) at the same client count. The scratch database is dropped at the end.

Progress goes to stderr; the last line on stdout is one JSON object:
    {"buyers":…, "allocated":…, "max_sellable":…, "sold":…, "oversold":…, "quota_breaches":…,
     "errors_5xx":…, "orders_per_s":…, "p50_ms":…, "p99_ms":…, "hot_row_tps":…, …}
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cpu  # noqa: E402
from browse import (  # noqa: E402
    BenchError,
    Browser,
    Gunicorn,
    _read_response,
    configured_workers,
    gunicorn_settings,
    log,
    run_cli,
)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
USER_AGENT = "neigou-bench/1.0"  # browse.Browser sends this too; Flask-Login ties the session to it
PASSWORD = "flash-sale-pass-1"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
TARGET_P99_MS = 300.0  # issue 18
TARGET_SHARE_OF_HOT_ROW = 0.18  # issue 18

HOT_ROW_SCRIPT = """\\set q 1
BEGIN;
UPDATE hot_item SET stock = stock - :q WHERE id = 1 AND stock >= :q;
INSERT INTO hot_order (item_id, quantity) VALUES (1, :q);
COMMIT;
"""


@dataclass
class Buyer:
    user_id: int
    email: str
    address_id: int
    chain: int  # the chain's employee id
    cookie: str = ""
    csrf: str = ""
    port: int = 0  # the server this buyer logged in on and posts to


@dataclass
class Probe:
    """For ``--servers 2``: an item of its own with a per-buyer rule, a buyer, and the operator,
    to check that a rule changed through one server binds the next order on the other."""

    slug: str
    item_id: int
    rule_id: int
    buyer: Buyer
    operator_email: str


@dataclass
class Attempt:
    buyer: Buyer
    quantity: int


# ---- the scratch database ---------------------------------------------------------------------


def admin_engine(url: str):
    import sqlalchemy as sa

    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")


class ScratchDatabase:
    def __init__(self, server_url: str, name: str | None = None):
        self.server_url = server_url
        self.name = name or f"neigou_flash_{uuid.uuid4().hex[:10]}"
        self.url = server_url.rsplit("/", 1)[0] + "/" + self.name

    def create(self) -> None:
        import sqlalchemy as sa

        engine = admin_engine(self.server_url)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        except sa.exc.OperationalError as exc:
            raise BenchError(f"PostgreSQL at {self.server_url} cannot be reached: {exc}") from exc
        finally:
            engine.dispose()
        log(f"created database {self.name}")

    def drop(self) -> None:
        import sqlalchemy as sa

        engine = admin_engine(self.server_url)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            log(f"dropped database {self.name}")
        finally:
            engine.dispose()


# ---- data -----------------------------------------------------------------------------------------


def chain_sizes(buyers: int, solo_chains: int, chain_size: int) -> list[int]:
    """Solo employees first (a chain of one), then chains of ``chain_size`` (the last one may be
    shorter) until there are ``buyers`` buyers."""
    sizes = [1] * min(solo_chains, buyers)
    left = buyers - len(sizes)
    while left > 0:
        sizes.append(min(chain_size, left))
        left -= sizes[-1]
    return sizes


def max_sellable(allocated: int, chain_cap: int, buyer_limit: int, sizes: list[int]) -> int:
    """min(allocated, sum over chains of min(chain cap, the per-buyer caps of its buyers))."""
    return min(allocated, sum(min(chain_cap, buyer_limit * size) for size in sizes))


def seed(env: dict, args: argparse.Namespace) -> tuple[str, int, list[Buyer], Probe]:
    """Festival, item, quota rules and buyers, written through the app's own services."""
    from werkzeug.security import generate_password_hash

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from shop import create_app
        from shop.accounts.models import Kind, Role, User
        from shop.catalog.models import Category, Product, Variant
        from shop.database import utcnow
        from shop.extensions import db
        from shop.festivals import services as festivals
        from shop.orders.models import Address
        from shop.quotas import services as quotas
        from shop.quotas.models import Measure, Scope, Target, Window

        app = create_app("production")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    # Log-in is not what is measured: a cheap hash keeps 1,000 log-ins from taking minutes of scrypt.
    password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    sizes = chain_sizes(args.buyers, args.solo_chains, args.chain_size)
    with app.app_context():
        now = utcnow()
        operator = User(
            email="flash-operator@neigou.example",
            name="Flash Operator",
            role=Role.operator,
            kind=Kind.employee,
            level=0,
            password_hash=password_hash,
            email_verified_at=now,
        )
        category = Category(name="Flash", slug="flash")
        product = Product(
            name="Flash Kettle",
            slug="flash-kettle",
            category=category,
            summary="Scarce",
            description_md="A kettle for the flash sale.",
        )
        product.variants.append(
            Variant(
                sku="FLASH-1",
                name="Silver",
                currency="CNY",
                market_price=30_000,
                employee_price=20_000,
                contact_price=24_000,
                stock=args.allocated + args.general_stock,
            )
        )
        db.session.add_all([operator, category, product])
        db.session.flush()
        festival = festivals.create_festival(
            operator,
            name="Flash Sale",
            preheat_at=now - timedelta(hours=2),
            launch_at=now - timedelta(hours=1),
            continuation_at=None,
            ends_at=now + timedelta(hours=3),
        )
        db.session.flush()
        item = festivals.allocate(
            operator,
            festival,
            product.variants[0],
            args.allocated,
            employee_price=9_900,
            contact_price=12_900,
            per_buyer_limit=args.buyer_limit,
            now=now,
        )
        db.session.flush()
        quotas.create_rule(
            operator,
            scope=Scope.chain,
            target=Target.festival_item,
            festival_item_id=item.id,
            window=Window.festival,
            measure=Measure.units,
            limit_value=args.chain_cap,
        )
        quotas.ensure_default_rules()
        probe_variant = Variant(
            sku="FLASH-PROBE",
            name="Probe",
            currency="CNY",
            market_price=30_000,
            employee_price=20_000,
            contact_price=24_000,
            stock=20,
        )
        product.variants.append(probe_variant)
        db.session.flush()
        probe_item = festivals.allocate(
            operator,
            festival,
            probe_variant,
            20,
            employee_price=9_900,
            contact_price=12_900,
            per_buyer_limit=None,
            now=now,
        )
        db.session.flush()
        probe_rule = quotas.create_rule(
            operator,
            scope=Scope.buyer,
            target=Target.festival_item,
            festival_item_id=probe_item.id,
            window=Window.festival,
            measure=Measure.units,
            limit_value=5,
        )
        probe_user = User(
            email="probe@neigou.example",
            name="Probe Buyer",
            kind=Kind.employee,
            level=0,
            password_hash=password_hash,
            email_verified_at=now,
        )
        db.session.add(probe_user)
        db.session.flush()
        probe_address = Address(
            user_id=probe_user.id,
            recipient="Probe Buyer",
            phone="+86 138 0000 0000",
            line1="1 Century Avenue",
            city="Shanghai",
            postcode="200120",
            country="CN",
        )
        db.session.add(probe_address)
        db.session.flush()
        probe = Probe(
            festival.slug,
            probe_item.id,
            probe_rule.id,
            Buyer(probe_user.id, probe_user.email, probe_address.id, probe_user.id),
            operator.email,
        )

        people: list[tuple[User, int]] = []  # (user, chain index)
        n = 0
        for chain_index, size in enumerate(sizes):
            n += 1
            root = User(
                email=f"buyer{n}@neigou.example",
                name=f"Buyer {n}",
                kind=Kind.employee,
                level=0,
                password_hash=password_hash,
                email_verified_at=now,
            )
            db.session.add(root)
            db.session.flush()
            people.append((root, chain_index))
            l1s: list[User] = []
            for position in range(1, size):
                n += 1
                # Two thirds level 1 under the employee, a third level 2 under one of them.
                parent = l1s[position % len(l1s)] if l1s and position % 3 == 0 else None
                contact = User(
                    email=f"buyer{n}@friends.example",
                    name=f"Buyer {n}",
                    kind=Kind.contact,
                    level=2 if parent else 1,
                    referrer_id=(parent or root).id,
                    root_employee_id=root.id,
                    l1_contact_id=parent.id if parent else None,
                    password_hash=password_hash,
                    email_verified_at=now,
                )
                db.session.add(contact)
                if parent is None:
                    db.session.flush()
                    l1s.append(contact)
                people.append((contact, chain_index))
        db.session.flush()
        addresses = [
            Address(
                user_id=user.id,
                recipient=user.name,
                phone="+86 138 0000 0000",
                line1=f"{user.id} Century Avenue",
                city="Shanghai",
                postcode="200120",
                country="CN",
            )
            for user, _ in people
        ]
        db.session.add_all(addresses)
        db.session.flush()
        buyers = [
            Buyer(user.id, user.email, address.id, user.root_employee_id or user.id)
            for (user, _), address in zip(people, addresses, strict=True)
        ]
        slug, item_id = festival.slug, item.id
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    log(
        f"seeded {len(buyers)} buyers in {len(sizes)} chains ({sum(1 for s in sizes if s == 1)} of one buyer), "
        f"{args.allocated} units allocated"
    )
    return slug, item_id, buyers, probe


def plan_attempts(buyers: list[Buyer], rng: random.Random) -> list[Attempt]:
    """Every buyer presses "buy now" for one unit. Buyers alone in their chain press three times
    (tabs: the third is always refused, by the per-buyer limit or a sold-out allocation), and
    one buyer in ten also asks for three units at once (refused by the per-buyer limit).
    With one-unit presses, however the race is ordered, every chain can fill to its cap, so
    sold must reach max_sellable."""
    attempts: list[Attempt] = []
    chain_size = {}
    for buyer in buyers:
        chain_size[buyer.chain] = chain_size.get(buyer.chain, 0) + 1
    for buyer in buyers:
        presses = 3 if chain_size[buyer.chain] == 1 else 1
        attempts += [Attempt(buyer, 1)] * presses
        if rng.random() < 0.1:
            attempts.append(Attempt(buyer, 3))
    rng.shuffle(attempts)
    return attempts


# ---- log-in -------------------------------------------------------------------------------------


def log_in_all(ports: list[int], buyers: list[Buyer], threads: int) -> None:
    """Each buyer logs in through the real form, on the servers in turn; keep the session
    cookie and a CSRF token, and post to that server."""
    for index, buyer in enumerate(buyers):
        buyer.port = ports[index % len(ports)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        started = time.monotonic()
        list(pool.map(log_in, buyers))
    log(f"logged in {len(buyers)} buyers in {time.monotonic() - started:.1f}s")


def log_in(buyer: Buyer, page: str = "/orders") -> None:
    """Log ``buyer`` in on ``buyer.port`` through the real form; keep the cookie and a token."""
    browser = Browser(buyer.port)
    status, _, html = browser.get("/login")
    match = CSRF_RE.search(html)
    if status != 200 or not match:
        raise BenchError(f"GET /login answered {status} without a CSRF token")
    status, headers, _ = browser.post(
        "/login", {"email": buyer.email, "password": PASSWORD, "csrf_token": match.group(1) or match.group(2)}
    )
    if status not in (302, 303) or "/login" in headers["location"]:
        raise BenchError(f"log-in as {buyer.email} failed (HTTP {status})")
    status, _, html = browser.get(page)
    match = CSRF_RE.search(html)
    if status != 200 or not match:
        raise BenchError(f"after log-in as {buyer.email}, {page} answered {status} without a CSRF token")
    buyer.cookie, buyer.csrf = browser.cookie_header(), match.group(1) or match.group(2)


# ---- a rule changed through one server, enforced by the other -------------------------------------


class RuleChangeCheck:
    """The operator lowers the probe item's per-buyer rule through the first server while the
    sale runs; the probe buyer's very next orders through the second server must obey it."""

    def __init__(self, probe: Probe, ports: list[int]):
        self.probe, self.seen = probe, {}
        self.operator = Buyer(0, probe.operator_email, 0, 0, port=ports[0])
        probe.buyer.port = ports[1]
        log_in(self.operator, f"/ops/quotas/{probe.rule_id}")
        log_in(probe.buyer)

    def buy(self, quantity: int) -> int:
        buyer = self.probe.buyer
        path = f"/festivals/{self.probe.slug}/items/{self.probe.item_id}/buy"
        return post_form(buyer, path, {"quantity": quantity, "address_id": buyer.address_id})

    def before(self) -> None:
        self.seen["bought_2_of_5_before"] = self.buy(2)

    def during(self) -> None:
        time.sleep(0.2)  # the sale has started
        fields = {"limit": "3", "is_active": "y"}
        self.seen["operator_lowered_5_to_3"] = post_form(self.operator, f"/ops/quotas/{self.probe.rule_id}", fields)
        self.seen["next_2_refused"] = self.buy(2)
        self.seen["then_1_placed"] = self.buy(1)

    def enforced(self) -> bool:
        expected = {
            "bought_2_of_5_before": 303,
            "operator_lowered_5_to_3": 302,
            "next_2_refused": 409,
            "then_1_placed": 303,
        }
        return self.seen == expected


def post_form(buyer: Buyer, path: str, fields: dict) -> int:
    """POST a form as ``buyer`` (its cookie and CSRF token) to its server; the status."""
    browser = Browser(buyer.port)
    browser.cookies = dict(pair.split("=", 1) for pair in buyer.cookie.split("; ") if pair)
    status, _, _ = browser.post(path, {**fields, "csrf_token": buyer.csrf})
    return status


# ---- the timed phase ----------------------------------------------------------------------------


def checkout_request(path: str, attempt: Attempt) -> bytes:
    port = attempt.buyer.port
    body = urlencode(
        {"quantity": attempt.quantity, "address_id": attempt.buyer.address_id, "csrf_token": attempt.buyer.csrf}
    ).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {USER_AGENT}\r\n"
        f"Accept: text/html\r\nCookie: {attempt.buyer.cookie}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _client(port: int, queue: asyncio.Queue, results: list, start: asyncio.Event, ready: asyncio.Queue) -> None:
    """One keep-alive connection posting one request after another from the queue. It is opened
    before the start, as pgbench's tps leaves out its initial connection time."""
    reader = writer = None
    try:
        with contextlib.suppress(OSError):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
    finally:
        ready.put_nowait(True)
    await start.wait()
    while True:
        try:
            request = queue.get_nowait()
        except asyncio.QueueEmpty:
            break
        began = time.perf_counter()
        status = None
        for _ in range(2):  # a keep-alive connection the server closed meanwhile is opened again
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                async with asyncio.timeout(60):  # no task per request, as wait_for would make
                    await writer.drain()
                    status, reusable, _ = await _read_response(reader)
                if not reusable:
                    writer.close()
                    reader = writer = None
                break
            except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, OSError):
                if writer is not None:
                    writer.close()
                reader = writer = None
        results.append((status, time.perf_counter() - began, time.perf_counter()))
    if writer is not None:
        writer.close()


def run_checkouts(
    ports: list[int], path: str, attempts: list[Attempt], clients: int, on_start=None
) -> tuple[list, float, float]:
    """All attempts through ``clients`` concurrent connections, spread evenly over the servers
    (each attempt goes to its buyer's server); returns (status, seconds, done at) per request,
    the start time and the wall time. ``on_start`` runs in a thread of its own at the start."""

    async def main():
        queues: dict[int, asyncio.Queue] = {port: asyncio.Queue() for port in ports}
        for attempt in attempts:
            queues[attempt.buyer.port].put_nowait(checkout_request(path, attempt))
        results: list = []
        start, ready = asyncio.Event(), asyncio.Queue()
        tasks = [
            asyncio.create_task(_client(port, queues[port], results, start, ready))
            for port in (ports[k % len(ports)] for k in range(clients))
        ]
        for _ in range(clients):  # every client connected and waiting at the start line
            await ready.get()
        began = time.perf_counter()
        start.set()
        side = asyncio.create_task(asyncio.to_thread(on_start)) if on_start is not None else None
        await asyncio.gather(*tasks)
        if side is not None:
            await side
        return results, began, time.perf_counter() - began

    return asyncio.run(main())


# ---- counting -----------------------------------------------------------------------------------


def count(db_url: str, item_id: int, args: argparse.Namespace) -> dict:
    import sqlalchemy as sa

    engine = admin_engine(db_url)
    live = "('pending_payment', 'paid', 'shipped', 'completed')"
    try:
        with engine.connect() as conn:
            allocated, sold, stock = conn.execute(
                sa.text(
                    "SELECT fi.allocated, fi.sold, v.stock FROM festival_items fi JOIN variants v ON v.id = fi.variant_id"
                    " WHERE fi.id = :item"
                ),
                {"item": item_id},
            ).one()
            line_units = conn.execute(
                sa.text(
                    f"SELECT coalesce(sum(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id"
                    f" WHERE l.festival_item_id = :item AND o.status IN {live}"
                ),
                {"item": item_id},
            ).scalar()
            chains_over = conn.execute(
                sa.text(
                    f"SELECT count(*) FROM (SELECT o.root_employee_id FROM order_lines l JOIN orders o ON o.id = l.order_id"
                    f" WHERE l.festival_item_id = :item AND o.status IN {live} GROUP BY o.root_employee_id"
                    f" HAVING sum(l.quantity) > :cap) AS over"
                ),
                {"item": item_id, "cap": args.chain_cap},
            ).scalar()
            buyers_over = conn.execute(
                sa.text(
                    f"SELECT count(*) FROM (SELECT o.buyer_id FROM order_lines l JOIN orders o ON o.id = l.order_id"
                    f" WHERE l.festival_item_id = :item AND o.status IN {live} GROUP BY o.buyer_id"
                    f" HAVING sum(l.quantity) > :limit) AS over"
                ),
                {"item": item_id, "limit": args.buyer_limit},
            ).scalar()
            orders = conn.execute(sa.text("SELECT count(*) FROM orders")).scalar()
    finally:
        engine.dispose()
    return {
        "allocated": allocated,
        "sold": int(line_units),
        "item_sold_counter": sold,
        "general_stock": stock,
        "oversold": max(int(line_units) - allocated, 0) + max(sold - allocated, 0) + (1 if sold != line_units else 0),
        "quota_breaches": int(chains_over) + int(buyers_over),
        "orders": int(orders),
    }


# ---- the database's own ceiling for one hot row ----------------------------------------------------


def hot_row_tps(db_url: str, clients: int, seconds: int, work: Path) -> float | None:
    """pgbench against two scratch tables in the bench database: per transaction one conditional
    update of a single stock row and one insert, at ``clients`` connections."""
    import sqlalchemy as sa

    pgbench = shutil.which("pgbench")
    if pgbench is None:
        log("pgbench is not installed: hot_row_tps is null")
        return None
    engine = admin_engine(db_url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("CREATE TABLE hot_item (id int PRIMARY KEY, stock bigint NOT NULL)"))
            conn.execute(
                sa.text(
                    "CREATE TABLE hot_order (id bigserial PRIMARY KEY, item_id int NOT NULL"
                    " REFERENCES hot_item (id), quantity int NOT NULL)"
                )
            )
            conn.execute(sa.text("INSERT INTO hot_item VALUES (1, 1000000000)"))
    finally:
        engine.dispose()
    script = work / "hot_row.sql"
    script.write_text(HOT_ROW_SCRIPT)
    url = sa.engine.make_url(db_url)
    command = [
        pgbench,
        "-n",
        "-c",
        str(clients),
        "-j",
        str(min(clients, 2)),
        "-T",
        str(seconds),
        "-f",
        str(script),
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
        url.database,
    ]
    env = dict(os.environ, PGPASSWORD=url.password or os.environ.get("PGPASSWORD", ""))
    log(f"pgbench: {' '.join(command)}")
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=seconds + 120)
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", done.stdout)
    if done.returncode != 0 or not match:
        raise BenchError(f"pgbench failed (exit {done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return float(match.group(1))


# ---- the run ------------------------------------------------------------------------------------


def worker_connections(args: argparse.Namespace) -> int:
    """How many connections one gunicorn worker may hold. gthread keeps a keep-alive connection
    on the worker that accepted it, and the timed phase opens all its connections at the same
    instant: uncapped, one worker can accept nearly all of them while the others idle (seen
    here: one run in four, at three quarters of the usual orders per second). Capped a little
    above an even share, every worker gets its part."""
    if args.worker_connections is not None:
        return args.worker_connections
    return -(-args.clients // (args.workers or configured_workers())) + 2


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run(args: argparse.Namespace) -> dict:
    work = Path(tempfile.mkdtemp(prefix="neigou-flash-"))
    database = ScratchDatabase(args.pg_url)
    servers: list[Gunicorn] = []
    created = False
    try:
        database.create()
        created = True
        env = dict(
            os.environ,
            NEIGOU_ENV="production",
            NEIGOU_INSTANCE_PATH=str(work / "instance"),
            DATABASE_URL=database.url,
            SECRET_KEY=secrets.token_hex(32),
            SESSION_COOKIE_SECURE="0",
            PREFERRED_URL_SCHEME="http",
            PUBLIC_URL="http://127.0.0.1",  # the load generator's Host (ports are not compared)
            FLASK_APP="wsgi",
            RATELIMIT_LOGIN="100000 per minute",
        )
        env.pop("SERVER_NAME", None)
        if args.redis_url:  # production runs with Redis: workers share what is known of quota use
            env["REDIS_URL"] = args.redis_url
        else:
            env.pop("REDIS_URL", None)
        run_cli([str(BIN / "flask"), "db", "upgrade"], env, 300, "migrate")
        slug, item_id, buyers, probe = seed(env, args)
        sizes = chain_sizes(args.buyers, args.solo_chains, args.chain_size)
        expected = max_sellable(args.allocated, args.chain_cap, args.buyer_limit, sizes)
        gunicorn_args = [
            *gunicorn_settings(args.workers, args.threads),
            "--worker-connections",
            str(worker_connections(args)),
            "--backlog",
            "2048",
            "--keep-alive",
            "30",
        ]
        for number in range(1, args.servers + 1):  # each its own gunicorn (master and workers) and port
            servers.append(Gunicorn(f"shop-{number}", "wsgi:app", ROOT, gunicorn_args, env, work))
            servers[-1].start()
        ports = [server.port for server in servers]
        log_in_all(ports, buyers, args.login_threads)
        check = RuleChangeCheck(probe, ports) if len(ports) > 1 else None
        if check is not None:
            check.before()
        attempts = plan_attempts(buyers, random.Random(args.seed))
        path = f"/festivals/{slug}/items/{item_id}/buy"
        log(
            f"timed phase: {len(attempts)} checkouts by {len(buyers)} buyers through {args.clients} concurrent "
            f"clients on {len(ports)} server(s)"
        )
        cpu_before = cpu.snapshot()
        results, began, wall = run_checkouts(
            ports, path, attempts, args.clients, on_start=check.during if check is not None else None
        )
        cpu_per_post = cpu.split_ms(cpu_before, cpu.snapshot(), per=len(results))  # before the servers stop
        statuses: dict[str, int] = {}
        for status, _, _ in results:
            statuses[str(status)] = statuses.get(str(status), 0) + 1
        placed_at = [done - began for status, _, done in results if status == 303]
        latencies_ms = [seconds * 1000 for _, seconds, _ in results]
        for server in servers:
            server.stop()
        servers = []
        counted = count(database.url, item_id, args)
        tps = hot_row_tps(database.url, args.clients, args.pgbench_seconds, work)
        orders_window = max(placed_at) if placed_at else wall
        orders_per_s = len(placed_at) / orders_window if orders_window else 0.0
        errors_5xx = sum(n for code, n in statuses.items() if code.isdigit() and int(code) >= 500)
        unexpected = {
            code: n
            for code, n in statuses.items()
            if code not in ("303", "409") and not (code.isdigit() and int(code) >= 500)
        }
        outcome = {
            "buyers": len(buyers),
            "allocated": counted["allocated"],
            "max_sellable": expected,
            "sold": counted["sold"],
            "oversold": counted["oversold"],
            "quota_breaches": counted["quota_breaches"],
            "errors_5xx": errors_5xx,
            "orders_per_s": round(orders_per_s, 1),
            "p50_ms": round(statistics.median(latencies_ms), 1),
            "p99_ms": round(percentile(latencies_ms, 0.99), 1),
            "hot_row_tps": round(tps, 1) if tps is not None else None,
            "requests": len(results),
            "statuses": statuses,
            "other_statuses": unexpected,
            "requests_per_s": round(len(results) / wall, 1),
            "checkout_wall_s": round(wall, 2),
            "cpu_ms_per_post": cpu_per_post,
            "orders": counted["orders"],
            "chains": len(sizes),
            "clients": args.clients,
            "gunicorn": " ".join(gunicorn_args),
            "servers": args.servers,
        }
        if check is not None:
            outcome["rule_change_through_other_server"] = {**check.seen, "enforced": check.enforced()}
        share = outcome["orders_per_s"] / tps if tps else None
        outcome["share_of_hot_row"] = round(share, 3) if share is not None else None
        outcome["target_met"] = bool(
            outcome["oversold"] == 0
            and outcome["quota_breaches"] == 0
            and errors_5xx == 0
            and not unexpected
            and outcome["sold"] == expected
            and outcome["p99_ms"] < TARGET_P99_MS
            and share is not None
            and share >= TARGET_SHARE_OF_HOT_ROW
            and (check is None or check.enforced())
        )
        return outcome
    finally:
        for server in servers:
            if args.keep:
                log(f"gunicorn log: {server.log_path}")
            server.stop()
        if created and not args.keep_database:
            database.drop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="Redis for the app (REDIS_URL); an empty string runs without it",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server (its database is only used to create and drop the scratch one)",
    )
    parser.add_argument("--buyers", type=int, default=1000)
    parser.add_argument("--solo-chains", type=int, default=40, help="employees alone in their chain")
    parser.add_argument("--chain-size", type=int, default=12, help="buyers in each other chain")
    parser.add_argument("--allocated", type=int, default=300)
    parser.add_argument("--general-stock", type=int, default=100, help="units of the variant left outside the festival")
    parser.add_argument("--chain-cap", type=int, default=3)
    parser.add_argument("--buyer-limit", type=int, default=2)
    parser.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients (and pgbench clients)")
    parser.add_argument(
        "--servers",
        type=int,
        default=int(os.environ.get("SERVERS") or 1),
        help="gunicorn instances on ports of their own, sharing PostgreSQL and Redis; the clients are "
        "spread over them, and with 2 or more an operator's rule change through the first is checked "
        "on the second during the sale",
    )
    parser.add_argument("--workers", type=int, default=None, help="gunicorn processes (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, default=None, help="threads a process (default: gunicorn.conf.py's)")
    parser.add_argument(
        "--worker-connections",
        type=int,
        default=None,
        help="keep-alive connections one worker may hold (default: clients / workers, rounded up, + 2)",
    )
    parser.add_argument("--login-threads", type=int, default=8)
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the work folder and gunicorn's log")
    parser.add_argument("--keep-database", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up on SIGTERM too
    try:
        outcome = run(args)
    except BenchError as exc:
        log(f"failed: {exc}")
        print(json.dumps({"error": str(exc)}))
        return 1
    print(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
