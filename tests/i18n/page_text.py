"""The words a reader sees on a page: text, the attributes a browser shows (title,
placeholder, aria-label, alt, button labels) and what a chat app shows of a link (Open Graph)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

WORD = re.compile(r"[A-Za-z]{2,}")
# Addresses, links, file names and codes are not words of the interface.
NOT_WORDS = re.compile(
    r"[\w.+-]+@[\w-]+(\.[\w-]+)+"  # e-mail addresses
    r"|https?://\S+"  # links
    r"|\b[\w-]+\.(csv|png|jpe?g|webp|gif|xlsx|eml)\b"  # file names
    r"|\b[A-Z0-9][A-Z0-9-]*\d[A-Z0-9-]*\b"  # codes: order numbers, SKUs, tracking numbers
)
# What a browser shows of an element's attributes, and what the pages' scripts show from theirs
# (a confirmation dialog, a button's label after copying, the countdown's days).
SHOWN_ATTRIBUTES = (
    "title",
    "placeholder",
    "aria-label",
    "alt",
    "data-confirm",
    "data-copied",
    "data-resolve-label",
    "data-failed",
)
SHOWN_META = ("description", "og:title", "og:description", "og:site_name", "twitter:title", "twitter:description")


class VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "style", "template", "code"):  # <code>: codes, not words (an audit action)
            self._hidden += 1
            return
        self.parts.extend(a[name] for name in SHOWN_ATTRIBUTES if a.get(name))
        if tag == "input" and a.get("type") in ("submit", "button", "reset") and a.get("value"):
            self.parts.append(a["value"])
        if tag == "meta" and (a.get("name") in SHOWN_META or a.get("property") in SHOWN_META):
            self.parts.append(a.get("content", ""))

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template", "code") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return parser.parts


def english_words(html: str, allowed: set[str], allowed_phrases: set[str] = frozenset()) -> set[str]:
    """Words of two or more Latin letters in what the page shows, less ``allowed`` ones (user
    content, brand names, codes); ``allowed_phrases`` are taken out whole first (time zones)."""
    found = set()
    for part in visible_text(html):
        for chunk in part.split():
            if chunk.strip("()[],.;:") in allowed_phrases:
                part = part.replace(chunk, " ")
        part = NOT_WORDS.sub(" ", part)
        found.update(word for word in WORD.findall(part) if word not in allowed)
    return found
