"""No string left behind (issue 21): every message the code marks is translated in every
catalogue, with the same placeholders, and the app reads catalogues compiled from them."""

from __future__ import annotations

import pytest
from babel.messages.mofile import read_mo

from tests.i18n.catalogue import LOCALES, TRANSLATIONS, catalogue, extracted, placeholders


@pytest.mark.parametrize("locale", LOCALES)
def test_every_marked_message_is_translated_with_its_placeholders(locale):
    translated = catalogue(locale)
    missing, fuzzy, wrong = [], [], []
    for msgid, (plural, where) in sorted(extracted().items()):
        key = (msgid, plural) if plural else msgid
        message = translated.get(msgid)
        if message is None or not message.string or not all(message.string if plural else [message.string]):
            missing.append(f"{where}: {msgid!r}")
            continue
        if message.fuzzy:
            fuzzy.append(f"{where}: {msgid!r}")
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = placeholders(plural or msgid)
        for string in strings:
            if placeholders(string) != expected:
                wrong.append(f"{where}: {key!r} -> {string!r}: {placeholders(string)} instead of {expected}")
    report = [
        *(f"missing: {line}" for line in missing),
        *(f"fuzzy (counts as missing): {line}" for line in fuzzy),
        *(f"placeholders: {line}" for line in wrong),
    ]
    assert report == [], (
        f"{len(report)} problems in {locale}'s catalogue (`make translations-update` merges new "
        "messages into it; translate them there):\n" + "\n".join(report[:60])
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalogue_is_the_one_translated(locale):
    """The app reads the .mo file; `make translations` (a step of make run and make test) builds
    it from the .po file, so a stale one means the pages show old or missing translations."""
    po_path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run `make translations`"
    with open(mo_path, "rb") as mo:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(mo) if m.id}
    source = {_key(m.id): _key(m.string) for m in catalogue(locale) if m.id and m.string and not m.fuzzy}
    stale = [repr(key) for key, value in source.items() if compiled.get(key) != value]
    assert stale == [], f"{mo_path} is older than its .po file: run `make translations` ({len(stale)} differ)"


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def test_placeholders_are_told_apart():
    assert placeholders("%(name)s has %(n)d of {count}, 10%% off, %s") == ["%(n)d", "%(name)s", "%s", "{count}"]
    assert placeholders("100%") == []
