"""The demo catalog: categories, products with variants and prices, generated pictures."""

from __future__ import annotations

import io
import random
import textwrap
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop.catalog.images import store_image
from shop.catalog.models import Category, Product, ProductImage, SalesMode, Variant
from shop.catalog.services import slugify
from shop.demo.progress import SEED, Progress, progress_bar
from shop.extensions import db
from shop.i18n import to_minor

PICTURE_SIZE = 600

# ---- catalog -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoProduct:
    name: str
    category: str  # slug
    summary: str
    highlights: tuple[str, ...]
    variants: tuple[tuple[str, int], ...] = ()  # (name, market price in major units)
    mode: SalesMode = SalesMode.direct


CATEGORIES = (  # (slug, name)
    ("tea-coffee", "Tea & Coffee"),
    ("kitchen-home", "Kitchen & Home"),
    ("electronics", "Electronics"),
    ("health-wellness", "Health & Wellness"),
    ("outdoor-travel", "Outdoor & Travel"),
)

_COLOURS = {  # picture background per category
    "tea-coffee": (46, 125, 50),
    "kitchen-home": (191, 54, 12),
    "electronics": (21, 101, 192),
    "health-wellness": (142, 36, 170),
    "outdoor-travel": (0, 121, 107),
}

PRODUCTS = (
    DemoProduct(
        "West Lake Longjing Green Tea",
        "tea-coffee",
        "Spring-harvest dragon-well tea from Hangzhou.",
        ("Hand-pan-fired in small batches", "Chestnut aroma, sweet finish", "Harvested before Qingming"),
        (("100 g tin", 268), ("250 g gift box", 598)),
    ),
    DemoProduct(
        "Yunnan Pu'er Tea Cake",
        "tea-coffee",
        "A classic 357 g cake from old-tree leaves.",
        ("Stone-pressed", "Ages well for years", "Brews ten infusions and more"),
        (("Raw (sheng)", 198), ("Ripe (shou)", 178)),
    ),
    DemoProduct(
        "Jasmine Silver Needle",
        "tea-coffee",
        "White-tea buds scented seven times with jasmine.",
        ("Fresh jasmine, never flavouring", "Delicate and floral", "Resealable pouch"),
        (("50 g", 158),),
    ),
    DemoProduct(
        "Single-Origin Coffee Beans",
        "tea-coffee",
        "Roasted to order by our partner roastery.",
        ("Roasted within a week of shipping", "Whole beans, valve bag", "Tasting notes on the bag"),
        (("Yunnan Catimor 500 g", 128), ("Ethiopia Yirgacheffe 500 g", 168), ("Espresso blend 1 kg", 218)),
    ),
    DemoProduct(
        "Gongfu Tea Set",
        "tea-coffee",
        "Gaiwan, pitcher and six cups for the full ceremony.",
        ("Kiln-fired porcelain", "Bamboo tray included", "Dishwasher safe"),
        (("Celadon", 399), ("Black clay", 459)),
    ),
    DemoProduct(
        "Pour-Over Coffee Kit",
        "tea-coffee",
        "Dripper, server, filters and a gooseneck kettle.",
        ("Even extraction", "Thermometer in the lid", "100 filters included"),
        (("Glass", 259), ("Ceramic", 289)),
    ),
    DemoProduct(
        "Cast Iron Wok",
        "kitchen-home",
        "A 32 cm wok, pre-seasoned and ready for high heat.",
        ("Works on gas and induction", "Naturally non-stick with use", "Wooden handle"),
        (("32 cm", 329),),
    ),
    DemoProduct(
        "Smart Rice Cooker",
        "kitchen-home",
        "4 L induction rice cooker with app presets.",
        ("Induction heating", "Twelve programmes", "Keeps warm for 24 hours"),
        (("White", 699), ("Graphite", 699)),
    ),
    DemoProduct(
        "Bamboo Cutting Board Set",
        "kitchen-home",
        "Three boards for meat, vegetables and bread.",
        ("Sustainably grown bamboo", "Juice grooves", "Hanging holes"),
        (("Set of 3", 139),),
    ),
    DemoProduct(
        "Goose Down Duvet",
        "kitchen-home",
        "Light and warm, for all four seasons.",
        ("90% white goose down", "Cotton cover", "Machine washable"),
        (("Single", 1299), ("Queen", 1699), ("King", 1999)),
    ),
    DemoProduct(
        "Aroma Diffuser",
        "kitchen-home",
        "Ultrasonic diffuser in solid wood.",
        ("Whisper quiet", "Eight-hour timer", "Warm night light"),
        (("Oak", 199), ("Walnut", 229)),
    ),
    DemoProduct(
        "Whole-Home Water Purifier",
        "kitchen-home",
        "Filtration for the whole home, installed by a pro.",
        ("Survey and installation included", "Five-stage filtration", "Filter service plan"),
        mode=SalesMode.lead,
    ),
    DemoProduct(
        "Noise-Cancelling Headphones",
        "electronics",
        "Over-ear, thirty hours on one charge.",
        ("Adaptive noise cancelling", "Multipoint Bluetooth", "Foldable case"),
        (("Black", 1499), ("Silver", 1499)),
    ),
    DemoProduct(
        "Wireless Charging Pad",
        "electronics",
        "15 W fast charging for phones and earbuds.",
        ("Qi certified", "Non-slip surface", "USB-C cable included"),
        (("15 W", 149),),
    ),
    DemoProduct(
        "Mechanical Keyboard",
        "electronics",
        "Compact 75% layout with hot-swap switches.",
        ("Aluminium case", "Bluetooth and cable", "Chinese and English keycaps"),
        (("Brown switches", 599), ("Red switches", 599), ("Silent switches", 649)),
    ),
    DemoProduct(
        "27-inch 4K Monitor",
        "electronics",
        "IPS panel, USB-C with 90 W charging.",
        ("Factory colour calibration", "Height-adjustable stand", "One cable for laptops"),
        (("27 inch", 2499),),
    ),
    DemoProduct(
        "Smart Watch",
        "electronics",
        "Health tracking and payments on the wrist.",
        ("Heart rate and SpO2", "Ten-day battery", "Water resistant to 50 m"),
        (("41 mm", 1199), ("45 mm", 1299)),
    ),
    DemoProduct(
        "Neigou X1 Phone Preview",
        "electronics",
        "Our partner's next flagship: see it first, share it.",
        ("Launching this autumn", "Share the preview with friends", "No sale yet"),
        mode=SalesMode.share_only,
    ),
    DemoProduct(
        "Massage Gun",
        "health-wellness",
        "Deep-tissue massage in five speeds.",
        ("Four heads", "Quiet brushless motor", "Six-hour battery"),
        (("Graphite", 499), ("Sand", 499)),
    ),
    DemoProduct(
        "Yoga Mat",
        "health-wellness",
        "6 mm natural rubber, non-slip on both sides.",
        ("Alignment lines", "Carry strap", "Free of PVC"),
        (("Lotus pink", 189), ("Ink blue", 189), ("Moss green", 189)),
    ),
    DemoProduct(
        "Electric Toothbrush",
        "health-wellness",
        "Sonic brush with a pressure sensor.",
        ("Three modes", "Two-minute timer", "Travel case"),
        (("White", 329), ("Black", 329)),
    ),
    DemoProduct(
        "Annual Health Check Package",
        "health-wellness",
        "A full check-up at a partner hospital.",
        ("Booked by a health adviser", "Family packages available", "Report explained by a doctor"),
        mode=SalesMode.lead,
    ),
    DemoProduct(
        "Herbal Sleep Pillow",
        "health-wellness",
        "Buckwheat and lavender for a cool, calm night.",
        ("Adjustable filling", "Removable cotton cover", "Made in Anhui"),
        (("Standard", 259), ("Contour", 299)),
    ),
    DemoProduct(
        "Goji and Jujube Gift Box",
        "health-wellness",
        "Ningxia goji berries and Xinjiang jujubes.",
        ("Sun-dried", "No added sugar", "Gift wrapped"),
        (("1 kg", 168),),
    ),
    DemoProduct(
        "Carry-On Suitcase",
        "outdoor-travel",
        "20-inch polycarbonate shell, silent wheels.",
        ("TSA lock", "Expandable by 4 cm", "Ten-year warranty"),
        (("Matte black", 899), ("Champagne", 899), ("Sage", 899)),
    ),
    DemoProduct(
        "Trekking Backpack",
        "outdoor-travel",
        "40 L with a ventilated back panel.",
        ("Rain cover", "Hip-belt pockets", "Hydration sleeve"),
        (("Olive", 459), ("Charcoal", 459)),
    ),
    DemoProduct(
        "Insulated Water Bottle",
        "outdoor-travel",
        "Cold for 24 hours, hot for 12.",
        ("Stainless steel", "Leak-proof lid", "Fits car cup holders"),
        (("500 ml", 129), ("750 ml", 149)),
    ),
    DemoProduct(
        "Two-Person Camping Tent",
        "outdoor-travel",
        "Pitches in five minutes, packs to 2 kg.",
        ("Double wall", "Two doors", "Footprint included"),
        (("2-person", 799),),
    ),
    DemoProduct(
        "Travel Adapter Kit",
        "outdoor-travel",
        "One adapter for 150 countries.",
        ("Three USB ports", "Built-in fuse", "Pouch included"),
        (("Universal", 99),),
    ),
    DemoProduct(
        "Hainan Island Resort Week",
        "outdoor-travel",
        "Our partner resort in Sanya, for your network.",
        ("Share with friends and family", "Partner brand showcase", "Not sold online"),
        mode=SalesMode.share_only,
    ),
)


def product_slug(spec: DemoProduct) -> str:

    return slugify(spec.name)


@dataclass(frozen=True)
class VariantPlan:
    sku: str
    name: str
    market_price: int
    employee_price: int
    contact_price: int
    stock: int


def catalog_plan() -> dict[str, list[VariantPlan]]:
    """Product slug -> its variants, prices in minor units and starting stock (deterministic)."""
    currency = current_app.config["CURRENCY"]
    rng = random.Random(SEED)
    plan: dict[str, list[VariantPlan]] = {}
    for n, spec in enumerate(PRODUCTS, start=1):
        variants = []
        for j, (name, market) in enumerate(spec.variants, start=1):
            employee_pct = rng.randint(62, 78)
            contact_pct = rng.randint(employee_pct + 6, 94)
            draw = rng.random()
            if draw < 0.08:
                stock = 0
            elif draw < 0.18:
                stock = rng.randint(1, 5)
            else:
                stock = rng.randint(20, 200)
            variants.append(
                VariantPlan(
                    sku=f"DEMO-{n:03d}-{j}",
                    name=name,
                    market_price=to_minor(Decimal(market), currency),
                    employee_price=to_minor(Decimal(market * employee_pct // 100), currency),
                    contact_price=to_minor(Decimal(market * contact_pct // 100), currency),
                    stock=stock,
                )
            )
        plan[product_slug(spec)] = variants
    return plan


def _description(spec: DemoProduct, category_name: str, variants: list[VariantPlan]) -> str:
    lines = [spec.summary, "", "**Highlights**", ""]
    lines += [f"- {item}" for item in spec.highlights]
    lines += ["", "| | |", "| --- | --- |", f"| Category | {category_name} |"]
    if variants:
        lines.append(f"| Options | {', '.join(v.name for v in variants)} |")
    lines.append("")
    if spec.mode == SalesMode.lead:
        lines.append("*Ask for a consultation: one of our sales advisers gets in touch and arranges the rest.*")
    elif spec.mode == SalesMode.share_only:
        lines.append("*Not sold here yet: share it with your friends and family.*")
    else:
        lines.append("*Employees buy at the internal price; friends and family you invite get the contact price.*")
    return "\n".join(lines) + "\n"


def picture_png(title: str, subtitle: str, colour: tuple[int, int, int]) -> bytes:
    """A square PNG: the product name on a light disc over a coloured background.

    Drawn in grey levels (0 background, 255 white text, anti-aliased between) and saved with a
    palette running from ``colour`` to white: a small file that is quick to encode."""
    size = PICTURE_SIZE
    shades = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(shades)
    draw.ellipse((60, 60, size - 60, size - 60), fill=70)
    title_font = ImageFont.load_default(size=46)
    small_font = ImageFont.load_default(size=26)
    text = "\n".join(textwrap.wrap(title, 16))
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


def _seed_catalog(progress: Progress | None) -> None:
    """Categories, products and variants (no audit entries: nobody edited the catalog)."""
    currency = current_app.config["CURRENCY"]
    existing = db.session.scalars(select(Category)).all()
    by_slug, by_name = {c.slug: c for c in existing}, {c.name: c for c in existing}
    categories = {}
    for position, (slug, name) in enumerate(CATEGORIES):
        category = by_slug.get(slug) or by_name.get(name)
        if category is None:
            category = Category(name=name, slug=slug, position=position)
            db.session.add(category)
        categories[slug] = category

    plan = catalog_plan()
    products = {p.slug: p for p in db.session.scalars(select(Product).where(Product.slug.in_(plan)))}
    skus = set(
        db.session.scalars(
            select(Variant.sku).where(Variant.sku.in_([v.sku for variants in plan.values() for v in variants]))
        )
    )
    with progress_bar(progress, "Products", len(PRODUCTS)) as bar:
        for spec in PRODUCTS:
            slug = product_slug(spec)
            product = products.get(slug)
            if product is None:
                category = categories[spec.category]
                product = Product(
                    slug=slug,
                    name=spec.name,
                    summary=spec.summary,
                    category=category,
                    description_md=_description(spec, category.name, plan[slug]),
                    sales_mode=spec.mode,
                    is_active=True,
                )
                db.session.add(product)
            for v in plan[slug]:
                if v.sku not in skus:
                    db.session.add(
                        Variant(
                            product=product,
                            sku=v.sku,
                            name=v.name,
                            currency=currency,
                            market_price=v.market_price,
                            employee_price=v.employee_price,
                            contact_price=v.contact_price,
                            stock=v.stock,
                        )
                    )
            bar.update(1)
    db.session.flush()


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
                data = picture_png(spec.name, names[spec.category], _COLOURS[spec.category])
                filename, width, height = store_image(data)
                db.session.add(ProductImage(product=product, filename=filename, width=width, height=height, position=0))
            bar.update(1)
    db.session.flush()


# When each order event happened, for dating its audit entries (the services write "now").
