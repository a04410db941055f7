"""Words drawn on pictures (share posters, the demo's product pictures): a font that has Chinese
glyphs, and lines broken to a width in pixels.

Pillow's built-in font has Latin glyphs only, so Chinese needs a font file: ``POSTER_FONT``, else
the first of Debian's CJK fonts found (fonts-wqy-microhei, which ``make`` installs when it can,
then fonts-noto-cjk and fonts-wqy-zenhei)."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import ImageFont

CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)

_HAN = r"\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
# A line breaks between words of Latin text and between any two characters of Chinese.
_BREAKS = re.compile(rf"[{_HAN}]|[^\s{_HAN}]+\s*|\s+")
_CHINESE = re.compile(rf"[{_HAN}]")


def font_path(configured: str | None = None) -> str | None:
    """The font file to draw with: ``configured`` (POSTER_FONT), else the first CJK font found."""
    for candidate in (configured, *CJK_FONTS):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def load_font(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size=size)


def has_chinese(text: str) -> bool:
    return bool(_CHINESE.search(text))


def wrap(text: str, font, width: int, max_lines: int | None = None) -> list[str]:
    """``text`` in lines no wider than ``width`` pixels; with ``max_lines``, at most that many
    (the last one ending in an ellipsis when the text goes on)."""
    lines, line = [], ""
    for piece in _BREAKS.findall(text or ""):
        if line and font.getlength((line + piece).rstrip()) > width:
            lines.append(line.rstrip())
            line = piece.lstrip()
        else:
            line += piece
    if line.strip():
        lines.append(line.rstrip())
    if max_lines is not None and len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and font.getlength(last + "…") > width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + "…"]
    return lines
