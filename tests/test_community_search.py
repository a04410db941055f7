"""Community search: English, Chinese and mixed queries on SQLite (FTS5 trigram) and PostgreSQL
(pg_trgm), ranking, snippets, the index kept in the same transaction, suggestions, the log."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import flask_migrate
import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from sqlalchemy import func, select

from community.models import ArticleKind, SearchQuery
from community.search_index import PREFIX
from community.services import search as search_services
from community.services.moderation import Action, moderate
from community.services.query_terms import tokens
from community.services.search import search, suggest
from shop import create_app
from shop.extensions import db
from tests.conftest import login
from tests.fixtures.community import make_answer, make_article, make_question


@pytest.fixture
def library(operator, employee, make_user):
    """Articles and questions in English, Chinese and both."""
    asker = make_user(name="Asker")
    docs = {
        "warranty": make_article(
            operator,
            "Warranty for headphones",
            "Every pair of headphones has a **two-year** warranty.",
            kind=ArticleKind.faq,
        ),
        "returns_zh": make_article(
            operator, "茶具的退货政策", "收到茶具后七天内可以无理由退货，请保留包装。", kind=ArticleKind.manual
        ),
        "mixed": make_article(
            operator, "iPhone 15 保修说明", "iPhone 15 的保修期为一年，AppleCare 可延长。", kind=ArticleKind.comparison
        ),
        "script": make_article(
            operator, "How to pitch the rice cooker", "Start with the induction heating.", kind=ArticleKind.sales_script
        ),
    }
    question = make_question(asker, "洗碗机能放茶杯吗？", "紫砂壶可以用洗碗机洗吗")
    docs["question_zh"] = question
    docs["answer_zh"] = make_answer(employee, question, "紫砂壶不要放洗碗机，用清水冲洗即可。", accepted_by=asker)
    return docs


def kinds_ids(results):
    return [(hit.kind, hit.id) for hit in results.hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("warranty", "warranty"),  # English, one word
        ("two-year WARRANTY", "warranty"),  # case does not matter; every term must match
        ("退货政策", "returns_zh"),  # Chinese, four characters (trigrams)
        ("退货", "returns_zh"),  # Chinese, two characters (the LIKE path)
        ("七天内", "returns_zh"),  # Chinese text inside the body
        ("iPhone 保修", "mixed"),  # mixed Chinese and English
        ("iphone15保修", "mixed"),  # no spaces: split where the scripts meet
        ("ＩＰｈｏｎｅ　１５", "mixed"),  # full-width letters, digits and space
        ("applecare", "mixed"),
    ],
)
def test_queries_find_the_expected_article(library, query, expected):
    results = search(query)
    assert results.hits, f"nothing found for {query!r}"
    assert (results.hits[0].kind, results.hits[0].id) == ("article", library[expected].id)
    assert not results.relaxed


def test_chinese_question_and_answer_are_found(library):
    found = kinds_ids(search("洗碗机"))
    assert ("question", library["question_zh"].id) in found
    assert ("answer", library["answer_zh"].id) in found
    assert kinds_ids(search("紫砂壶不要"))[0] == ("answer", library["answer_zh"].id)


def test_every_term_must_match_and_misses_find_nothing(library):
    assert search("warranty 退货", relax=False).hits == []  # two documents, one term each
    relaxed = search("warranty 退货")  # ... but each has one of the terms
    assert relaxed.relaxed and {h.id for h in relaxed.hits} == {library["warranty"].id, library["returns_zh"].id}
    assert search("blender").hits == []
    assert search("").hits == [] and search("   ").terms == []


def test_when_nothing_matches_every_term_some_terms_are_enough(library):
    results = search("茶具怎么退货")  # not written like this anywhere; its pieces are
    assert results.relaxed
    assert kinds_ids(results)[0] == ("article", library["returns_zh"].id)
    assert search("茶具怎么退货", relax=False).hits == []


def test_drafts_pending_and_hidden_posts_are_not_found(operator, employee, library):
    draft = make_article(operator, "Draft about warranty", "warranty draft", publish=False)
    pending = make_article(employee, "Pending about warranty", "warranty pending")
    assert pending.status.value == "pending"
    found = kinds_ids(search("warranty"))
    assert ("article", draft.id) not in found and ("article", pending.id) not in found
    moderate(operator, library["question_zh"], Action.hide)
    db.session.commit()
    found = kinds_ids(search("洗碗机"))
    assert found == []  # the question is hidden, and with it its answers


def test_the_accepted_answer_ranks_first(operator, employee, make_user):
    asker, helper = make_user(), make_user()
    question = make_question(asker, "How long is the cover on the smart watch?", "Bought last month.")
    wordy = make_answer(
        helper, question, "Cover, cover, cover: the cover lasts as long as the cover says, ask about the cover."
    )
    accepted = make_answer(employee, question, "The cover is one year.", accepted_by=asker)
    other = make_answer(make_user(), question, "No idea about the cover.")
    hits = [h for h in search("cover").hits if h.kind == "answer"]
    assert [h.id for h in hits][0] == accepted.id
    assert {h.id for h in hits} == {wordy.id, accepted.id, other.id}
    assert hits[0].accepted and not any(h.accepted for h in hits[1:])


def test_snippets_highlight_the_terms_and_escape_the_text(operator):
    make_article(
        operator,
        "Gift <b>boxes</b>",
        "Some intro words. " * 8 + "The <script>gift</script> box costs < 100 & ships with a card.",
    )
    [hit] = search("gift").hits
    assert str(hit.title_html) == "<mark>Gift</mark> &lt;b&gt;boxes&lt;/b&gt;"
    snippet = str(hit.snippet_html)
    assert "<mark>gift</mark>" in snippet and "script" not in snippet  # tags are dropped from snippets
    assert "costs &lt; 100 &amp; ships" in snippet  # and the rest is escaped
    assert snippet.startswith("…")  # cut before the first match


def test_the_index_follows_edits_deletes_and_rollbacks(operator, is_postgres):
    article = make_article(operator, "Kettle descaling", "Use citric acid once a month.")
    article.body_md = "Use white vinegar every week."
    db.session.commit()
    assert search("vinegar").hits and not search("citric").hits
    article.title = "Kettle cleaning"
    db.session.flush()  # not committed: this transaction sees its own change
    assert search("cleaning").hits
    db.session.rollback()
    assert not search("cleaning").hits and search("descaling").hits
    if not is_postgres:  # the FTS5 table is emptied by the triggers when content goes
        with db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM community_article_products"))
            conn.execute(sa.text("DELETE FROM community_article_tags"))
            conn.execute(sa.text("DELETE FROM community_articles"))
            assert conn.execute(sa.text(f"SELECT count(*) FROM {PREFIX}")).scalar() == 0


def test_tokens_split_scripts_and_punctuation():
    assert tokens("iPhone保修，退货 政策?") == ["iPhone", "保修", "退货", "政策"]
    assert tokens("ＡＢＣ　ｄｅｆ") == ["ABC", "def"]
    assert tokens("Tea tea TEA") == ["Tea"]
    assert search_services.terms_for("茶具怎么退货", "any") == ["茶具", "具怎", "么退", "退货"]  # not 怎么
    assert search_services.terms_for("how do I return the tea set", "any") == ["return", "tea", "set"]
    assert search_services.terms_for("how do I", "any") == ["how", "do", "I"]


def test_suggestions_are_public_articles_and_solved_questions(operator, employee, make_user, library):
    asker = make_user()
    open_question = make_question(asker, "Warranty for headphones bought abroad?")
    hits = suggest("headphones warranty")
    assert ("article", library["warranty"].id) in [(h.kind, h.id) for h in hits]
    assert ("question", open_question.id) not in [(h.kind, h.id) for h in hits]
    # An answer that matches stands for its solved question.
    hits = suggest("紫砂壶不要放")
    assert [(h.kind, h.id) for h in hits] == [("question", library["question_zh"].id)]
    assert len(suggest("the")) <= 3


def test_search_page_highlights_and_logs_queries(client, employee, library):
    login(client, employee)
    page = client.get("/community/search?q=退货").get_data(as_text=True)
    assert "<mark>退货</mark>" in page and f"/community/articles/{library['returns_zh'].id}" in page
    missed = client.get("/community/search?q=Blender+Pro").get_data(as_text=True)
    assert "Nothing found." in missed
    client.get("/community/search")  # no query: nothing logged
    logged = db.session.execute(
        select(SearchQuery.query, SearchQuery.results, SearchQuery.user_id).order_by(SearchQuery.id)
    ).all()
    assert logged == [("退货", 1, employee.id), ("blender pro", 0, employee.id)]


def test_the_search_page_logs_a_search_once_per_user_query_and_minute(client, employee, make_user, library):
    """A reload, a prefetch or the same link opened again is not another search (issue 17)."""
    other = make_user()

    def logged():
        return db.session.execute(
            select(SearchQuery.query, SearchQuery.user_id, SearchQuery.created_at).order_by(SearchQuery.id)
        ).all()

    with freeze_time("2026-12-06 10:00:05"):
        login(client, employee)
        for _ in range(3):
            assert client.get("/community/search?q=Blender+Pro").status_code == 200
        client.get("/community/search?q=blender  PRO")  # the same query, normalised
        login(client, other)
        client.get("/community/search?q=Blender+Pro")  # another user's search counts
    with freeze_time("2026-12-06 10:00:59"):
        client.get("/community/search?q=Blender+Pro")
    with freeze_time("2026-12-06 10:01:00"):
        client.get("/community/search?q=Blender+Pro")  # a minute later: searched again
    minute = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    assert logged() == [
        ("blender pro", employee.id, minute),
        ("blender pro", other.id, minute),
        ("blender pro", other.id, minute + timedelta(minutes=1)),
    ]


def test_suggest_endpoint_returns_json(client, employee, library):
    login(client, employee)
    data = client.get("/community/suggest?q=iPhone 保修", headers={"Accept": "application/json"}).get_json()
    assert data["items"][0]["kind"] == "article" and data["items"][0]["url"].endswith(f"/{library['mixed'].id}")
    assert "保修" in data["items"][0]["snippet"] and "<mark>" not in data["items"][0]["snippet"]
    assert client.get("/community/suggest?q=x").get_json() == {"items": []}
    assert db.session.scalar(select(func.count()).select_from(SearchQuery)) == 0  # keystrokes are not logged


def _search_objects(conn) -> list[tuple[str, str]]:
    if conn.dialect.name == "sqlite":
        rows = conn.execute(
            sa.text("SELECT name, sql FROM sqlite_master WHERE name LIKE :p AND sql IS NOT NULL"), {"p": PREFIX + "%"}
        )
    else:
        rows = conn.execute(
            sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE :p"), {"p": PREFIX + "%"}
        )
    return sorted((name, " ".join(sql.split())) for name, sql in rows)


def test_the_migration_and_create_all_make_the_same_search_objects(app, empty_database_url, tmp_path):
    with db.engine.connect() as conn:
        made_by_create_all = _search_objects(conn)
    os.environ["NEIGOU_INSTANCE_PATH"] = str(tmp_path)
    try:
        migrated = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    finally:
        os.environ.pop("NEIGOU_INSTANCE_PATH")
    with migrated.app_context():
        flask_migrate.upgrade(revision="c6012b25adb0")
        with db.engine.connect() as conn:
            made_by_migration = _search_objects(conn)
        db.engine.dispose()
    names = {name for name, _sql in made_by_create_all}
    if db.engine.dialect.name == "sqlite":  # the FTS5 table (and its shadow tables), three triggers a source
        assert {PREFIX, f"{PREFIX}_articles_ai", f"{PREFIX}_questions_au", f"{PREFIX}_answers_ad"} <= names
        assert len([n for n in names if n.endswith(("_ai", "_au", "_ad"))]) == 9
    else:  # a trigram index a source
        assert names == {f"{PREFIX}_articles", f"{PREFIX}_questions", f"{PREFIX}_answers"}
    assert made_by_migration == made_by_create_all
