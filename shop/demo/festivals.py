"""Demo festivals: one selling now, one in preheat with reminders. Their names are Chinese and
their slugs given in ASCII (the festival service would spell the names in pinyin)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select

from shop.accounts.models import Role
from shop.catalog.festival_models import Festival, FestivalItem
from shop.catalog.models import Product, SalesMode, Variant
from shop.demo.catalog import catalog_plan
from shop.demo.people import demo_users
from shop.demo.pictures import fit_text, picture_font, slug_words
from shop.demo.progress import Progress, progress_bar
from shop.extensions import db
from shop.festivals.pictures import set_banner
from shop.festivals.reminders import remind_me
from shop.festivals.services import allocate, create_festival

# ---- festivals -----------------------------------------------------------------------------


def banner_png(title: str, colour: tuple[int, int, int]) -> bytes:
    """A wide PNG for a festival's banner: lantern-like discs and the festival's name, drawn in
    grey levels and saved with a palette running from ``colour`` to white (as the demo's
    product pictures are, and with the same font)."""
    width, height = 1200, 400
    shades = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(shades)
    for n, x in enumerate(range(60, width, 150)):
        radius = 34 + (n % 3) * 12
        y = 70 + (n % 2) * 40
        draw.line((x, 0, x, y - radius), fill=90, width=3)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=60 + (n % 3) * 25)
    font = picture_font(84)
    left, top, right, bottom = draw.textbbox((0, 0), title, font=font)
    draw.text(((width - (right - left)) / 2 - left, height - 70 - (bottom - top) - top), title, font=font, fill=255)
    image = Image.frombytes("P", shades.size, shades.tobytes())
    image.putpalette([round(c + (255 - c) * level / 255) for level in range(256) for c in colour])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@dataclass(frozen=True)
class DemoFestival:
    slug: str
    name: str
    description: str
    hours: tuple[int, int, int | None, int]  # preheat, launch, continuation, end: hours from the seed
    items: int
    reminders: int  # demo employees (not Alice, who can press the button herself) asking to be reminded
    colour: tuple[int, int, int] = (154, 52, 18)  # of the banner picture


DEMO_FESTIVALS = (
    DemoFestival(
        "golden-autumn-fair",
        "金秋内购节",
        "各品类人气好物享内购节价，专项库存售完即止。",
        (-72, -24, 24, 48),
        items=3,
        reminders=0,
    ),
    DemoFestival(
        "year-end-gala",
        "年终内购节",
        "今年最后一场内购节：内购节价已公布，即将开售，点“开售提醒我”不错过。",
        (-24, 48, None, 120),
        items=2,
        reminders=12,
        colour=(127, 29, 29),
    ),
)
FESTIVAL_UNITS = 30  # allocated per item
FESTIVAL_DISCOUNT = 85  # festival price, percent of the usual price


def _seed_festivals(progress: Progress | None, now: datetime) -> None:
    """A running festival and one in preheat with reminders, through the services; each made
    once (found by slug), with items taken from demo variants that have stock to spare."""

    existing = set(
        db.session.scalars(select(Festival.slug).where(Festival.slug.in_([spec.slug for spec in DEMO_FESTIVALS])))
    )
    missing = [spec for spec in DEMO_FESTIVALS if spec.slug not in existing]
    staff = demo_users(Role.operator) or demo_users(Role.admin)
    if not missing or not staff:
        return
    taken = set(db.session.scalars(select(FestivalItem.variant_id)))
    skus = [v.sku for variants in catalog_plan().values() for v in variants]
    candidates = [
        v
        for v in db.session.scalars(
            select(Variant)
            .join(Variant.product)
            .where(
                Variant.sku.in_(skus),
                Variant.is_active.is_(True),
                Product.is_active.is_(True),
                Product.sales_mode == SalesMode.direct,
                Variant.stock >= 2 * FESTIVAL_UNITS,
            )
            .order_by(Variant.sku)
        )
        if v.id not in taken
    ]
    members = [u for u in demo_users(Role.member) if not u.email.startswith("alice@")]
    with progress_bar(progress, "Festivals", len(missing)) as bar:
        for spec in missing:
            preheat, launch, continuation, end = (
                now + timedelta(hours=h) if h is not None else None for h in spec.hours
            )
            festival = create_festival(
                staff[0],
                name=spec.name,
                description=spec.description,
                preheat_at=preheat,
                launch_at=launch,
                continuation_at=continuation,
                ends_at=end,
            )
            festival.slug = spec.slug  # ASCII, as the catalog's slugs
            set_banner(staff[0], festival, banner_png(fit_text(spec.name, slug_words(spec.slug)), spec.colour))
            db.session.flush()
            for variant in candidates[: spec.items]:
                allocate(
                    staff[0],
                    festival,
                    variant,
                    FESTIVAL_UNITS,
                    now=preheat,
                    employee_price=variant.employee_price * FESTIVAL_DISCOUNT // 100,
                    contact_price=variant.contact_price * FESTIVAL_DISCOUNT // 100,
                    per_buyer_limit=2,
                )
            candidates = candidates[spec.items :]
            for member in members[: spec.reminders]:
                remind_me(member, festival, now=preheat)
            bar.update(1)
    db.session.flush()
