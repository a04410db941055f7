"""`make bench-kpi`: the KPI dashboard at scale, over HTTP under gunicorn, on PostgreSQL.

Creates a scratch PostgreSQL database (dropped at the end), migrates it, writes the synthetic
data set (`flask shop seed-synthetic`, default 20,000 employees, 100,000 contacts, 1,000,000
events, 12 months), starts gunicorn and the worker (`flask shop worker`, its kpi-aggregate job
only, every --aggregate-every seconds; its first run, which recounts what the set-up changed,
ends before any page is measured), logs in as an admin and as an employee, then requests
each dashboard page and the employee's /network --requests times from --clients concurrent
clients, each request with random cuts (date range, festival, department, level).

Then: staleness (a share written through the database at t0; the operator's funnel CSV polled
until it counts it), and one incremental aggregation after --new-events new events (the worker
stopped first).

Progress goes to stderr; the last line on stdout is one JSON object:
    {"events": ..., "employees": ..., "pages": {"dashboard": {"p50_ms": ..., "p95_ms": ...}, ...},
     "staleness_s": ..., "aggregation_s": ..., ...}
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import cpu
import sqlalchemy as sa
from browse import BIN, ROOT, BenchError, Browser, Gunicorn, gunicorn_settings, log, log_in, run_cli
from flash_sale import ScratchDatabase, admin_engine, percentile

from kpis.cli import BULK_LOADED

PAGES = {
    "dashboard": "/ops/kpis",
    "expansion": "/ops/kpis/expansion",
    "sustainability": "/ops/kpis/sustainability",
    "long_tail": "/ops/kpis/long-tail",
    "operators": "/ops/kpis/operators",
    "platform": "/ops/kpis/platform",
    "festivals": "/ops/kpis/festivals",
    "network": "/network",
}
ADMIN_EMAIL = "bench-admin@neigou.example"
ADMIN_PASSWORD = "bench-admin-pass-1"
SYNTHETIC_PASSWORD = "synthetic-pass-1"
TARGET_P95_MS = 300.0
TARGET_STALENESS_S = 60.0


class AggregationWorker:
    """`flask shop worker` running only its kpi-aggregate job, every ``every`` seconds, in one
    long-lived process as in production; the durations of its runs are read from its log."""

    RUN = re.compile(r"kpi-aggregate: .*\(([0-9.]+) s\)$")

    def __init__(self, env: dict, every: float, work: Path):
        self.env, self.every = env, every
        self.log_path = work / "worker.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [str(BIN / "flask"), "shop", "worker", "--only", "kpi-aggregate"]
        command += ["--every", f"kpi-aggregate={round(self.every)}"]
        with self.log_path.open("w") as log_file:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log_file, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=600)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def wait_for_first_run(self, timeout: float = 600) -> float:
        """Wait until the worker's first run has ended; its duration. The first run after the
        bench's own set-up (the admin it creates is a new person: expansion is recounted whole)
        is not the steady state the pages are measured in, so no page is measured beside it."""
        deadline = time.monotonic() + timeout
        while not self.runs:
            if time.monotonic() > deadline or (self.process is not None and self.process.poll() is not None):
                raise BenchError("the aggregation worker did not finish a run")
            time.sleep(0.5)
        return self.runs[0]

    @property
    def runs(self) -> list[float]:
        lines = self.log_path.read_text().splitlines() if self.log_path.exists() else []
        return [float(m.group(1)) for line in lines if (m := self.RUN.search(line))]


def random_cuts(rng: random.Random, today: date, festivals: list[int], departments: list[int]) -> dict:
    days = rng.choice((7, 30, 30, 90))
    end = today - timedelta(days=rng.randint(0, 300))
    cuts = {"start": (end - timedelta(days=days - 1)).isoformat(), "end": end.isoformat()}
    roll = rng.random()
    if roll < 0.2 and festivals:
        cuts["festival"] = str(rng.choice(festivals))
    elif roll < 0.3:
        cuts["festival"] = "none"
    if rng.random() < 0.3 and departments:
        cuts["department"] = str(rng.choice(departments))
    if rng.random() < 0.2:
        cuts["level"] = str(rng.choice((0, 1, 2)))
    return cuts


def timed_get(port: int, path: str, cookie: str) -> tuple[int, float]:
    import http.client

    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers={"Cookie": cookie, "User-Agent": "neigou-bench/1.0"})
        response = conn.getresponse()
        response.read()
        status = response.status
    finally:
        conn.close()
    return status, (time.perf_counter() - started) * 1000


def measure_page(port: int, name: str, path: str, cookie: str, args, cuts: list[dict]) -> dict:
    urls = [f"{path}?{urlencode(c)}" if name != "network" else path for c in cuts]
    before = cpu.snapshot()
    with ThreadPoolExecutor(args.clients) as pool:
        results = list(pool.map(lambda url: timed_get(port, url, cookie), urls))
    cpu_per_request = cpu.split_ms(before, cpu.snapshot(), per=len(urls))
    latencies = [ms for _, ms in results]
    errors = sum(1 for status, _ in results if status != 200)
    figures = {
        "requests": len(results),
        "errors": errors,
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1),
        "cpu_ms_per_request": cpu_per_request,
    }
    log(f"{name}: {figures}")
    return figures


def share_count(browser_cookie: str, port: int, day: date) -> int:
    import http.client

    query = urlencode({"start": day.isoformat(), "end": day.isoformat()})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(
            "GET",
            f"/ops/kpis/funnel/funnel.csv?{query}",
            headers={"Cookie": browser_cookie, "User-Agent": "neigou-bench/1.0"},
        )
        body = conn.getresponse().read().decode("utf-8-sig")
    finally:
        conn.close()
    line = body.splitlines()[1]  # Shares,<count>,...
    return int(line.split(",")[1])


def company_today(engine) -> date:
    with engine.connect() as conn:
        zone = os.environ.get("DEFAULT_TIMEZONE", "Asia/Shanghai")
        return conn.execute(sa.text("SELECT (now() AT TIME ZONE :zone)::date"), {"zone": zone}).scalar_one()


def run(args: argparse.Namespace) -> dict:
    scratch = ScratchDatabase(args.database, name=args.reuse)
    if args.reuse is None:
        scratch.create()
    work = Path(tempfile.mkdtemp(prefix="neigou-bench-kpi-"))
    instance = work / "instance"
    instance.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("SERVER_NAME", "FLASK_DEBUG")}
    env.update(
        NEIGOU_ENV="production",
        FLASK_APP="wsgi",
        SECRET_KEY=secrets.token_hex(32),
        SESSION_COOKIE_SECURE="0",
        PUBLIC_URL="http://127.0.0.1",  # the load generator's Host (ports are not compared)
        NEIGOU_INSTANCE_PATH=str(instance),
        DATABASE_URL=scratch.url,
        PYTHONUNBUFFERED="1",
    )
    flask = str(BIN / "flask")
    server: Gunicorn | None = None
    loop: AggregationWorker | None = None
    engine = admin_engine(scratch.url)
    try:
        run_cli([flask, "db", "upgrade"], env, 300, "migrations")
        started = time.monotonic()
        seeded = run_cli(
            [
                flask, "shop", "seed-synthetic", "--if-absent",
                "--employees", str(args.employees), "--contacts", str(args.contacts),
                "--events", str(args.events), "--months", "12", "--seed", str(args.seed),
            ],
            env, 7200, "synthetic data",
        )  # fmt: skip
        seed_s = time.monotonic() - started
        log(f"seeded in {seed_s:.0f}s: {seeded.strip()}")
        if args.reuse is not None:
            # The rollups as this checkout's aggregation counts them (its tables may be new).
            log(run_cli([flask, "shop", "kpi-aggregate", "--full"], env, 3600, "full aggregation").strip())
            # As the seeding ends: the rewritten tables' pages marked all-visible (autovacuum's
            # work, later, in production), so that index-only scans stay index-only.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text(f"VACUUM (ANALYZE) {BULK_LOADED}"))
        run_cli(
            [flask, "shop", "create-admin", "--email", ADMIN_EMAIL, "--name", "Bench Admin", "--password", ADMIN_PASSWORD],
            env, 120, "admin",
        )  # fmt: skip
        with engine.connect() as conn:
            festivals = list(conn.execute(sa.text("SELECT id FROM festivals")).scalars())
            departments = list(conn.execute(sa.text("SELECT id FROM departments")).scalars())
            employee_email, employee_id = conn.execute(
                sa.text(
                    "SELECT u.email, u.id FROM users u JOIN users c ON c.root_employee_id = u.id "
                    "WHERE u.kind = 'employee' AND u.is_active GROUP BY u.id, u.email ORDER BY count(*) DESC LIMIT 1"
                )
            ).one()
        gunicorn_args = gunicorn_settings(args.workers, args.threads)
        server = Gunicorn("shop", "wsgi:app", ROOT, [*gunicorn_args, "--log-level", "warning"], env, work)
        server.start()
        loop = AggregationWorker(env, args.aggregate_every, work)
        loop.start()
        log(f"the worker's first run: {loop.wait_for_first_run():.1f} s")

        admin, employee = Browser(server.port), Browser(server.port)
        log_in(admin, ADMIN_EMAIL, ADMIN_PASSWORD)
        log_in(employee, employee_email, SYNTHETIC_PASSWORD)
        today = company_today(engine)
        rng = random.Random(args.seed)
        pages = {}
        for name, path in PAGES.items():
            if args.pages and name not in args.pages:
                continue
            cuts = [random_cuts(rng, today, festivals, departments) for _ in range(args.requests)]
            browser = employee if name == "network" else admin
            timed_get(server.port, path, browser.cookie_header())  # warm this page's code once
            pages[name] = measure_page(server.port, name, path, browser.cookie_header(), args, cuts)

        # Staleness: a share written now, polled on the operator's funnel until it counts.
        before = share_count(admin.cookie_header(), server.port, today)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO funnel_events (at, kind, actor_id, root_employee_id, link_owner_id, source) "
                    "VALUES (:at, 'share', :id, :id, :id, 'bench')"
                ),
                {"at": datetime.now(UTC).replace(tzinfo=None), "id": employee_id},
            )
        written = time.monotonic()
        staleness = None
        while time.monotonic() - written < 180:
            if share_count(admin.cookie_header(), server.port, today) > before:
                staleness = time.monotonic() - written
                break
            time.sleep(0.5)
        log(f"staleness: {staleness}")
        loop.stop()

        # One incremental aggregation after new events.
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO funnel_events (at, kind, actor_id, root_employee_id, link_owner_id, source) "
                    "SELECT now() AT TIME ZONE 'UTC' - (g || ' seconds')::interval, "
                    "(ARRAY['share','visit','consultation'])[1 + g % 3], :id, :id, :id, 'bench' "
                    "FROM generate_series(1, :n) AS g"
                ),
                {"id": employee_id, "n": args.new_events},
            )
        output = run_cli([flask, "shop", "kpi-aggregate"], env, 600, "one incremental aggregation")
        match = re.search(r"in ([0-9.]+) s", output)
        aggregation_s = float(match.group(1)) if match else None
        with engine.connect() as conn:
            events = conn.execute(sa.text("SELECT count(*) FROM funnel_events")).scalar_one()
            employees = conn.execute(sa.text("SELECT count(*) FROM users WHERE kind = 'employee'")).scalar_one()
        return {
            "events": events,
            "employees": employees,
            "pages": pages,
            "staleness_s": None if staleness is None else round(staleness, 1),
            "aggregation_s": aggregation_s,
            "aggregation_loop_runs_s": [round(s, 1) for s in loop.runs],
            "seed_s": round(seed_s),
            "requests_per_page": args.requests,
            "clients": args.clients,
            "gunicorn": " ".join(gunicorn_args),
            "targets": {"p95_ms": TARGET_P95_MS, "staleness_s": TARGET_STALENESS_S},
            # Only a run of every page can meet the target.
            "all_p95_within_target": len(pages) == len(PAGES)
            and all(p["p95_ms"] <= TARGET_P95_MS for p in pages.values()),
        }
    finally:
        if loop is not None:
            loop.stop()
        if server is not None:
            server.stop()
        engine.dispose()
        if args.reuse is None and not args.keep:
            scratch.drop()
        else:
            log(f"kept database {scratch.name} (reuse it with --reuse {scratch.name})")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database", default=os.environ.get("PG_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn processes (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, default=None, help="threads a process (default: gunicorn.conf.py's)")
    parser.add_argument("--aggregate-every", type=float, default=20.0)
    parser.add_argument("--new-events", type=int, default=10_000)
    parser.add_argument(
        "--pages", type=lambda v: v.split(","), help=f"measure only these pages (of {', '.join(PAGES)})"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database at the end")
    parser.add_argument(
        "--reuse",
        metavar="NAME",
        help="measure on this database of the server (one kept by --keep) instead of a new one: "
        "migrated, seeded only if its seed is absent, then aggregated in full; never dropped",
    )
    args = parser.parse_args(argv)
    unknown = set(args.pages or ()) - set(PAGES)
    if unknown:
        parser.error(f"no such page: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        result = run(args)
    except BenchError as exc:
        log(f"failed: {exc}")
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
