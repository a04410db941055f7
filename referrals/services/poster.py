"""Share posters: portrait PNGs the size of a phone screen (750 x 1334, what chat apps show full
screen), drawn on the server with Pillow and qrcode. A product poster shows the product picture,
its name, who shares it and a QR code of the link; an invite poster the shop's name, what a
friend gets and a large QR code, on a coloured page rather than an empty one. Never a price:
posters travel to people who are not members, and visitors never see prices (DESIGN.md). The
words come translated by the caller (the viewer's language)."""

from __future__ import annotations

import io
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageOps

from shop.catalog.images import open_picture
from shop.lettering import load_font, wrap

WIDTH, HEIGHT = 750, 1334  # portrait, 9:16
MARGIN = 40
BAND = 120  # the coloured band with the shop's name at the top
PICTURE = WIDTH - 2 * MARGIN
PICTURE_TOP = BAND + 30
QR_SIZE = 240
INVITE_QR_SIZE = 360
INK, MUTED, PAPER = (29, 35, 48), (107, 114, 128), (255, 255, 255)
ACCENT, ACCENT_LIGHT, CARD = (194, 65, 12), (255, 237, 213), (255, 247, 237)

# Where things are drawn, (left, top, right, bottom): the tests read the poster back from these.
QR_BOX = (WIDTH - MARGIN - QR_SIZE, HEIGHT - MARGIN - QR_SIZE, WIDTH - MARGIN, HEIGHT - MARGIN)
SHARER_BOX = (MARGIN + 24, QR_BOX[1] + 10, QR_BOX[0] - 10, QR_BOX[1] + 110)
INVITE_QR_BOX = (
    (WIDTH - INVITE_QR_SIZE) // 2,
    HEIGHT - MARGIN - 150 - INVITE_QR_SIZE,
    (WIDTH + INVITE_QR_SIZE) // 2,
    HEIGHT - MARGIN - 150,
)


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


def _text(draw, xy, lines: list[str], font, fill, spacing: int = 10, center: bool = False) -> int:
    """Draw ``lines`` from ``xy`` down; the y under the last line."""
    x, y = xy
    for line in lines:
        left = (WIDTH - font.getlength(line)) / 2 if center else x
        draw.text((left, y), line, font=font, fill=fill)
        y += font.size + spacing
    return y


def _band(draw, heading: str, font: str | None) -> None:
    draw.rectangle((0, 0, WIDTH, BAND), fill=ACCENT)
    band_font = load_font(font, 40)
    [line] = wrap(heading, band_font, WIDTH - 2 * MARGIN, 1) or [""]
    draw.text((MARGIN, (BAND - band_font.size) // 2 - 4), line, font=band_font, fill=PAPER)


def _png(poster: Image.Image) -> bytes:
    out = io.BytesIO()
    poster.save(out, format="PNG", optimize=True)
    return out.getvalue()


def poster_png(
    *,
    title: str,
    sharer: str,
    url: str,
    caption: str,
    picture: Path | None,
    heading: str = "",
    lines: tuple[str, ...] = (),
    font: str | None = None,
) -> bytes:
    """The product poster. ``heading`` goes in the band at the top (the shop's name), ``lines``
    under the title (the product's summary). ``font`` is a font file (see ``font_path``);
    without one, non-Latin text is not drawn."""
    poster = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(poster)
    _band(draw, heading, font)
    poster.paste(_picture(picture), (MARGIN, PICTURE_TOP))
    top = PICTURE_TOP + PICTURE + 24
    title_font, text_font, small_font = load_font(font, 44), load_font(font, 30), load_font(font, 26)
    top = _text(draw, (MARGIN, top), wrap(title, title_font, PICTURE, 2), title_font, INK)
    bottom_card = QR_BOX[1] - 20
    room = max(0, (bottom_card - 10 - top) // (text_font.size + 8))
    for line in lines:
        if room <= 0:
            break
        shown = wrap(line, text_font, PICTURE, room)
        top = _text(draw, (MARGIN, top + 4), shown, text_font, MUTED, spacing=8)
        room -= len(shown)
    draw.rounded_rectangle((MARGIN, bottom_card, WIDTH - MARGIN, HEIGHT - MARGIN + 10), radius=16, fill=CARD)
    poster.paste(qr_image(url), QR_BOX[:2])
    left, y = SHARER_BOX[0], SHARER_BOX[1]
    name_font = load_font(font, 34)
    y = _text(draw, (left, y), wrap(sharer, name_font, SHARER_BOX[2] - left, 2), name_font, INK, spacing=8)
    _text(draw, (left, y + 16), wrap(caption, small_font, SHARER_BOX[2] - left, 3), small_font, MUTED, spacing=6)
    return _png(poster)


def invite_poster_png(
    *, title: str, sharer: str, url: str, caption: str, heading: str, lines: tuple[str, ...], font: str | None = None
) -> bytes:
    """The invite poster: the invitation as a headline and what a friend gets on a coloured
    block, then who invites and a large QR code on a card."""
    poster = Image.new("RGB", (WIDTH, HEIGHT), ACCENT_LIGHT)
    draw = ImageDraw.Draw(poster)
    title_font, text_font, small_font = load_font(font, 54), load_font(font, 30), load_font(font, 28)
    title_lines = wrap(title, title_font, PICTURE, 3)
    benefit_lines = [wrap(line, text_font, PICTURE - 40, 2) for line in lines]
    text_bottom = BAND + 50 + len(title_lines) * (title_font.size + 14) + 30
    text_bottom += sum(len(shown) * (text_font.size + 8) + 14 for shown in benefit_lines)
    block_bottom = min(max(text_bottom + 30, INVITE_QR_BOX[1] - 90), INVITE_QR_BOX[1] - 40)
    draw.rectangle((0, 0, WIDTH, block_bottom), fill=ACCENT)
    _band(draw, heading, font)
    top = _text(draw, (MARGIN, BAND + 50), title_lines, title_font, PAPER, spacing=14) + 30
    for shown in benefit_lines:
        draw.ellipse((MARGIN, top + 10, MARGIN + 14, top + 24), fill=ACCENT_LIGHT)
        top = _text(draw, (MARGIN + 30, top), shown, text_font, ACCENT_LIGHT, spacing=8) + 14
    card = (INVITE_QR_BOX[0] - 30, INVITE_QR_BOX[1] - 30, INVITE_QR_BOX[2] + 30, HEIGHT - MARGIN)
    draw.rounded_rectangle(card, radius=24, fill=PAPER)
    poster.paste(qr_image(url, INVITE_QR_SIZE), INVITE_QR_BOX[:2])
    name_font = load_font(font, 34)
    y = _text(draw, (0, INVITE_QR_BOX[3] + 20), wrap(sharer, name_font, PICTURE, 1), name_font, INK, center=True)
    _text(draw, (0, y + 4), wrap(caption, small_font, PICTURE, 1), small_font, MUTED, center=True)
    return _png(poster)


CARD_WIDTH, CARD_HEIGHT = 1200, 630  # what chat apps and Open Graph readers expect


def card_png(*, heading: str, title: str, lines: tuple[str, ...] = (), font: str | None = None) -> bytes:
    """The link card (og:image) of an invite link or of a product without a picture: the shop's
    name and the invitation, nobody's name or code, so one card serves every link."""
    card = Image.new("RGB", (CARD_WIDTH, CARD_HEIGHT), ACCENT_LIGHT)
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, CARD_WIDTH, 150), fill=ACCENT)
    heading_font, title_font, text_font = load_font(font, 56), load_font(font, 64), load_font(font, 36)
    width = CARD_WIDTH - 2 * 60
    for line in wrap(heading, heading_font, width, 1):
        draw.text((60, (150 - heading_font.size) // 2 - 4), line, font=heading_font, fill=PAPER)
    top = 200
    for line in wrap(title, title_font, width, 2):
        draw.text((60, top), line, font=title_font, fill=INK)
        top += title_font.size + 16
    for line in lines:
        for shown in wrap(line, text_font, width - 40, 1):
            draw.ellipse((60, top + 24, 76, top + 40), fill=ACCENT)
            draw.text((96, top + 10), shown, font=text_font, fill=INK)
            top += text_font.size + 18
    return _png(card)
