"""A local fake Stripe server (the ``localstripe`` package) for the demo and the tests.

``make run`` calls ``python -m shop.payments.fake_stripe`` to start it in the background on a
fixed port and register the demo's webhook; the test suite starts its own on a free port.
It keeps its data in memory only (``--from-scratch``), so each start is a clean account.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_up(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/js.stripe.com/v3/", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start(port: int, log_path: Path, *, timeout: float = 30.0) -> subprocess.Popen:
    """Start the server on ``port`` and wait until it answers; the caller stops it."""
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while not is_up(base):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start the fake Stripe server for the demo, unless it is up.")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--webhook-url", required=True)
    parser.add_argument("--webhook-secret", required=True)
    parser.add_argument("--log", type=Path, default=Path("instance/localstripe.log"))
    args = parser.parse_args(argv)
    base = f"http://127.0.0.1:{args.port}"
    if not is_up(base):
        args.log.parent.mkdir(parents=True, exist_ok=True)
        process = start(args.port, args.log)
        (args.log.parent / "localstripe.pid").write_text(str(process.pid))
    register_webhook(base, args.webhook_url, args.webhook_secret)
    print(json.dumps({"fake_stripe": base, "pid_file": os.fspath(args.log.parent / "localstripe.pid")}))
    return 0


if __name__ == "__main__":  # pragma: no cover - run by make
    sys.exit(main())
