"""/healthz: is the app up, can it reach its database, and when did a worker last beat?

The HTTP status follows the database only (a load balancer keeps a web host that can serve);
the ``worker`` member says how old the freshest worker heartbeat is, so that a monitor notices
a stopped worker: ``status`` is ``ok``, ``stale`` (older than ``WORKER_STALE_SECONDS``) or
``missing`` (no worker has ever run against this database)."""

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from shop.extensions import db
from shop.worker.heartbeat import worker_health

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        worker = worker_health().as_json()
    except SQLAlchemyError as exc:
        db.session.rollback()
        return jsonify(status="error", database="unreachable", detail=type(exc).__name__, worker=None), 503
    return jsonify(status="ok", database="ok", worker=worker), 200
