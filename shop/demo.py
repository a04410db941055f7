"""Demo data for ``flask shop seed-demo``: departments, people, a catalog with pictures, past orders.

``seed()`` is idempotent: every row is found by a natural key (e-mail, employee number, category
and product slug, SKU) and only what is missing is added; past orders are made only while the
database has no order at all. It adds and flushes but never commits (the caller does), and runs
inside the caller's ``shop.database.write_intent()``. Everything is drawn from fixed random seeds,
so two fresh databases get the same demo.

Past orders go through the real services (cart, place, pay by payroll, ship, complete, cancel) at
past moments, so prices, attribution, stock and the audit trail follow the same rules as live ones.
"""

from __future__ import annotations

import io
import random
import textwrap
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.security import generate_password_hash

from shop.accounts.models import Department, Kind, Role, User
from shop.audit.models import AuditEntry
from shop.audit.services import record
from shop.cart.models import CartLine
from shop.catalog.images import store_image
from shop.catalog.models import Category, Product, ProductImage, SalesMode, Variant
from shop.database import utcnow
from shop.extensions import db
from shop.i18n import to_minor
from shop.orders.models import Address, Order

SEED = 2026
DEMO_PASSWORD = "demo-pass-1"  # every demo account shares it (one scrypt hash for all)
EMPLOYEE_COUNT = 50
ORDER_COUNT = 40
ORDER_DAYS = 60
PICTURE_SIZE = 600

Progress = Callable[[str, int], AbstractContextManager]

DEPARTMENTS = ("Engineering", "Sales & Marketing", "Operations", "Finance & HR")

# Given names are all different, so "given.surname@domain" is unique for every generated employee.
_GIVEN_NAMES = (
    "Wei",
    "Fang",
    "Na",
    "Min",
    "Jing",
    "Lei",
    "Jun",
    "Yang",
    "Yong",
    "Yan",
    "Jie",
    "Tao",
    "Ming",
    "Chao",
    "Xiu",
    "Hui",
    "Ping",
    "Gang",
    "Hua",
    "Qiang",
    "Li",
    "Xin",
    "Bo",
    "Lin",
    "Hao",
    "Yu",
    "Ting",
    "Kai",
    "Rui",
    "Dan",
    "Peng",
    "Lan",
    "Fei",
    "Ning",
    "Xue",
    "Long",
    "Jian",
    "Mei",
    "Hong",
    "Qing",
    "Zhen",
    "Yi",
    "Shan",
    "Wen",
    "Feng",
    "Liang",
    "Yun",
    "Han",
    "Xia",
    "Cheng",
)
_SURNAMES = (
    "Li",
    "Wang",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Xu",
    "Sun",
    "Ma",
    "Zhu",
    "Hu",
    "Guo",
    "He",
    "Gao",
    "Lin",
    "Luo",
)
_STREETS = (
    "Century Avenue",
    "Nanjing Road",
    "Huaihai Road",
    "Zhangjiang Road",
    "Hongqiao Road",
    "Xujiahui Road",
    "Fuxing Road",
    "Dongfang Road",
)


@dataclass(frozen=True)
class DemoPerson:
    local_part: str  # of the e-mail address; the domain comes from the configuration
    name: str
    employee_no: str
    department: str
    role: Role
    login_label: str | None = None  # shown in DEMO_LOGINS when set


DEMO_STAFF_AGE = timedelta(days=400)


def _people() -> list[DemoPerson]:
    staff = [
        DemoPerson("admin", "Sun Ying", "E0001", "Finance & HR", Role.admin, "admin"),
        DemoPerson("operator", "Ma Qian", "E0002", "Operations", Role.operator, "operator"),
        DemoPerson("sales", "He Jun", "E0003", "Sales & Marketing", Role.sales, "sales"),
    ]
    # The two employees the README lists as demo log-ins, then generated colleagues.
    employees = [
        DemoPerson("alice", "Alice Wang", "E1001", DEPARTMENTS[0], Role.member, "employee"),
        DemoPerson("bob", "Bob Chen", "E1002", DEPARTMENTS[1], Role.member, "employee"),
    ]
    for i in range(len(employees), EMPLOYEE_COUNT):
        given, surname = _GIVEN_NAMES[i], _SURNAMES[(i * 7) % len(_SURNAMES)]
        employees.append(
            DemoPerson(
                f"{given}.{surname}".lower(),
                f"{surname} {given}",
                f"E{1001 + i}",
                DEPARTMENTS[i % len(DEPARTMENTS)],
                Role.member,
            )
        )
    return staff + employees


PEOPLE: list[DemoPerson] = _people()


def company_domain() -> str:
    return current_app.config["COMPANY_EMAIL_DOMAINS"][0]


def email_of(person: DemoPerson) -> str:
    return f"{person.local_part}@{company_domain()}"


def demo_logins() -> list[tuple[str, str, str]]:
    """(role, e-mail, password) of the accounts worth logging in with: staff, employees, and a
    contact at each level (seeded by referrals.demo, called from seed() below)."""
    from referrals.demo import contact_logins

    staff = [(p.login_label, email_of(p), DEMO_PASSWORD) for p in PEOPLE if p.login_label]
    return staff + [(label, email, DEMO_PASSWORD) for label, email in contact_logins()]


def __getattr__(name: str):
    # ``DEMO_LOGINS`` depends on the configured company domain, so it is computed on access
    # (inside an app context): ``from shop.demo import DEMO_LOGINS`` works as for a constant.
    if name == "DEMO_LOGINS":
        return demo_logins()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    from shop.catalog.services import slugify

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


# ---- progress ------------------------------------------------------------------------------


class _Silent:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False

    def update(self, n_steps: int, current_item=None) -> None:
        pass


def _bar(progress: Progress | None, label: str, total: int) -> AbstractContextManager:
    return progress(label, total) if progress else _Silent()


# ---- the seed ------------------------------------------------------------------------------


def database_is_empty() -> bool:
    """True when there are no users. Reads on its own connection, so the caller's session
    does not start its transaction here, outside ``write_intent()``."""
    with db.engine.connect() as conn:
        return conn.execute(select(User.id).limit(1)).first() is None


def seed(progress: Progress | None = None) -> None:
    """Add whatever demo data is missing. Adds and flushes; the caller commits."""
    now = utcnow()
    _seed_people(progress, now)
    _seed_catalog(progress)
    _seed_pictures(progress)
    _seed_orders(progress, now)
    _seed_festivals(progress, now)
    from referrals.demo import seed_referrals  # contacts, links, visits and leads (issue 3)

    seed_referrals(progress, now)
    from community.demo import seed_community  # articles, questions, tickets (issue 6)

    seed_community(progress, now)
    db.session.flush()


def _seed_people(progress: Progress | None, now: datetime) -> None:
    departments = {d.name: d for d in db.session.scalars(select(Department))}
    for name in DEPARTMENTS:
        if name not in departments:
            departments[name] = Department(name=name)
            db.session.add(departments[name])

    emails = {email_of(p): p for p in PEOPLE}
    taken_emails = set(db.session.scalars(select(func.lower(User.email)).where(func.lower(User.email).in_(emails))))
    taken_nos = set(
        db.session.scalars(select(User.employee_no).where(User.employee_no.in_([p.employee_no for p in PEOPLE])))
    )
    password_hash = None
    with _bar(progress, "People", len(PEOPLE)) as bar:
        for email, person in emails.items():
            if email not in taken_emails and person.employee_no not in taken_nos:
                password_hash = password_hash or generate_password_hash(DEMO_PASSWORD)
                user = User(
                    email=email,
                    name=person.name,
                    kind=Kind.employee,
                    level=0,
                    role=person.role,
                    employee_no=person.employee_no,
                    department=departments[person.department],
                    password_hash=password_hash,
                    # Staff were there long before the friends they invited (referrals/demo.py).
                    created_at=now - DEMO_STAFF_AGE,
                    email_verified_at=now - DEMO_STAFF_AGE,
                )
                db.session.add(user)
                if person.role != Role.member:
                    record(
                        "user.role",
                        user,
                        actor=None,
                        before={"role": "member"},
                        after={"role": person.role.value},
                        reason="demo seed",
                    )
            bar.update(1)
    db.session.flush()

    # A saved address for every demo account that has none, so checkout works at once.
    users = _demo_users()
    with_address = set(db.session.scalars(select(Address.user_id).where(Address.user_id.in_([u.id for u in users]))))
    rng = random.Random(SEED)
    for user in users:
        number, street, phone = rng.randint(1, 999), rng.choice(_STREETS), rng.randint(10_000_000, 99_999_999)
        if user.id not in with_address:
            db.session.add(
                Address(
                    user_id=user.id,
                    recipient=user.name,
                    phone=f"+86 138 {phone}",
                    line1=f"{number} {street}",
                    city="Shanghai",
                    postcode="200120",
                    country="CN",
                )
            )
    db.session.flush()


def _demo_users(role: Role | None = None) -> list[User]:
    """The demo accounts that exist, in the order of PEOPLE (optionally only those of ``role``)."""
    emails = [email_of(p) for p in PEOPLE if role is None or p.role == role]
    found = {u.email.lower(): u for u in db.session.scalars(select(User).where(func.lower(User.email).in_(emails)))}
    return [found[e] for e in emails if e in found]


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
    with _bar(progress, "Products", len(PRODUCTS)) as bar:
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
    with _bar(progress, "Pictures", len(PRODUCTS)) as bar:
        for slug, spec in slugs.items():
            product = products.get(slug)
            if product is not None and not product.images:
                data = picture_png(spec.name, names[spec.category], _COLOURS[spec.category])
                filename, width, height = store_image(data)
                db.session.add(ProductImage(product=product, filename=filename, width=width, height=height, position=0))
            bar.update(1)
    db.session.flush()


# When each order event happened, for dating its audit entries (the services write "now").
_EVENT_TIMES = {
    "order.place": "created_at",
    "order.paid": "paid_at",
    "order.cancelled": "closed_at",
    "order.expired": "closed_at",
    "order.shipped": "shipped_at",
    "order.completed": "completed_at",
}


def _date_order_audit(orders: list[Order]) -> None:
    """Give the audit entries of orders made in the past the moments their events happened."""
    db.session.flush()
    by_id = {order.id: order for order in orders}
    entries = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type == Order.__name__,
            AuditEntry.entity_id.in_(by_id),
            AuditEntry.action.in_(_EVENT_TIMES),
        )
    )
    for entry in entries:
        moment = getattr(by_id[entry.entity_id], _EVENT_TIMES[entry.action])
        if moment is not None:
            entry.at = moment


def _seed_orders(progress: Progress | None, now: datetime) -> None:
    """About ORDER_COUNT orders by demo employees over the last ORDER_DAYS days, through the
    services. Skipped as soon as the database has any order."""
    from shop.cart.services import add_to_cart, cart_lines, remove_line
    from shop.orders.services import (
        OrderError,
        PayrollCapExceeded,
        addresses_of,
        cancel_order,
        mark_completed,
        mark_shipped,
        pay_by_payroll,
        place_order,
    )

    if db.session.scalar(select(Order.id).limit(1)) is not None:
        return
    with_cart = set(db.session.scalars(select(CartLine.user_id)))
    buyers = [u for u in _demo_users(Role.member) if u.is_active and u.id not in with_cart]
    staff = _demo_users(Role.operator) or _demo_users(Role.admin)
    operator = staff[0] if staff else None
    skus = [v.sku for variants in catalog_plan().values() for v in variants]
    variants = list(
        db.session.scalars(
            select(Variant)
            .join(Variant.product)
            .where(
                Variant.sku.in_(skus),
                Variant.is_active.is_(True),
                Product.is_active.is_(True),
                Product.sales_mode == SalesMode.direct,
            )
            .order_by(Variant.sku)
        )
    )
    if not buyers or not variants:
        return

    rng = random.Random(SEED)
    window = timedelta(minutes=current_app.config["RESERVATION_MINUTES"])
    # More orders in the recent past than long ago, so every status shows up.
    ages = sorted((timedelta(days=max(ORDER_DAYS * rng.random() ** 2, 0.05)) for _ in range(ORDER_COUNT)), reverse=True)
    max_units = 2  # well inside the default rule of five units of one item per order
    made: list[Order] = []
    with _bar(progress, "Orders", len(ages)) as bar:
        for age in ages:
            placed = now - age
            buyer = rng.choice(buyers)
            picks = rng.sample(variants, min(len(variants), rng.choices((1, 2, 3), weights=(6, 3, 1))[0]))
            for variant in picks:
                quantity = 1 if variant.employee_price > 50_000 else rng.randint(1, max_units)
                if variant.stock >= quantity:
                    add_to_cart(buyer, variant.id, quantity)
            addresses = addresses_of(buyer)
            if not cart_lines(buyer) or not addresses:
                bar.update(1)
                continue
            try:
                order = place_order(buyer, addresses[0], now=placed)
            except OrderError:  # not expected (stock was checked); leave nothing behind
                for line in cart_lines(buyer):
                    remove_line(line)
                bar.update(1)
                continue
            made.append(order)

            decided = placed + window * rng.uniform(0.1, 0.6)
            if rng.random() < 0.12:
                cancel_order(buyer, order, now=decided)
                bar.update(1)
                continue
            try:
                pay_by_payroll(buyer, order, now=decided)
            except PayrollCapExceeded:
                cancel_order(buyer, order, now=decided)
                bar.update(1)
                continue
            shipped = decided + timedelta(hours=rng.randint(6, 48))
            if shipped < now:
                carrier, prefix = rng.choice((("SF Express", "SF"), ("JD Logistics", "JD"), ("ZTO Express", "ZT")))
                mark_shipped(
                    operator, order, carrier, f"{prefix}{rng.randint(10**11, 10**12 - 1)}", now=shipped, notify=False
                )
                completed = shipped + timedelta(hours=rng.randint(36, 144))
                if completed < now:
                    mark_completed(operator, order, now=completed)
            bar.update(1)
    _date_order_audit(made)
    db.session.flush()


# ---- festivals -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoFestival:
    name: str
    description: str
    hours: tuple[int, int, int | None, int]  # preheat, launch, continuation, end: hours from the seed
    items: int
    reminders: int  # demo employees (not Alice, who can press the button herself) asking to be reminded


DEMO_FESTIVALS = (
    DemoFestival(
        "Golden Autumn Fair",
        "Festival prices on favourites from every aisle, while the stock set apart for it lasts.",
        (-72, -24, 24, 48),
        items=3,
        reminders=0,
    ),
    DemoFestival(
        "Year-End Gala",
        "The year's last festival: prices are out, buying opens soon.",
        (-24, 48, None, 120),
        items=2,
        reminders=12,
    ),
)
FESTIVAL_UNITS = 30  # allocated per item
FESTIVAL_DISCOUNT = 85  # festival price, percent of the usual price


def _seed_festivals(progress: Progress | None, now: datetime) -> None:
    """A running festival and one in preheat with reminders, through the services; each made
    once (found by name), with items taken from demo variants that have stock to spare."""
    from shop.catalog.services import slugify
    from shop.festivals.models import Festival, FestivalItem
    from shop.festivals.reminders import remind_me
    from shop.festivals.services import allocate, create_festival

    existing = set(
        db.session.scalars(
            select(Festival.slug).where(Festival.slug.in_([slugify(spec.name) for spec in DEMO_FESTIVALS]))
        )
    )
    missing = [spec for spec in DEMO_FESTIVALS if slugify(spec.name) not in existing]
    staff = _demo_users(Role.operator) or _demo_users(Role.admin)
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
    members = [u for u in _demo_users(Role.member) if not u.email.startswith("alice@")]
    with _bar(progress, "Festivals", len(missing)) as bar:
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
