"""The baseline for `make bench-flash-sale`: the least a correct "buy now" can do in Flask here.

One Flask view on psycopg, no session, CSRF, log-in, ORM, audit or page: in one transaction it
locks the buyer's and the chain's counters, refuses above the per-buyer limit or the chain cap,
takes the stock with a conditional update and writes the order. The same sale as
`bench/flash_sale.py` (its chains, its shuffled presses, its 32 clients, its gunicorn settings
and its pgbench) runs against it, so its share of `hot_row_tps` is the most a Flask app can
reach on this machine with the database, the app and the load on the same cores.

    .venv/bin/python bench/bare_buy.py          # options: those of bench/flash_sale.py

The last stdout line is JSON: `sold`, `statuses`, `orders_per_s`, `requests_per_s`, `p99_ms`,
`cpu_ms_per_post` (as in `bench/flash_sale.py`), `hot_row_tps`, `share_of_hot_row`.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import tempfile
import threading
from pathlib import Path

import psycopg
from flask import Flask, request

app = Flask(__name__)
_connections = threading.local()  # one connection per gunicorn thread


def _connection() -> psycopg.Connection:
    if getattr(_connections, "conn", None) is None:
        _connections.conn = psycopg.connect(os.environ["BARE_BUY_DSN"])
    return _connections.conn


@app.post("/buy")
def buy():
    quantity, buyer = int(request.form["quantity"]), int(request.form["address_id"])
    conn = _connection()
    with conn.transaction():
        chain, bought = conn.execute(
            "SELECT chain, bought FROM bare_buyer WHERE id = %s FOR UPDATE", (buyer,)
        ).fetchone()
        (sold,) = conn.execute("SELECT sold FROM bare_chain WHERE id = %s FOR UPDATE", (chain,)).fetchone()
        if bought + quantity > int(os.environ["BARE_BUY_LIMIT"]) or sold + quantity > int(os.environ["BARE_BUY_CAP"]):
            return "refused: quota", 409
        taken = conn.execute(
            "UPDATE bare_item SET stock = stock - %s WHERE id = 1 AND stock >= %s RETURNING stock", (quantity, quantity)
        ).fetchone()
        if taken is None:
            return "refused: sold out", 409
        conn.execute("INSERT INTO bare_order (buyer, quantity) VALUES (%s, %s)", (buyer, quantity))
        conn.execute("UPDATE bare_buyer SET bought = bought + %s WHERE id = %s", (quantity, buyer))
        conn.execute("UPDATE bare_chain SET sold = sold + %s WHERE id = %s", (quantity, chain))
    return "", 303, {"Location": "/orders"}


@app.get("/healthz")
def healthz():
    return "ok"


TABLES = (
    "CREATE TABLE bare_item (id int PRIMARY KEY, stock int NOT NULL)",
    "CREATE TABLE bare_chain (id int PRIMARY KEY, sold int NOT NULL DEFAULT 0)",
    "CREATE TABLE bare_buyer (id int PRIMARY KEY, chain int NOT NULL REFERENCES bare_chain, bought int NOT NULL DEFAULT 0)",
    "CREATE TABLE bare_order (id bigserial PRIMARY KEY, buyer int NOT NULL REFERENCES bare_buyer, quantity int NOT NULL)",
)


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import cpu
    import flash_sale as sale  # the same sale: its data shapes, presses, load generator and pgbench

    args = sale.parse_args(argv)
    database = sale.ScratchDatabase(args.pg_url)
    database.create()
    server, work = None, Path(tempfile.mkdtemp(prefix="neigou-bare-buy-"))
    try:
        dsn = database.url.replace("postgresql+psycopg://", "postgresql://", 1)
        sizes = sale.chain_sizes(args.buyers, args.solo_chains, args.chain_size)
        buyers = []
        with psycopg.connect(dsn, autocommit=True) as conn:
            for statement in TABLES:
                conn.execute(statement)
            conn.execute("INSERT INTO bare_item VALUES (1, %s)", (args.allocated,))
            for chain, size in enumerate(sizes, 1):
                conn.execute("INSERT INTO bare_chain (id) VALUES (%s)", (chain,))
                for _ in range(size):
                    buyer = len(buyers) + 1
                    conn.execute("INSERT INTO bare_buyer (id, chain) VALUES (%s, %s)", (buyer, chain))
                    buyers.append(sale.Buyer(buyer, f"buyer-{buyer}", buyer, chain))
        gunicorn_args = [
            *sale.gunicorn_settings(args.workers, args.threads),
            "--worker-connections",
            str(sale.worker_connections(args)),
            "--backlog",
            "2048",
        ]
        gunicorn_args += ["--keep-alive", "30"]
        env = dict(os.environ, BARE_BUY_DSN=dsn, BARE_BUY_LIMIT=str(args.buyer_limit), BARE_BUY_CAP=str(args.chain_cap))
        server = sale.Gunicorn("bare-buy", "bare_buy:app", Path(__file__).resolve().parent, gunicorn_args, env, work)
        server.start()
        for buyer in buyers:
            buyer.port = server.port
        attempts = sale.plan_attempts(buyers, random.Random(args.seed))
        cpu_before = cpu.snapshot()
        results, began, wall = sale.run_checkouts([server.port], "/buy", attempts, args.clients)
        cpu_per_post = cpu.split_ms(cpu_before, cpu.snapshot(), per=len(results))
        server.stop()
        server = None
        placed_at = [done - began for status, _, done in results if status == 303]
        statuses: dict[str, int] = {}
        for status, _, _ in results:
            statuses[str(status)] = statuses.get(str(status), 0) + 1
        with psycopg.connect(dsn) as conn:
            (sold,) = conn.execute("SELECT coalesce(sum(quantity), 0) FROM bare_order").fetchone()
        tps = sale.hot_row_tps(database.url, args.clients, args.pgbench_seconds, work)
        orders_per_s = len(placed_at) / max(placed_at) if placed_at else 0.0
        outcome = {
            "sold": int(sold),
            "max_sellable": sale.max_sellable(args.allocated, args.chain_cap, args.buyer_limit, sizes),
            "statuses": statuses,
            "orders_per_s": round(orders_per_s, 1),
            "requests_per_s": round(len(results) / wall, 1),
            "p99_ms": round(sale.percentile([seconds * 1000 for _, seconds, _ in results], 0.99), 1),
            "cpu_ms_per_post": cpu_per_post,
            "hot_row_tps": tps,
            "share_of_hot_row": round(orders_per_s / tps, 3) if tps else None,
        }
        print(json.dumps(outcome), flush=True)
        return 0
    finally:
        if server is not None:
            server.stop()
        database.drop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
