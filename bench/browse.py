"""`make bench-browse`: how fast a logged-in employee can browse the shop, next to hello-world Flask.

Builds a throw-away instance folder (SQLite there, or DATABASE_URL when set), runs the migrations and
the demo seed, starts gunicorn on the shop and on bench/hello.py with the same settings, logs in as a
demo employee, and loads the product page, a category page and the home page with 32 connections.

Progress goes to stderr; the last line on stdout is one JSON object:
    {"product_page_rps": ..., "product_page_p99_ms": ..., "hello_rps": ..., "product_page_ratio": ...,
     "errors": ..., "category_page_rps": ..., ...}

The load generator is wrk (installed with apt-get when missing and running as root); without it a
small asyncio HTTP/1.1 keep-alive client in this file stands in, and the JSON says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import multiprocessing
import os
import re
import runpy
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cpu  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
BIN = Path(sys.executable).parent
GUNICORN_CONFIG = ROOT / "gunicorn.conf.py"

TARGET_RATIO = 0.35
TARGET_P99_MS = 250.0
USER_AGENT = "neigou-bench/1.0"  # the same for log-in and load: Flask-Login ties the session to it
PAGES = ("product_page", "category_page", "home_page")
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')

SEED_TIMEOUT_S = 900
CLI_TIMEOUT_S = 300
READY_TIMEOUT_S = 60
HTTP_TIMEOUT_S = 30


class BenchError(Exception):
    pass


# Which CPUs the servers and the load generator may use (taskset prefixes); filled in by run().
CPU_PLAN: dict[str, list[str]] = {"server": [], "load": []}


def plan_cpus(pin: bool) -> str:
    """Give the load generator CPU 0 and the server under test the others, so that wrk does not
    compete with the app for the same core and the hello-world/shop comparison is stable."""
    cpus = os.cpu_count() or 1
    if not pin or cpus < 2 or shutil.which("taskset") is None:
        return "not pinned"
    CPU_PLAN["server"] = ["taskset", "-c", f"1-{cpus - 1}" if cpus > 2 else "1"]
    CPU_PLAN["load"] = ["taskset", "-c", "0"]
    return f"servers on CPU {CPU_PLAN['server'][-1]}, load generator on CPU 0"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# ---- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(args: list[str], env: dict, timeout: float, what: str) -> str:
    log(f"{what}: {' '.join(args)}")
    try:
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{what} did not finish within {timeout:.0f}s") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        raise BenchError(f"{what} failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def gunicorn_settings(workers: int | None = None, threads: int | None = None) -> list[str]:
    """gunicorn's arguments for a benchmark's server: the project's gunicorn.conf.py, as
    production runs it (from whatever folder the app is started in), with the processes and
    threads a run asks for instead of its own."""
    settings = ["--config", str(GUNICORN_CONFIG)]
    if workers is not None:
        settings += ["--workers", str(workers)]
    if threads is not None:
        settings += ["--threads", str(threads)]
    return settings


def configured_workers() -> int:
    """How many processes gunicorn.conf.py starts, for this process's CPUs and environment."""
    return runpy.run_path(str(GUNICORN_CONFIG))["workers"]


class Gunicorn:
    """One gunicorn in its own process group, so that stopping it stops its workers too."""

    def __init__(self, name: str, app_spec: str, chdir: Path, args: list[str], env: dict, log_dir: Path):
        self.name, self.app_spec, self.chdir, self.args, self.env = name, app_spec, chdir, args, env
        self.log_path = log_dir / f"gunicorn-{name}.log"
        self.port = 0
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.port = free_port()
        exe = BIN / "gunicorn"
        command = [str(exe)] if exe.exists() else [sys.executable, "-m", "gunicorn"]
        command = [*CPU_PLAN["server"], *command]
        command += [*self.args, "--bind", f"127.0.0.1:{self.port}", "--chdir", str(self.chdir), self.app_spec]
        log(f"starting gunicorn for {self.name}: {' '.join(command)}")
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(
                command,
                cwd=self.chdir,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"gunicorn for {self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status = http_get_status(self.port, "/healthz")
            except OSError:
                status = None
            if status == 200:
                log(f"{self.name} is up on port {self.port}")
                return
            time.sleep(0.2)
        raise BenchError(f"{self.name}: /healthz did not answer 200 within {READY_TIMEOUT_S}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        pgid = self.proc.pid  # its own session: process group id == its pid
        try:
            os.killpg(pgid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            log(f"gunicorn for {self.name} ignored SIGTERM; killing it")
            os.killpg(pgid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        with contextlib.suppress(ProcessLookupError, PermissionError):  # workers left behind by a dead master
            os.killpg(pgid, signal.SIGKILL)
        self.proc = None
        log(f"stopped gunicorn for {self.name}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


# ---- a small HTTP client for log-in and checks --------------------------------------------------


def http_get_status(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path, headers={"User-Agent": USER_AGENT})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


class Browser:
    """Just enough of a browser: a cookie jar, form posts, no redirects followed."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.cookie_changes = 0

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT_S)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            set_cookies = response.headers.get_all("Set-Cookie") or []
            status, location = response.status, response.headers.get("Location", "")
        finally:
            conn.close()
        for line in set_cookies:
            pair = line.split(";", 1)[0]
            name, _, value = pair.partition("=")
            name, value = name.strip(), value.strip()
            expired = "max-age=0" in line.lower() or "expires=thu, 01 jan 1970" in line.lower()
            if expired or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
            self.cookie_changes += 1
        return status, {"location": location}, text

    def get(self, path: str) -> tuple[int, dict, str]:
        return self.request("GET", path)

    def post(self, path: str, form: dict) -> tuple[int, dict, str]:
        return self.request("POST", path, form)


def _csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    if not match:
        raise BenchError("no csrf_token input on /login")
    return match.group(1) or match.group(2)


def log_in(browser: Browser, email: str, password: str) -> str:
    """Log in through the real form; returns the home page HTML as the employee sees it."""
    status, _, html = browser.get("/login")
    if status != 200:
        raise BenchError(f"GET /login answered {status}")
    status, headers, html = browser.post(
        "/login", {"email": email, "password": password, "csrf_token": _csrf_token(html)}
    )
    target = urlsplit(headers["location"]).path
    if status not in (302, 303) or target.startswith("/login"):
        errors = re.findall(r'<p class="error">([^<]*)</p>', html)
        raise BenchError(f"log-in as {email} failed (HTTP {status}): {'; '.join(errors) or 'no message'}")
    status, _, html = browser.get("/")
    if status != 200 or 'action="/logout"' not in html:
        raise BenchError(f"after log-in, / answered {status} without a log-out button: the session did not stick")
    return html


def _links(html: str, prefix: str) -> list[str]:
    seen: dict[str, None] = {}
    for path in re.findall(rf'href="({re.escape(prefix)}[^"?#]+)"', html):
        seen.setdefault(path)
    return list(seen)


def choose_pages(browser: Browser, home_html: str, product: str | None, category: str | None) -> dict[str, str]:
    """The product page of a purchasable product (variants, price table, cart form), its category, and /."""
    if product:
        product_path = f"/p/{product}"
    else:
        candidates = _links(home_html, "/p/")
        if not candidates:
            raise BenchError("the home page links no product (/p/...): is the demo seed empty?")
        product_path = candidates[0]
        for path in candidates[:12]:
            status, _, html = browser.get(path)
            if status == 200 and 'class="add-to-cart"' in html:
                product_path = path
                break
    if category:
        category_path = f"/c/{category}"
    else:
        status, _, html = browser.get(product_path)
        crumbs = _links(html, "/c/") if status == 200 else []
        crumbs = crumbs or _links(home_html, "/c/")
        if not crumbs:
            raise BenchError("no category link (/c/...) on the product page nor on the home page")
        category_path = crumbs[0]
    return {"product_page": product_path, "category_page": category_path, "home_page": "/"}


def check_page(browser: Browser, path: str) -> int:
    status, headers, html = browser.get(path)
    if status != 200:
        where = f" to {headers['location']}" if headers["location"] else ""
        raise BenchError(f"GET {path} answered {status}{where}: the page is not served to the employee")
    return len(html.encode())


# ---- load generators -----------------------------------------------------------------------------

WRK_LUA = r"""
-- Counts every answer other than 200 (a 302 to /login is a failure here) and prints JSON at the end.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_ok = 0
  statuses = {}
end

function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad, merged = 0, {}
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("not_ok") or 0)
    local st = thread:get("statuses") or {}
    for code, n in pairs(st) do merged[code] = (merged[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(merged) do table.insert(parts, string.format('"%s":%d', code, n)) end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"not_ok":%d,"statuses":{%s},' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"lat_mean_us":%.1f,"lat_max_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, bad, table.concat(parts, ","),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
"""


class Wrk:
    label = "wrk"

    def __init__(self, exe: str, lua_path: Path, threads: int):
        self.exe, self.lua_path, self.threads = exe, lua_path, threads
        lua_path.write_text(WRK_LUA)
        try:
            version = subprocess.run([exe, "-v"], capture_output=True, text=True, timeout=10)
            first = (version.stdout + version.stderr).strip().splitlines()
            if first and first[0].startswith("wrk "):
                self.label = " ".join(first[0].split()[:2])
        except (OSError, subprocess.TimeoutExpired):
            pass

    def run(self, port: int, path: str, cookie: str, connections: int, seconds: int) -> dict:
        threads = max(1, min(self.threads, connections))
        command = [
            *CPU_PLAN["load"],
            self.exe,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(self.lua_path),
            "-H",
            f"User-Agent: {USER_AGENT}",
            "-H",
            "Accept: text/html",
        ]
        if cookie:
            command += ["-H", f"Cookie: {cookie}"]
        command.append(f"http://127.0.0.1:{port}{path}")
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"wrk did not finish {path} in time") from exc
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
        if done.returncode != 0 or line is None:
            raise BenchError(f"wrk failed (exit {done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
        raw = json.loads(line[len("WRK_JSON ") :])
        duration = raw["duration_us"] / 1e6
        socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
        return {
            "requests": raw["requests"],
            "rps": raw["requests"] / duration if duration else 0.0,
            "p50_ms": raw["p50_us"] / 1000,
            "p90_ms": raw["p90_us"] / 1000,
            "p99_ms": raw["p99_us"] / 1000,
            "max_ms": raw["lat_max_us"] / 1000,
            "mean_ms": raw["lat_mean_us"] / 1000,
            "not_ok": raw["not_ok"],
            "statuses": raw["statuses"],
            "socket_errors": socket_errors,
            "errors": raw["not_ok"] + socket_errors,
            "bytes_per_response": raw["bytes"] / raw["requests"] if raw["requests"] else 0,
        }


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, int]:
    """One HTTP/1.1 response: (status, connection reusable, body bytes)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, close = None, False, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection" and value == b"close":
            close = True
    size = 0
    if chunked:
        while True:
            chunk = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if chunk == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                break
            size += len(await reader.readexactly(chunk + 2)) - 2
    elif length is not None:
        size = len(await reader.readexactly(length))
    else:
        size = len(await reader.read())
        close = True
    return status, not close, size


async def _load_connection(port: int, request: bytes, deadline: float, latencies: list, counts: dict) -> None:
    writer = None
    while time.perf_counter() < deadline:
        try:
            if writer is None:
                reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
            started = time.perf_counter()
            writer.write(request)
            status, keep, size = await asyncio.wait_for(_read_response(reader), 5)
            finished = time.perf_counter()
            if finished > deadline:
                break
            latencies.append(finished - started)
            counts["bytes"] += size
            if status != 200:
                counts["not_ok"] += 1
                counts["statuses"][str(status)] = counts["statuses"].get(str(status), 0) + 1
            if not keep:
                writer.close()
                writer = None
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            counts["socket_errors"] += 1
            if writer is not None:
                writer.close()
                writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


def _load_process(port: int, path: str, cookie: str, connections: int, seconds: float) -> tuple[list, dict]:
    headers = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"User-Agent: {USER_AGENT}",
        "Accept: text/html",
        "Connection: keep-alive",
    ]
    if cookie:
        headers.append(f"Cookie: {cookie}")
    request = ("\r\n".join(headers) + "\r\n\r\n").encode()
    latencies: list[float] = []
    counts = {"not_ok": 0, "socket_errors": 0, "bytes": 0, "statuses": {}}

    async def main() -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(
            *(_load_connection(port, request, deadline, latencies, counts) for _ in range(connections))
        )

    asyncio.run(main())
    return latencies, counts


class PythonLoad:
    """The fallback: asyncio keep-alive sockets spread over `threads` processes (like wrk -t)."""

    label = "python-asyncio-fallback"

    def __init__(self, threads: int):
        self.threads = threads

    def run(self, port: int, path: str, cookie: str, connections: int, seconds: int) -> dict:
        procs = max(1, min(self.threads, connections))
        shares = [connections // procs + (1 if i < connections % procs else 0) for i in range(procs)]
        context = multiprocessing.get_context("fork")
        with context.Pool(procs) as pool:
            started = time.perf_counter()
            pending = pool.starmap_async(_load_process, [(port, path, cookie, n, seconds) for n in shares])
            results = pending.get(timeout=seconds + 60)
            elapsed = min(time.perf_counter() - started, float(seconds))
        latencies = sorted(lat for lats, _ in results for lat in lats)
        not_ok = sum(c["not_ok"] for _, c in results)
        socket_errors = sum(c["socket_errors"] for _, c in results)
        statuses: dict[str, int] = {}
        for _, c in results:
            for code, n in c["statuses"].items():
                statuses[code] = statuses.get(code, 0) + n
        count = len(latencies)

        def pct(q: float) -> float:
            return latencies[min(count - 1, max(0, int(q * count + 0.5) - 1))] * 1000 if count else 0.0

        return {
            "requests": count,
            "rps": count / elapsed if elapsed else 0.0,
            "p50_ms": pct(0.50),
            "p90_ms": pct(0.90),
            "p99_ms": pct(0.99),
            "max_ms": latencies[-1] * 1000 if count else 0.0,
            "mean_ms": sum(latencies) / count * 1000 if count else 0.0,
            "not_ok": not_ok,
            "statuses": statuses,
            "socket_errors": socket_errors,
            "errors": not_ok + socket_errors,
            "bytes_per_response": sum(c["bytes"] for _, c in results) / count if count else 0,
        }


def load_generator(args: argparse.Namespace, work: Path):
    if args.loadgen == "python":
        log("load generator: Python asyncio fallback (asked for with --loadgen python)")
        return PythonLoad(args.load_threads)
    exe = shutil.which("wrk")
    if exe is None and not args.no_install and os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk is not installed; installing it with apt-get (running as root)")
        apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            for step in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
                done = subprocess.run(step, env=apt_env, capture_output=True, text=True, timeout=300)
                if done.returncode != 0:
                    log(f"{' '.join(step)} failed: {(done.stderr or done.stdout).strip()[-300:]}")
                    break
        except (OSError, subprocess.TimeoutExpired) as exc:
            log(f"apt-get did not work: {exc}")
        exe = shutil.which("wrk")
    if exe is None:
        if args.loadgen == "wrk":
            raise BenchError("wrk is required (--loadgen wrk) and could not be found or installed")
        log(
            "wrk is not available: using the Python asyncio FALLBACK load generator; "
            "its numbers are lower than wrk's and not comparable with them"
        )
        return PythonLoad(args.load_threads)
    log(f"load generator: {exe}")
    return Wrk(exe, work / "report.lua", args.load_threads)


# ---- the benchmark -------------------------------------------------------------------------------


def measure(gen, port: int, path: str, cookie: str, args: argparse.Namespace, name: str) -> dict:
    if args.warmup > 0:
        warm = gen.run(port, path, cookie, args.connections, args.warmup)
        log(f"{name}: warm-up {args.warmup}s, {warm['rps']:.0f} req/s, {warm['errors']} error(s)")
    before = cpu.snapshot()
    result = gen.run(port, path, cookie, args.connections, args.duration)
    # The gunicorn serving it (the other one idles meanwhile): steadier than requests/s.
    result["app_cpu_ms"] = cpu.split_ms(before, cpu.snapshot(), per=result["requests"]).get("app", 0.0)
    statuses = f" statuses {result['statuses']}" if result["statuses"] else ""
    log(
        f"{name} GET {path}: {result['rps']:.1f} req/s, p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms, {result['app_cpu_ms']:.3f} ms of app CPU "
        f"a request, {result['requests']} requests, "
        f"{result['not_ok']} non-200, {result['socket_errors']} socket error(s){statuses}"
    )
    return result


def demo_logins(env: dict) -> list[tuple[str, str, str]]:
    """The seed's DEMO_LOGINS, as `flask shop demo-logins` prints them ("  role  email  /  password")."""
    out = run_cli([str(BIN / "flask"), "shop", "demo-logins"], env, CLI_TIMEOUT_S, "demo log-ins")
    found = []
    for line in out.splitlines():
        match = re.match(r"^\s+(\S+)\s+(\S+@\S+)\s+/\s+(.+?)\s*$", line)
        if match:
            found.append(match.groups())
    return found


def pick_employee(logins: list[tuple[str, str, str]]) -> tuple[str, str]:
    if not logins:
        raise BenchError("no demo log-ins found (shop.demo.DEMO_LOGINS / `flask shop demo-logins`)")
    for wanted in ("employee", "member", "staff"):
        for role, email, password in logins:
            if role.lower() == wanted:
                return email, password
    for role, email, password in logins:
        if "employee" in role.lower():
            return email, password
    avoid = ("admin", "operator", "sales", "contact", "friend")
    for role, email, password in logins:
        if not any(word in role.lower() for word in avoid):
            return email, password
    return logins[0][1], logins[0][2]


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration",
        type=int,
        default=int(os.environ.get("BENCH_DURATION", 6)),
        help="seconds measured per page and round (default 6)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=int(os.environ.get("BENCH_WARMUP", 2)),
        help="warm-up seconds before each measurement (default 2)",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--rounds",
        type=int,
        default=int(os.environ.get("BENCH_ROUNDS", 3)),
        help="interleaved rounds of hello-world and the pages; medians count (default 3)",
    )
    parser.add_argument("--load-threads", type=int, default=2, help="wrk -t (or fallback processes)")
    parser.add_argument(
        "--workers",
        type=int,
        default=_env_int("BENCH_WORKERS"),
        help="gunicorn processes, for the shop and for hello-world alike (default: gunicorn.conf.py's)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=_env_int("BENCH_THREADS"),
        help="gunicorn threads per process (default: gunicorn.conf.py's)",
    )
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument(
        "--no-pin", action="store_true", help="let servers and load generator share all CPUs (default: pin them apart)"
    )
    parser.add_argument(
        "--no-seed", action="store_true", help="use the database as it is (with DATABASE_URL); needs --login"
    )
    parser.add_argument(
        "--login", default=os.environ.get("BENCH_LOGIN"), help="EMAIL:PASSWORD instead of the demo employee"
    )
    parser.add_argument("--product", help="product slug to load (default: a purchasable one from /)")
    parser.add_argument("--category", help="category slug to load (default: the product's)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance folder and logs")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, work: Path, servers: list[Gunicorn]) -> dict:
    instance = work / "instance"
    instance.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("SERVER_NAME", "FLASK_DEBUG", "FLASK_RUN_PORT")}
    env.update(
        NEIGOU_ENV="production",
        FLASK_APP="wsgi",
        SECRET_KEY=secrets.token_hex(32),
        SESSION_COOKIE_SECURE="0",
        PREFERRED_URL_SCHEME="http",
        PUBLIC_URL="http://127.0.0.1",  # the load generator's Host (ports are not compared)
        NEIGOU_INSTANCE_PATH=str(instance),
        PYTHONUNBUFFERED="1",
    )
    database = env.get("DATABASE_URL")
    if database:
        log(f"database: DATABASE_URL ({urlsplit(database).scheme}://{urlsplit(database).hostname or ''}...)")
    else:
        log(f"database: SQLite in {instance}")
    flask = str(BIN / "flask")
    run_cli([flask, "db", "upgrade"], env, CLI_TIMEOUT_S, "migrations")
    if args.no_seed:
        log("--no-seed: using the data already in the database")
    else:
        started = time.monotonic()
        run_cli([flask, "shop", "seed-demo", "--if-empty"], env, SEED_TIMEOUT_S, "demo seed")
        log(f"demo seed done in {time.monotonic() - started:.1f}s")
    if args.login:
        email, _, password = args.login.partition(":")
    else:
        email, password = pick_employee(demo_logins(env))

    gen = load_generator(args, work)
    cpu_plan = plan_cpus(not args.no_pin)
    log(f"CPUs: {cpu_plan}")
    gunicorn_args = [*gunicorn_settings(args.workers, args.threads), "--log-level", "warning"]
    hello = Gunicorn("hello", "hello:app", BENCH_DIR, gunicorn_args, env, work)
    shop = Gunicorn("shop", "wsgi:app", ROOT, gunicorn_args, env, work)
    servers += [hello, shop]
    hello.start()
    shop.start()  # idle while the other one is measured
    if http_get_status(hello.port, "/") != 200:
        raise BenchError("hello-world does not answer 200 on /")

    browser = Browser(shop.port)
    log(f"logging in as {email}")
    home_html = log_in(browser, email, password)
    pages = choose_pages(browser, home_html, args.product, args.category)
    for name in PAGES:
        size = check_page(browser, pages[name])
        log(f"{name}: {pages[name]} ({size} bytes of HTML)")
    before = browser.cookie_changes
    for name in PAGES:
        check_page(browser, pages[name])
    if browser.cookie_changes != before:
        log("note: the shop sets a cookie on plain page views; the load sends the log-in cookie unchanged")
    cookie = browser.cookie_header()

    # Interleaved rounds (hello-world, then each page): this machine's speed drifts, so each
    # page is compared with the hello-world run right before it, and the median round counts.
    rounds: list[dict[str, dict]] = []
    for number in range(1, args.rounds + 1):
        round_results = {"hello": measure(gen, hello.port, "/", "", args, f"hello (round {number})")}
        for name in PAGES:
            round_results[name] = measure(gen, shop.port, pages[name], cookie, args, f"{name} (round {number})")
            status = browser.get(pages[name])[0]
            if status != 200:  # logged out during the run?
                log(f"after the run, {pages[name]} answers {status}: counted as an error")
                round_results[name]["errors"] += 1
        rounds.append(round_results)
    results = {name: combine([r[name] for r in rounds]) for name in ("hello", *PAGES)}
    for name in PAGES:
        results[name]["ratio"] = statistics.median(r[name]["rps"] / r["hello"]["rps"] for r in rounds)
    for server in (hello, shop):
        server.stop()

    summary = summarise(results, pages, gen.label, args, " ".join(gunicorn_args))
    summary["cpus_pinned"] = cpu_plan
    return summary


def combine(runs: list[dict]) -> dict:
    """Several runs of one target: median throughput, the worst latencies, all errors."""
    merged = dict(runs[0])
    merged["rps"] = statistics.median(r["rps"] for r in runs)
    merged["rps_runs"] = [round(r["rps"], 1) for r in runs]
    merged["app_cpu_ms"] = statistics.median(r["app_cpu_ms"] for r in runs)
    for key in ("requests", "not_ok", "socket_errors", "errors"):
        merged[key] = sum(r[key] for r in runs)
    for key in ("p50_ms", "p90_ms", "p99_ms", "max_ms"):
        merged[key] = max(r[key] for r in runs)
    statuses: dict[str, int] = {}
    for r in runs:
        for code, n in r["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    merged["statuses"] = statuses
    return merged


def summarise(results: dict, pages: dict, label: str, args: argparse.Namespace, gunicorn: str) -> dict:
    hello_rps = results["hello"]["rps"]
    out: dict = {}
    first = results["product_page"]
    out["product_page_rps"] = round(first["rps"], 1)
    out["product_page_p99_ms"] = round(first["p99_ms"], 1)
    out["hello_rps"] = round(hello_rps, 1)
    out["product_page_ratio"] = round(first["ratio"], 3)
    out["errors"] = sum(r["errors"] for r in results.values())
    for name in PAGES[1:]:
        r = results[name]
        out[f"{name}_rps"] = round(r["rps"], 1)
        out[f"{name}_p99_ms"] = round(r["p99_ms"], 1)
        out[f"{name}_ratio"] = round(r["ratio"], 3)
    for name in (*PAGES, "hello"):
        out[f"{name}_app_cpu_ms"] = round(results[name]["app_cpu_ms"], 3)
        out[f"{name}_p50_ms"] = round(results[name]["p50_ms"], 1)
        out[f"{name}_errors"] = results[name]["errors"]
    out["hello_p99_ms"] = round(results["hello"]["p99_ms"], 1)
    out["hello_rps_runs"] = results["hello"]["rps_runs"]
    for name in PAGES:
        out[f"{name}_rps_runs"] = results[name]["rps_runs"]
    met = {
        name: results[name]["ratio"] >= TARGET_RATIO
        and results[name]["p99_ms"] < TARGET_P99_MS
        and results[name]["errors"] == 0
        for name in PAGES
    }
    out["product_page_target_met"] = met["product_page"]
    out["all_pages_target_met"] = all(met.values())
    out["pages"] = pages
    out["load_generator"] = label
    out["connections"] = args.connections
    out["duration_s"] = args.duration
    out["gunicorn"] = gunicorn
    out["cpus"] = os.cpu_count()

    log("")
    log(f"{'page':<14}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}{'errors':>8}  verdict")
    for name in ("hello", *PAGES):
        r = results[name]
        ratio = r.get("ratio", 1.0)
        verdict = "" if name == "hello" else ("ok" if met[name] else "below target")
        log(
            f"{name:<14}{r['rps']:>10.1f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{ratio:>8.1%}{r['errors']:>8}  {verdict}"
        )
    log(
        f"target per page: >= {TARGET_RATIO:.0%} of hello-world req/s, p99 < {TARGET_P99_MS:.0f} ms "
        f"at {args.connections} connections, no errors  (load: {label})"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.no_seed and not args.login:
        log("--no-seed needs --login EMAIL:PASSWORD (or BENCH_LOGIN)")
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="neigou-bench-"))
    servers: list[Gunicorn] = []
    code = 0
    try:
        summary = run(args, work, servers)
    except (BenchError, OSError, multiprocessing.TimeoutError) as exc:
        log(f"FAILED: {exc}")
        for server in servers:
            if server.log_path.exists() and server.log_path.stat().st_size:
                log(f"--- last lines of {server.log_path.name} ---\n{server.log_tail()}")
        summary = {"error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}
        code = 1
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
