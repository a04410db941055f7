"""``make run``'s front door: check that the demo's ports are free, and say where each part
listens, before the supervisor (honcho, Procfile.dev) starts web, fake Stripe and worker.

A port already taken is reported by number and the run stops: reusing whatever listens there
(another checkout's fake Stripe, say) would send this shop's payments and webhooks astray.
Run as ``python -m shop.devserver --web-port 5000 --fake-stripe-port 8420``.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from pathlib import Path

from flask_babel import gettext as _

HOST = "127.0.0.1"


def default_instance_path() -> Path:
    """Where the app keeps its files: ``NEIGOU_INSTANCE_PATH``, else ``instance/`` beside the
    code (Flask's default for this layout)."""
    return Path(os.environ.get("NEIGOU_INSTANCE_PATH") or Path(__file__).resolve().parents[1] / "instance")


def port_problem(port: int, host: str = HOST) -> str | None:
    """None when a server could listen on ``host:port`` now, else why not."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is no obstacle
        try:
            probe.bind((host, port))
        except OSError as exc:
            return _("already in use") if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
    return None


def port_taken_message(port: int, what: str, problem: str, hint: str) -> str:
    return _(
        "Port %(port)s (%(what)s) is not free: %(problem)s. Stop what listens there, or choose another port: %(hint)s",
        port=port,
        what=what,
        problem=problem,
        hint=hint,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the demo's ports and say where each part listens.")
    parser.add_argument("--web-port", type=int, required=True)
    parser.add_argument("--fake-stripe-port", type=int, required=True)
    parser.add_argument("--check-only", action="store_true", help="Check the ports, say nothing when they are free.")
    args = parser.parse_args(argv)
    if args.web_port == args.fake_stripe_port:
        print(_("The web and the fake Stripe need two different ports (both are %(port)s).", port=args.web_port))
        return 1
    parts = (
        (args.web_port, _("web"), f"make run PORT={args.web_port + 1}"),
        (args.fake_stripe_port, _("fake Stripe"), f"make run FAKE_STRIPE_PORT={args.fake_stripe_port + 1}"),
    )
    problems = [
        port_taken_message(port, what, problem, hint)
        for port, what, hint in parts
        if (problem := port_problem(port)) is not None
    ]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems or args.check_only:
        return 1 if problems else 0
    print(_("neigou demo, files under %(path)s:", path=default_instance_path()))
    print(
        "  " + _("web          http://%(host)s:%(port)s (/healthz: database and worker)", host=HOST, port=args.web_port)
    )
    print("  " + _("fake Stripe  http://%(host)s:%(port)s", host=HOST, port=args.fake_stripe_port))
    print("  " + _("worker       the periodic jobs (flask shop worker)"))
    print(_("Ctrl-C stops all three."))
    return 0


if __name__ == "__main__":  # pragma: no cover - run by make
    sys.exit(main())
