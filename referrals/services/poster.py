"""The share poster: a PNG with the product picture, its name, who shares it and a QR code of
the link, drawn on the server with Pillow and qrcode. Never a price: posters travel to people who
are not members, and visitors never see prices (DESIGN.md)."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont, ImageOps

from shop.catalog.images import open_picture

# Fonts with Chinese glyphs, tried in order when POSTER_FONT is not set (Debian's packages
# fonts-wqy-microhei, which `make` installs when it can, and fonts-noto-cjk). Pillow's built-in
# font has Latin glyphs only.
CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)

WIDTH, HEIGHT = 720, 1080
MARGIN = 40
PICTURE = WIDTH - 2 * MARGIN
QR_SIZE = 240
INK, MUTED, PAPER = (29, 35, 48), (107, 114, 128), (255, 255, 255)


def qr_image(url: str, size: int = QR_SIZE) -> Image.Image:
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()  # rows of booleans, border included
    modules = len(matrix)
    image = Image.new("1", (modules, modules), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    return image.resize((size, size), Image.Resampling.NEAREST).convert("RGB")


def _picture(path: Path | None) -> Image.Image:
    if path is not None:
        try:
            source = open_picture(path)  # stored bounded (IMAGE_MAX_EDGE), so this stays small
            return ImageOps.fit(source.convert("RGB"), (PICTURE, PICTURE))
        except (OSError, ValueError, Image.DecompressionBombError):
            pass  # an unreadable file: draw the placeholder instead
    placeholder = Image.new("RGB", (PICTURE, PICTURE), (245, 245, 244))
    ImageDraw.Draw(placeholder).rectangle((0, 0, PICTURE - 1, PICTURE - 1), outline=(229, 231, 235), width=4)
    return placeholder


def font_path(configured: str | None = None) -> str | None:
    """The font file posters are drawn with: POSTER_FONT, else the first CJK font found."""
    for candidate in (configured, *CJK_FONTS):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _font(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size=size)


def poster_png(
    *, title: str, sharer: str, url: str, caption: str, picture: Path | None, font: str | None = None
) -> bytes:
    """``font`` is a font file (see ``font_path``); without one, non-Latin text is not drawn."""
    poster = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(poster)
    top = MARGIN
    if picture is not None:
        poster.paste(_picture(picture), (MARGIN, top))
        top += PICTURE + 24
    else:
        top += 80
    title_font = _font(font, 38 if picture is not None else 56)
    text_font = _font(font, 30)
    small_font = _font(font, 22)
    qr_top = HEIGHT - MARGIN - QR_SIZE
    title_lines = textwrap.wrap(title, 30 if picture is not None else 20)
    for line in title_lines[: 2 if picture is not None else 5]:
        draw.text((MARGIN, top), line, font=title_font, fill=INK)
        top += title_font.size + 8
    poster.paste(qr_image(url), (WIDTH - MARGIN - QR_SIZE, qr_top))
    left_top = qr_top + 10
    for line in textwrap.wrap(sharer, 24)[:2]:
        draw.text((MARGIN, left_top), line, font=text_font, fill=INK)
        left_top += 38
    draw.text((MARGIN, left_top + 12), caption, font=small_font, fill=MUTED)
    out = io.BytesIO()
    poster.save(out, format="PNG", optimize=True)
    return out.getvalue()
