"""The demo's assortment: its categories and products, each product with its summary,
highlights, variants at market prices and sales mode (direct, lead or share-only)."""

from __future__ import annotations

from dataclasses import dataclass

from shop.catalog.models import SalesMode
from shop.catalog.services import slugify


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
