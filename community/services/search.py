"""One search over articles, questions and answers, on SQLite and on PostgreSQL.

``search(query)`` hides the backend:

- SQLite: the FTS5 trigram table (``community.search_index``), ranked by bm25 with the title
  weighing five times the body. Trigrams need three characters, so terms of one or two
  characters (common in Chinese: 保修, 退货) are matched with LIKE on the same table, and such
  queries are ranked by how many terms a row has, in its title (x5) or body.
- PostgreSQL: ``ILIKE '%term%'`` served by the pg_trgm GIN indexes, ranked by where and how
  often the terms occur (title five times the body).

Both match substrings, so Chinese text (no spaces between words), English and a mix of the two
behave the same. A query is split into terms at spaces and punctuation, where Chinese meets
Latin script and between letters and digits ("iPhone15保修" is "iPhone", "15" and "保修").
``match="all"`` wants every term (the search page). ``match="any"`` wants one of them, drops
stop words and cuts Chinese runs into overlapping pairs of characters, so "茶具怎么退货" still
finds "茶具的退货政策" (suggestions as you type, and the search page when nothing matches every
term).

The database returns the best candidates; Python then applies what the text cannot know (an
accepted answer ranks first, then solved questions and published articles, then votes) and
cuts a snippet around the first match with the terms highlighted.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy import and_, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import selectinload

from community.models import Answer, Article, ArticleStatus, Question, SearchQuery
from community.search_index import KIND_ANSWER, KIND_ARTICLE, KIND_QUESTION, KINDS, PREFIX
from community.services.query_terms import QUERY_MAX, terms_for
from shop.accounts.models import User
from shop.database import insert_ignoring_duplicates, utcnow
from shop.extensions import db

CANDIDATES = 200
TITLE_WEIGHT = 5.0
ACCEPTED_BOOST = 3.0
SOLVED_BOOST = 1.5
ARTICLE_BOOST = 1.5
VOTE_BOOST = 0.1  # per vote, up to MAX_VOTES
MAX_VOTES = 10


@dataclass
class Hit:
    kind: str  # "article", "question" or "answer"
    id: int
    title: str  # an answer's is its question's
    title_html: Markup
    snippet_html: Markup
    score: float
    item: Article | Question | Answer
    question_id: int | None = None  # for answers and questions
    accepted: bool = False
    solved: bool = False


@dataclass
class Results:
    query: str
    terms: list[str]
    hits: list[Hit] = field(default_factory=list)
    relaxed: bool = False  # nothing matched every term; these match some of them


def search(
    query: str,
    *,
    kinds: tuple[str, ...] = ("article", "question", "answer"),
    limit: int = 20,
    match: str = "all",
    relax: bool = True,
) -> Results:
    """Search public articles and visible questions and answers. With ``relax``, a query that
    matches nothing with every term is run again wanting any of them."""
    query = " ".join((query or "").split())[:QUERY_MAX]
    terms = terms_for(query, match)
    results = Results(query=query, terms=terms)
    if not terms:
        return results
    results.hits = _ranked(terms, kinds, match, limit)
    if not results.hits and relax and match == "all":
        any_terms = terms_for(query, "any")
        relaxed_hits = _ranked(any_terms, kinds, "any", limit)
        if relaxed_hits:
            results.hits, results.terms, results.relaxed = relaxed_hits, any_terms, True
    return results


def suggest(text: str, *, limit: int = 3) -> list[Hit]:
    """Up to ``limit`` public articles and solved questions for what the user is typing.

    An answer that matches stands for its question when that question is solved."""
    results = search(text, match="any", limit=limit * 5, relax=False)
    picked: list[Hit] = []
    seen: set[tuple[str, int]] = set()
    for hit in results.hits:
        if hit.kind == "article":
            key = ("article", hit.id)
        elif hit.solved:
            key = ("question", hit.question_id)
        else:
            continue
        if key in seen:
            continue
        seen.add(key)
        if hit.kind == "answer":
            question = hit.item.question
            hit = Hit(
                kind="question",
                id=question.id,
                title=question.title,
                title_html=escape(question.title),
                snippet_html=hit.snippet_html,
                score=hit.score,
                item=question,
                question_id=question.id,
                solved=True,
            )
        picked.append(hit)
        if len(picked) == limit:
            break
    return picked


# ---- candidates from the database ---------------------------------------------------------


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _article_visible(article_id):
    return exists().where(
        Article.id == article_id, Article.status == ArticleStatus.published, Article.is_hidden.is_(False)
    )


def _question_visible(question_id):
    return exists().where(Question.id == question_id, Question.is_hidden.is_(False))


def _answer_visible(answer_id):
    return exists().where(
        Answer.id == answer_id,
        Answer.is_hidden.is_(False),
        Question.id == Answer.question_id,
        Question.is_hidden.is_(False),
    )


def _candidates(terms: list[str], kinds: tuple[str, ...], match: str) -> list[tuple[str, int, float]]:
    """(kind, id, relevance) of the best matches, best first; relevance > 0."""
    if db.session.get_bind().dialect.name == "postgresql":
        return _postgres_candidates(terms, kinds, match)
    return _sqlite_candidates(terms, kinds, match)


def _sqlite_candidates(terms, kinds, match):
    """FTS5 MATCH (and bm25) when it can serve the query; LIKE on the same table for terms
    under three characters, which trigrams cannot index, ranked by how many terms a row has."""
    fts = sa.table(PREFIX, sa.column("rowid", sa.Integer), sa.column("title"), sa.column("body"))
    long_terms = [t for t in terms if len(t) >= 3]
    short_terms = [t for t in terms if len(t) < 3]

    def contains(term):
        pattern = _like(term)
        return fts.c.title.like(pattern, escape="\\"), fts.c.body.like(pattern, escape="\\")

    if long_terms and (match == "all" or not short_terms):
        joiner = " " if match == "all" else " OR "
        expression = joiner.join('"' + t.replace('"', '""') + '"' for t in long_terms)
        where = and_(sa.literal_column(PREFIX).op("MATCH")(expression), *(or_(*contains(t)) for t in short_terms))
        # bm25 is negative (better matches lower) and exists only when MATCH is in the query.
        relevance = -func.bm25(sa.literal_column(PREFIX), TITLE_WEIGHT, 1.0)
    else:  # "any" with short terms (MATCH cannot be OR-ed with LIKE), or only short terms
        where = (and_ if match == "all" else or_)(*(or_(*contains(t)) for t in terms))
        relevance = sum(
            (
                sa.case((in_title, TITLE_WEIGHT), else_=0.0) + sa.case((in_body, 1.0), else_=0.0)
                for in_title, in_body in map(contains, terms)
            ),
            literal(0.0),
        )
    kind, doc_id = fts.c.rowid % 4, fts.c.rowid // 4
    visible = []
    if "article" in kinds:
        visible.append(and_(kind == KIND_ARTICLE, _article_visible(doc_id)))
    if "question" in kinds:
        visible.append(and_(kind == KIND_QUESTION, _question_visible(doc_id)))
    if "answer" in kinds:
        visible.append(and_(kind == KIND_ANSWER, _answer_visible(doc_id)))
    rows = db.session.execute(
        select(fts.c.rowid, relevance.label("relevance"))
        .select_from(fts)
        .where(where, or_(*visible))
        .order_by(sa.desc("relevance"), fts.c.rowid.desc())
        .limit(CANDIDATES)
    ).all()
    return [(KINDS[rowid % 4], rowid // 4, max(float(rel), 1e-6)) for rowid, rel in rows]


def _postgres_candidates(terms, kinds, match):
    selects = []
    sources = {
        "article": (
            KIND_ARTICLE,
            Article,
            Article.title,
            (Article.status == ArticleStatus.published, Article.is_hidden.is_(False)),
        ),
        "question": (KIND_QUESTION, Question, Question.title, (Question.is_hidden.is_(False),)),
        "answer": (KIND_ANSWER, Answer, None, (Answer.is_hidden.is_(False), _question_visible(Answer.question_id))),
    }
    for name in kinds:
        code, model, title, visible = sources[name]
        body = model.body_md
        hits, relevance = [], []
        for term in terms:
            pattern = _like(term)
            in_body = body.ilike(pattern, escape="\\")
            in_title = title.ilike(pattern, escape="\\") if title is not None else None
            hits.append(or_(in_title, in_body) if in_title is not None else in_body)
            occurrences = sa.cast(
                (func.char_length(body) - func.char_length(func.replace(func.lower(body), term.lower(), "")))
                / len(term),
                sa.Float,
            )
            relevance.append(func.ln(1.0 + occurrences))
            if in_title is not None:
                relevance.append(sa.case((in_title, TITLE_WEIGHT), else_=0.0))
        matched = and_(*hits) if match == "all" else or_(*hits)
        selects.append(
            select(
                literal(code).label("kind"), model.id.label("id"), sum(relevance[1:], relevance[0]).label("relevance")
            ).where(matched, *visible)
        )
    if not selects:
        return []
    union = union_all(*selects).subquery()
    rows = db.session.execute(
        select(union.c.kind, union.c.id, union.c.relevance)
        .order_by(union.c.relevance.desc(), union.c.id.desc())
        .limit(CANDIDATES)
    ).all()
    return [(KINDS[code], doc_id, max(float(rel), 1e-6)) for code, doc_id, rel in rows]


# ---- ranking and snippets -----------------------------------------------------------------


def _ranked(terms: list[str], kinds: tuple[str, ...], match: str, limit: int) -> list[Hit]:
    candidates = _candidates(terms, kinds, match)
    ids = {"article": [], "question": [], "answer": []}
    for kind, doc_id, _rel in candidates:
        ids[kind].append(doc_id)
    items = {
        "article": {a.id: a for a in db.session.scalars(select(Article).where(Article.id.in_(ids["article"])))},
        "question": {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(ids["question"])))},
        "answer": {
            a.id: a
            for a in db.session.scalars(
                select(Answer).where(Answer.id.in_(ids["answer"])).options(selectinload(Answer.question))
            )
        },
    }
    pattern = _highlighter(terms)
    hits = []
    for kind, doc_id, relevance in candidates:
        item = items[kind].get(doc_id)
        if item is None:
            continue
        hits.append(_hit(kind, item, relevance, pattern))
    hits.sort(key=lambda h: (-h.score, h.kind, -h.id))
    return hits[:limit]


def _hit(kind: str, item, relevance: float, pattern: re.Pattern) -> Hit:
    boost = 1.0
    if kind == "article":
        title, question_id, accepted, solved = item.title, None, False, False
        boost *= ARTICLE_BOOST
    elif kind == "question":
        title, question_id, accepted, solved = item.title, item.id, False, item.is_solved
        boost *= SOLVED_BOOST if solved else 1.0
    else:
        question = item.question
        title, question_id, accepted, solved = question.title, question.id, item.is_accepted, question.is_solved
        boost *= ACCEPTED_BOOST if accepted else 1.0
    if kind != "article":
        boost *= 1.0 + VOTE_BOOST * min(max(item.score, 0), MAX_VOTES)
    return Hit(
        kind=kind,
        id=item.id,
        title=title,
        title_html=highlight(title, pattern),
        snippet_html=snippet(item.body_md, pattern),
        score=math.log1p(relevance) * boost,
        item=item,
        question_id=question_id,
        accepted=accepted,
        solved=solved,
    )


def _highlighter(terms: list[str]) -> re.Pattern:
    alternatives = sorted({t for t in terms if t}, key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in alternatives) or r"(?!x)x", re.IGNORECASE)


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"[#*_`>|~]+|<[^>]*>")


def plain_text(markdown: str) -> str:
    """Markdown reduced to its words, for snippets (links keep their text, markup goes)."""
    text = _MD_LINK.sub(r"\1", markdown or "")
    return " ".join(_MD_MARKS.sub(" ", text).split())


def highlight(text: str, pattern: re.Pattern) -> Markup:
    """``text`` escaped, with every match of ``pattern`` in <mark>."""
    out, last = [], 0
    for found in pattern.finditer(text):
        out.append(escape(text[last : found.start()]))
        out.append(Markup("<mark>%s</mark>") % found.group())
        last = found.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def snippet(markdown: str, pattern: re.Pattern, *, before: int = 40, width: int = 160) -> Markup:
    text = plain_text(markdown)
    found = pattern.search(text)
    start = max(0, found.start() - before) if found else 0
    end = min(len(text), start + width)
    piece = text[start:end]
    return (
        (Markup("…") if start else Markup(""))
        + highlight(piece, pattern)
        + (Markup("…") if end < len(text) else Markup(""))
    )


# ---- the search log -----------------------------------------------------------------------


def normalise(query: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", query or "").casefold().split())[:QUERY_MAX]


def log_search(user: User | None, query: str, results: int, *, now: datetime | None = None) -> bool:
    """Remember a search and how many results it found (none: operators see it as a miss), once
    per user, query and minute: the page is a GET, and a reload, a prefetch or a shared link
    opened again must not count as another search. True when this call logged it."""
    text = normalise(query)
    if not text:
        return False
    minute = (now or utcnow()).replace(second=0, microsecond=0)
    statement = (
        insert_ignoring_duplicates(SearchQuery)
        .values(user_id=getattr(user, "id", None), query=text, results=results, created_at=minute)
        .on_conflict_do_nothing()
    )
    return db.session.execute(statement).rowcount == 1
