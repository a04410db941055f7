"""The KPI dashboard (DESIGN.md, "Events and KPIs"): rollups of the raw facts, the operators'
dashboard and each chain's own funnel.

It reads every area (orders in ``shop``, the funnel event log in ``referrals``, tickets and
questions in ``community``) and none of them reads it: a report sits downstream of what it
reports on. Living beside the add-ons rather than inside ``shop/`` keeps the core free of
imports from them; the app factory wires it in with ``init_app``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    # Imported when an app is built, as the factory imports every blueprint; kpis.cli adds its
    # command to the `flask shop` group.
    from kpis import cli  # noqa: F401
    from kpis.chain import STAGE_NAMES, chain_funnel_for_page, funnel_table
    from kpis.refusals import on_order_refused
    from kpis.tables import show
    from kpis.views import bp, member_bp
    from shop.orders.signals import order_refused

    order_refused.connect(on_order_refused)  # each refused order counted by reason

    app.register_blueprint(bp)
    app.register_blueprint(member_bp)
    # /network (referrals) shows the viewer's chain funnel when this package is installed:
    # the page asks for it by these names, so referrals imports nothing from here.
    app.jinja_env.globals.update(
        chain_funnel=chain_funnel_for_page, kpi_funnel_table=funnel_table, kpi_show=show, kpi_stage_names=STAGE_NAMES
    )
