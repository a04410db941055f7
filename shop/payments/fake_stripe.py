"""A local fake Stripe server (the ``localstripe`` package) for the demo and the tests.

``python -m shop.payments.fake_stripe --port 8420 --webhook-url ... --webhook-secret ...``
serves it in the foreground until SIGTERM or Ctrl-C: ``make run`` starts it as one of the
children of its supervisor (Procfile.dev), the test suite starts its own on a free port
(``start``). A port already taken is refused with a message naming it, never reused: whatever
listens there (another checkout's fake Stripe) would get this shop's payments and send its
webhooks elsewhere.

The server runs in this process, on a socket bound here to 127.0.0.1 only, with its data in
memory only: localstripe's own entry point pickles its data to ``/tmp/localstripe.pickle``
after every write, a file shared by every fake Stripe on the machine; here nothing is written
but the access log and the pid file, both under the instance path (``NEIGOU_INSTANCE_PATH``).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from flask_babel import gettext as _

from shop.devserver import default_instance_path

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def is_up(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/js.stripe.com/v3/", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start(port: int, log_path: Path, *, timeout: float = 30.0) -> subprocess.Popen:
    """Start the server on ``port`` in a process of its own and wait until it answers; the
    caller stops it (terminate)."""
    base = f"http://{HOST}:{port}"
    command = [sys.executable, "-m", "shop.payments.fake_stripe", "--port", str(port), "--log", str(log_path)]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    deadline = time.monotonic() + timeout
    while not is_up(base):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise RuntimeError(f"the fake Stripe server did not start on port {port}; see {log_path}")
        time.sleep(0.1)
    return process


def register_webhook(base: str, url: str, secret: str, name: str = "neigou") -> None:
    """Have the fake server deliver its events, signed with ``secret``, to ``url``."""
    body = urllib.parse.urlencode({"url": url, "secret": secret}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{base}/_config/webhooks/{name}", data=body), timeout=5):
        pass


def clear(base: str) -> None:
    """Forget every object the fake server holds (a clean account)."""
    request = urllib.request.Request(f"{base}/_config/data", method="DELETE")
    with urllib.request.urlopen(request, timeout=5):
        pass


class PortTaken(Exception):
    def __init__(self, port: int, reason: str):
        super().__init__(port, reason)
        self.port, self.reason = port, reason


def listen(port: int) -> socket.socket:
    """A socket listening on 127.0.0.1:``port``; PortTaken when something else has it."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT from a last run is no obstacle
    try:
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise PortTaken(port, exc.strerror or str(exc)) from exc
    return sock


def serve(sock: socket.socket, *, log_path: Path, pid_path: Path, webhook: tuple[str, str] | None) -> None:
    """Serve localstripe on ``sock`` until SIGTERM or SIGINT; the pid file lives as long as it."""
    # Development tools only: imported when the fake server runs, never when the shop imports this.
    from aiohttp import web
    from localstripe.resources import store
    from localstripe.server import app
    from localstripe.webhooks import register_webhook as register

    store.dump_to_disk = lambda: None  # in memory only: no /tmp/localstripe.pickle (module doc)
    if webhook:
        register("neigou", webhook[0], webhook[1], None)
    access = logging.getLogger("aiohttp.access")
    access.setLevel(logging.INFO)
    access.addHandler(logging.FileHandler(log_path))
    access.propagate = False
    pid_path.write_text(str(os.getpid()))
    try:
        web.run_app(app, sock=sock, access_log=access, print=None, handle_signals=True)
    finally:
        pid_path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the fake Stripe server until SIGTERM or Ctrl-C.")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--webhook-url", help="where to deliver the fake server's events")
    parser.add_argument("--webhook-secret", help="the secret that signs them")
    parser.add_argument("--log", type=Path, help="access log (default: localstripe.log in the instance path)")
    args = parser.parse_args(argv)
    if bool(args.webhook_url) != bool(args.webhook_secret):
        parser.error("--webhook-url and --webhook-secret go together")
    log_path = args.log or default_instance_path() / "localstripe.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        sock = listen(args.port)
    except PortTaken as exc:
        print(
            _(
                "The fake Stripe cannot listen on port %(port)s: %(reason)s. Stop what listens there, or "
                "choose another port (make run FAKE_STRIPE_PORT=...).",
                port=exc.port,
                reason=exc.reason,
            ),
            file=sys.stderr,
        )
        return 1
    print(_("fake Stripe on http://%(host)s:%(port)s (log: %(log)s)", host=HOST, port=args.port, log=log_path))
    sys.stdout.flush()
    webhook = (args.webhook_url, args.webhook_secret) if args.webhook_url else None
    serve(sock, log_path=log_path, pid_path=log_path.with_name("localstripe.pid"), webhook=webhook)
    return 0


if __name__ == "__main__":  # pragma: no cover - run by make and the tests' fixture
    sys.exit(main())
