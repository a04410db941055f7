"""The messages the code marks for translation, extracted as `make translations-update` does
(babel.cfg and the Makefile's BABEL_KEYWORDS), and the catalogues they are translated in."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "shop" / "translations"
# Babel names a locale with its script: zh_CN (the code users, cookies and preferences carry)
# is looked up as zh_Hans_CN, so that is the name of its catalogue.
LOCALES = ("zh_Hans_CN",)
_SKIPPED_DIRS = {"node_modules", "tests", "migrations", "bench", "build", "instance"}
# %(name)s, %(n)d, %s, %d, %.2f (not %%, a literal per cent) and {n}, {name}
PLACEHOLDER = re.compile(r"%\([A-Za-z_]\w*\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[-#0 +]*\d*(?:\.\d+)?[sdifr]|\{\w*\}")


def makefile_keywords() -> dict:
    line = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("BABEL_KEYWORDS"))
    keywords = dict(DEFAULT_KEYWORDS)
    for spec in re.findall(r"-k\s+(\S+)", line):
        name, _colon, args = spec.partition(":")
        keywords[name] = tuple(int(a) for a in args.split(",")) if args else None
    return keywords


def _wanted_dir(path: str) -> bool:
    parts = Path(path).relative_to(ROOT).parts if Path(path).is_absolute() else Path(path).parts
    return not any(part in _SKIPPED_DIRS or part.startswith((".", "_")) for part in parts[-1:])


@cache
def extracted() -> dict[str, tuple[str | None, str]]:
    """msgid -> (msgid_plural or None, where it was found first)."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, tuple[str | None, str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=makefile_keywords(), directory_filter=_wanted_dir
    ):
        singular, plural = (message[0], message[1]) if isinstance(message, tuple) else (message, None)
        if singular:
            found.setdefault(singular, (plural, f"{filename}:{lineno}"))
    return found


def catalogue(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=locale)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))
