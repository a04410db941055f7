"""Product pictures: checked by content (not by name), stored under instance/uploads."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

from shop.database import after_rollback
from shop.errors import DomainError

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}


class ImageError(DomainError):
    pass


def upload_dir() -> Path:
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_image(data: bytes) -> tuple[str, int, int]:
    """Validate picture bytes and save them; returns (filename, width, height)."""
    if not data:
        raise ImageError(_("The file is empty."))
    if len(data) > current_app.config["MAX_CONTENT_LENGTH"]:
        raise ImageError(_("The picture is larger than the upload limit."))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format
            width, height = probe.size
            if width * height > current_app.config["IMAGE_MAX_PIXELS"]:
                raise ImageError(_("The picture has too many pixels."))
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageError(_("The file is not a picture we can read (JPEG, PNG, WebP or GIF).")) from exc
    if image_format not in ALLOWED_FORMATS:
        raise ImageError(_("Pictures must be JPEG, PNG, WebP or GIF."))
    filename = f"{uuid.uuid4().hex}.{ALLOWED_FORMATS[image_format]}"
    path = upload_dir() / filename
    path.write_bytes(data)
    after_rollback(lambda: path.unlink(missing_ok=True))  # no orphan file if nothing is saved
    return filename, width, height


def delete_image_file(filename: str) -> None:
    (upload_dir() / filename).unlink(missing_ok=True)
