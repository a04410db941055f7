"""Where an address may be: the ISO 3166-1 alpha-2 codes assigned to a country or territory
(``ISO_3166_1``), named in the reader's language by Babel. Babel also names codes that are no
place to send a parcel to (EU, EZ, UN, QO, XA, XB, ZZ...), which are left out. Hong Kong, Macao
and Taiwan keep entries of their own (they have their own posts, phone numbers and postcodes)
and are named as the parts of China they are; China and they come first, the rest in the
reader's order (``country_choices``)."""

from __future__ import annotations

import functools
import unicodedata

from babel import Locale
from flask_babel import get_locale
from pypinyin import Style, lazy_pinyin

MAINLAND = "CN"

# The officially assigned ISO 3166-1 alpha-2 codes (249, as of the 2023 newsletters). Babel's
# Locale("en").territories has these and 15 more two-letter codes that are no country:
# EU European Union, EZ Eurozone, UN United Nations, QO Outlying Oceania, XA / XB the
# pseudo-locales, ZZ Unknown Region, XK Kosovo (user-assigned, not ISO), and the exceptionally
# reserved AC Ascension, TA Tristan da Cunha (both under SH), CP Clipperton (FR), CQ Sark (GG),
# DG Diego Garcia (IO), EA Ceuta & Melilla and IC Canary Islands (ES): an address there is
# written under the code in brackets. A list of what is allowed rather than what is not, so that
# a code a later Babel adds is not offered until it is added here.
# fmt: off
ISO_3166_1 = frozenset((
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW",
    "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN",
    "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG",
    "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ",
    "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI",
    "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL",
    "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR",
    "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA",
    "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME",
    "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU",
    "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP",
    "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR",
    "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD",
    "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
    "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE",
    "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
))
# fmt: on
# China, then its regions with posts of their own, at the top of the list in every language.
CHINA_FIRST = (MAINLAND, "HK", "MO", "TW")
# Names given here rather than Babel's (CLDR names Taiwan as a country: "台湾", "Taiwan"), by
# language, with "zh_Hant" for traditional characters; "*" for any other language (where there
# is none, Babel's name). Not translation strings: no catalogue may name them otherwise.
NAMES = {
    "TW": {"zh": "中国台湾", "zh_Hant": "中國台灣", "en": "Taiwan, China", "*": "Taiwan, China"},
    "HK": {"en": "Hong Kong SAR, China"},
    "MO": {"en": "Macao SAR, China"},
}


def countries() -> frozenset[str]:
    """The two-letter codes of the countries and regions an address may be in."""
    return ISO_3166_1


def country_name(code: str, locale: Locale | str | None = None) -> str:
    """The name of the country or region ``code`` in ``locale`` (the page's language by default)."""
    locale = _locale(locale)
    own = NAMES.get(code)
    if own:
        for key in (f"{locale.language}_{locale.script}", locale.language, "*"):
            if key in own:
                return own[key]
    return locale.territories.get(code) or Locale("en").territories.get(code) or code


def country_choices(locale: Locale | str | None = None) -> list[tuple[str, str]]:
    """(code, name) of every country and region an address may be in, for the form's list:
    China, Hong Kong, Macao and Taiwan first, the others in the order of ``locale``'s language
    (the page's by default): in Chinese by the pinyin of their names (pypinyin), tone by tone;
    otherwise by their names without accents or case."""
    return list(_ordered_choices(str(_locale(locale))))


@functools.lru_cache(maxsize=16)
def _ordered_choices(locale_id: str) -> tuple[tuple[str, str], ...]:
    """``country_choices`` of one language, made once: sorting by pinyin takes about 15 ms, and
    the names and their order are the same for every page in that language."""
    locale = Locale.parse(locale_id)
    first = [(code, country_name(code, locale)) for code in CHINA_FIRST]
    rest = [(code, country_name(code, locale)) for code in countries() - set(CHINA_FIRST)]
    key = _pinyin_key if locale.language == "zh" else _plain_key
    return tuple(first + sorted(rest, key=lambda choice: (key(choice[1]), choice[1], choice[0])))


def _locale(locale: Locale | str | None) -> Locale:
    if locale is None:
        locale = get_locale() or Locale("en")
    return Locale.parse(locale) if isinstance(locale, str) else locale


def _pinyin_key(name: str) -> list[str]:
    return [syllable.casefold() for syllable in lazy_pinyin(name, style=Style.TONE3, neutral_tone_with_five=True)]


def _plain_key(name: str) -> str:
    """``Åland`` with the A's, ``Côte d’Ivoire`` before ``Croatia``."""
    letters = unicodedata.normalize("NFKD", name)
    return "".join(c for c in letters if not unicodedata.combining(c)).casefold()
