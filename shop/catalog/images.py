"""Product pictures: checked by content (not by name), stored under instance/uploads as a
bounded, re-encoded copy (at most ``IMAGE_MAX_EDGE`` pixels a side), so that nothing that draws
them later (the share poster) ever decodes a camera-sized original."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from shop.database import after_rollback
from shop.errors import DomainError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
# The stored copy: JPEG stays JPEG, WebP stays WebP, PNG and GIF become PNG (first frame).
STORED_AS = {"JPEG": ("JPEG", "jpg"), "WEBP": ("WEBP", "webp"), "PNG": ("PNG", "png"), "GIF": ("PNG", "png")}
_UNREADABLE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError)


class ImageError(DomainError):
    pass


def upload_dir() -> Path:
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def open_picture(source: Path | bytes) -> Image.Image:
    """Decode a picture (a stored file or uploaded bytes) into pixels, upright (EXIF orientation).
    Every decode of a product picture goes through here, so its cost is visible in one place."""
    with Image.open(source if isinstance(source, Path) else io.BytesIO(source)) as image:
        image.load()
        return ImageOps.exif_transpose(image)


def _too_many_pixels(width: int, height: int) -> ImageError:
    megapixels = format_decimal(current_app.config["IMAGE_MAX_PIXELS"] / 1_000_000)
    return ImageError(
        _(
            "The picture is %(width)d × %(height)d pixels; pictures of up to %(megapixels)s megapixels "
            "are accepted. Please make it smaller.",
            width=width,
            height=height,
            megapixels=megapixels,
        )
    )


def bounded_copy(image: Image.Image, image_format: str) -> tuple[bytes, str, int, int]:
    """``image`` scaled down to fit ``IMAGE_MAX_EDGE`` (never up) and re-encoded, which also drops
    its metadata; returns (bytes, file extension, width, height)."""
    edge = current_app.config["IMAGE_MAX_EDGE"]
    out_format, extension = STORED_AS[image_format]
    if image.mode not in ("RGB", "RGBA", "L", "LA") or (out_format == "JPEG" and image.mode != "RGB"):
        has_alpha = out_format != "JPEG" and ("A" in image.mode or "transparency" in image.info)
        image = image.convert("RGBA" if has_alpha else "RGB")
    image = image.copy()
    image.thumbnail((edge, edge), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    options = {"quality": 85, "optimize": True} if out_format in ("JPEG", "WEBP") else {"optimize": True}
    image.save(out, format=out_format, **options)
    return out.getvalue(), extension, image.width, image.height


def store_image(data: bytes) -> tuple[str, int, int]:
    """Validate picture bytes and save a bounded copy; returns (filename, width, height)."""
    if not data:
        raise ImageError(_("The file is empty."))
    if len(data) > current_app.config["MAX_CONTENT_LENGTH"]:
        raise ImageError(_("The picture is larger than the upload limit."))
    try:
        with Image.open(io.BytesIO(data)) as probe:  # reads the header only
            image_format = probe.format
            width, height = probe.size
    except _UNREADABLE as exc:
        raise ImageError(_("The file is not a picture we can read (JPEG, PNG, WebP or GIF).")) from exc
    if image_format not in ALLOWED_FORMATS:
        raise ImageError(_("Pictures must be JPEG, PNG, WebP or GIF."))
    if width * height > current_app.config["IMAGE_MAX_PIXELS"]:
        raise _too_many_pixels(width, height)
    try:
        stored, extension, width, height = bounded_copy(open_picture(data), image_format)
    except _UNREADABLE as exc:
        raise ImageError(_("The file is not a picture we can read (JPEG, PNG, WebP or GIF).")) from exc
    return _write(stored, extension), width, height


def _write(data: bytes, extension: str) -> str:
    filename = f"{uuid.uuid4().hex}.{extension}"
    path = upload_dir() / filename
    path.write_bytes(data)
    after_rollback(lambda: path.unlink(missing_ok=True))  # no orphan file if nothing is saved
    return filename


def delete_image_file(filename: str) -> None:
    (upload_dir() / filename).unlink(missing_ok=True)


@dataclass
class Bounded:
    """One stored picture that ``bound_stored`` replaced by a bounded copy."""

    old: str
    new: str
    before: tuple[int, int]
    after: tuple[int, int]


def bound_stored(filename: str) -> Bounded | None:
    """A bounded copy of a stored picture that is larger than ``IMAGE_MAX_EDGE``, written under
    a new name (browsers cache /media/ files by name); None when it is already bounded or is
    not a file we can read. The caller points the row at the new file and deletes the old one."""
    path = upload_dir() / filename
    edge = current_app.config["IMAGE_MAX_EDGE"]
    try:
        with Image.open(path) as probe:
            image_format, size = probe.format, probe.size
        if image_format not in ALLOWED_FORMATS or max(size) <= edge:
            return None
        # A picture stored before the pixel cap was lowered may exceed it: it was accepted then.
        with Image.open(path) as source:
            source.load()
            image = ImageOps.exif_transpose(source)
        data, extension, width, height = bounded_copy(image, image_format)
    except (*_UNREADABLE, FileNotFoundError):
        return None
    return Bounded(filename, _write(data, extension), size, (width, height))
