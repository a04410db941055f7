"""The KPI dashboard (DESIGN.md, "Events and KPIs"): rollups of the raw facts, the operators'
dashboard and each chain's own funnel.

It reads every area (orders in ``shop``, the funnel event log in ``referrals``, tickets and
questions in ``community``) and none of them reads it: a report sits downstream of what it
reports on. Living beside the add-ons rather than inside ``shop/`` keeps the core free of
imports from them; the app factory wires it in with ``init_app``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    # Imported when an app is built, as the factory imports every blueprint: kpis.cli adds its
    # command to the `flask shop` group.
    from kpis import cli  # noqa: F401
