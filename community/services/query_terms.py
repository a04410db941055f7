"""The terms of a search query: words, and CJK text cut into the pairs of characters that
the trigram indexes (SQLite FTS5, PostgreSQL pg_trgm) can find, without stop words."""

from __future__ import annotations

import re
import unicodedata

MAX_TERMS = 12
QUERY_MAX = 200
# What the text cannot know: multipliers on the text relevance.

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_WORD = re.compile(r"\w+")
# Pairs that say nothing about the subject ("how", "what", "can", "please"...).
_CJK_STOP_PAIRS = frozenset(
    {
        "怎么",
        "什么",
        "如何",
        "可以",
        "请问",
        "一下",
        "我们",
        "你们",
        "是不",
        "不是",
        "有没",
        "没有",
        "能不",
        "不能",
        "为什",
        "的话",
        "这个",
        "那个",
        "是否",
        "需要",
    }
)
_LETTERS_OR_DIGITS = re.compile(r"\d+|[^\W\d_]+")
_STOPWORDS = frozenset(
    {
        "the",
        "and",
        "for",
        "are",
        "was",
        "were",
        "how",
        "can",
        "could",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "does",
        "did",
        "you",
        "your",
        "with",
        "this",
        "that",
        "have",
        "has",
        "from",
        "will",
        "not",
        "but",
        "any",
        "all",
        "our",
        "its",
        "into",
        "about",
        "there",
        "their",
        "them",
        "they",
        "then",
        "than",
    }
)


def _is_cjk(text: str) -> bool:
    return bool(_CJK_RUN.fullmatch(text))


def tokens(query: str) -> list[str]:
    """Words of a query: NFKC (full-width letters and spaces become ordinary ones), split at
    spaces and punctuation, where Chinese meets other scripts, and between letters and digits."""
    text = unicodedata.normalize("NFKC", query or "")
    out: list[str] = []
    for word in _WORD.findall(text):
        for part in re.split(f"([{_CJK}]+)", word):
            # Letters and digits apart too: "iphone15" finds "iPhone 15".
            for piece in [part] if _is_cjk(part) else _LETTERS_OR_DIGITS.findall(part):
                if piece.casefold() not in (t.casefold() for t in out):
                    out.append(piece)
    return out[:MAX_TERMS]


def terms_for(query: str, match: str) -> list[str]:
    """The terms to look for. ``all``: the words themselves. ``any``: words of three letters or
    more that are not stop words, and each Chinese run cut into overlapping pairs of characters
    (most Chinese words are two characters long), so a question phrased differently from the text
    still meets it."""
    words = tokens(query)
    if match == "all":
        return words
    pieces: list[str] = []
    for word in words:
        if _is_cjk(word):
            pairs = [word[i : i + 2] for i in range(len(word) - 1)] or [word]
            pieces += [pair for pair in pairs if pair not in _CJK_STOP_PAIRS]
        elif len(word) >= 3 and word.casefold() not in _STOPWORDS:
            pieces.append(word)
    pieces = list(dict.fromkeys(pieces))[: MAX_TERMS * 2]
    return pieces or words  # nothing but short or stop words: look for them after all
