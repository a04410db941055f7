"""The demo products' pictures: a PNG drawn for each (its name over its category's colour),
stored for every demo product that has none. The names are Chinese, so they are drawn with a
font that has Chinese glyphs (``POSTER_FONT``, else a system CJK font); without one, the
picture shows the product's slug instead, as words (Pillow's own font has Latin glyphs only)."""

from __future__ import annotations

import io

from flask import current_app
from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop.catalog.images import store_image
from shop.catalog.models import Product, ProductImage
from shop.demo.products import CATEGORIES, PRODUCTS, product_slug
from shop.demo.progress import Progress, progress_bar
from shop.extensions import db
from shop.lettering import font_path, has_chinese, load_font, wrap

PICTURE_SIZE = 600

_COLOURS = {  # picture background per category
    "tea-coffee": (46, 125, 50),
    "kitchen-home": (191, 54, 12),
    "electronics": (21, 101, 192),
    "health-wellness": (142, 36, 170),
    "outdoor-travel": (0, 121, 107),
}


def fit_text(title: str, fallback: str) -> str:
    """``title`` when it can be drawn (a CJK font, or no Chinese in it), else ``fallback``."""
    return title if _font() or not has_chinese(title) else fallback


def slug_words(slug: str) -> str:
    """``golden-autumn-fair`` -> ``Golden Autumn Fair``: what a picture shows without a CJK font."""
    return " ".join(word.capitalize() for word in slug.split("-"))


def _font() -> str | None:
    return font_path(current_app.config.get("POSTER_FONT"))


def picture_font(size: int):
    """The font the demo's pictures and banners are drawn with."""
    return load_font(_font(), size)


def picture_png(title: str, subtitle: str, colour: tuple[int, int, int]) -> bytes:
    """A square PNG: the product name on a light disc over a coloured background.

    Drawn in grey levels (0 background, 255 white text, anti-aliased between) and saved with a
    palette running from ``colour`` to white: a small file that is quick to encode."""
    size = PICTURE_SIZE
    shades = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(shades)
    draw.ellipse((60, 60, size - 60, size - 60), fill=70)
    title_font = picture_font(46)
    small_font = picture_font(26)
    text = "\n".join(wrap(title, title_font, size - 180))
    left, top, right, bottom = draw.multiline_textbbox((0, 0), text, font=title_font, align="center")
    draw.multiline_text(
        ((size - (right - left)) / 2 - left, (size - (bottom - top)) / 2 - top),
        text,
        font=title_font,
        fill=255,
        align="center",
    )
    left, top, right, bottom = draw.textbbox((0, 0), subtitle, font=small_font)
    draw.text(((size - (right - left)) / 2 - left, size - 40 - (bottom - top)), subtitle, font=small_font, fill=255)
    image = Image.frombytes("P", shades.size, shades.tobytes())
    image.putpalette([round(c + (255 - c) * level / 255) for level in range(256) for c in colour])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _seed_pictures(progress: Progress | None) -> None:
    """One generated picture for every demo product that has none."""
    slugs = {product_slug(spec): spec for spec in PRODUCTS}
    products = {
        p.slug: p
        for p in db.session.scalars(
            select(Product).where(Product.slug.in_(slugs)).options(selectinload(Product.images))
        )
    }
    names = dict(CATEGORIES)
    with progress_bar(progress, "Pictures", len(PRODUCTS)) as bar:
        for slug, spec in slugs.items():
            product = products.get(slug)
            if product is not None and not product.images:
                data = picture_png(
                    fit_text(spec.name, slug_words(slug)),
                    fit_text(names[spec.category], slug_words(spec.category)),
                    _COLOURS[spec.category],
                )
                filename, width, height = store_image(data)
                db.session.add(ProductImage(product=product, filename=filename, width=width, height=height, position=0))
            bar.update(1)
    db.session.flush()
