"""Serving uploaded pictures from the instance folder."""

from flask import Blueprint, send_from_directory

from shop.catalog.images import upload_dir

bp = Blueprint("media", __name__)


@bp.route("/media/<path:filename>")
def media(filename: str):
    response = send_from_directory(upload_dir(), filename, max_age=86400)
    return response
