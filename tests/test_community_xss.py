"""Hostile Markdown and HTML in articles, questions, answers and tickets renders inert: no script,
no event handler, no javascript:/data:/vbscript: link, no frame, style or form on any page that
shows it (article, question, ticket, lists, search results, suggestions, the product box)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from community.services import tickets as ticket_services
from shop.extensions import db
from tests.conftest import login
from tests.fixtures.community import make_answer, make_article, make_question, make_ticket

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="javascript:alert(1)">',
    "<svg/onload=alert(1)>",
    "<iframe src=//evil.example></iframe>",
    "<body onload=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '![x](x" onerror="alert(1))',
    '[x](https://ok.example "title" onmouseover=alert(1))',
    "<details open ontoggle=alert(1)>",
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    '<form action="https://evil.example"><input name=p></form>',
    "<object data=javascript:alert(1)></object>",
    "<!--<script>alert(1)</script>-->",
    '"><script>alert(1)</script>',
    "<<script>script>alert(1)<</script>/script>",
    "`<script>alert(1)</script>`",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
]

BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
# Tags the app's templates never use; a post that brings one in was not sanitized.
BAD_TAGS = {"iframe", "object", "embed", "style", "svg", "math", "base", "frame", "details", "body"}


class InertChecker(HTMLParser):
    """Collects anything that could run or restyle the page: script tags other than the app's
    own static files, event-handler and style attributes, javascript:/data:/vbscript: URLs,
    forms posting elsewhere, meta refreshes, and tags the templates never use."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.bodies = 0
        self.menus = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "body":
            self.bodies += 1
            if self.bodies == 1 and not attrs:
                return  # the page's own <body>
        if tag == "details":
            self.menus += 1
            if self.menus == 1 and attrs == [("class", "menu")]:
                return  # the header's own menu (shop/templates/_header.html)
        if tag == "script" and not (attributes.get("src") or "").startswith("/static/"):
            self.problems.append(f"<script {attrs}>")
        if tag == "link" and not (
            attributes.get("rel") == "stylesheet" and (attributes.get("href") or "").startswith("/static/")
        ):
            self.problems.append(f"<link {attrs}>")
        if tag == "meta" and "http-equiv" in attributes:
            self.problems.append(f"<meta {attrs}>")
        if tag == "form" and not (attributes.get("action") or "/").startswith("/"):
            self.problems.append(f"<form {attrs}>")
        if tag in BAD_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "formaction", "xlink:href", "srcdoc"):
                self.problems.append(f"{tag} {name}={value!r}")
            if name in ("href", "src", "action", "data", "formaction") and value:
                compact = "".join(value.split()).lower()
                if compact.startswith(BAD_SCHEMES):
                    self.problems.append(f"{tag} {name}={value!r}")


def assert_inert(html: str) -> None:
    checker = InertChecker()
    checker.feed(html)
    assert checker.problems == [], checker.problems


def test_the_checker_catches_what_it_looks_for():
    for bad in (
        "<script>x</script>",
        "<img src=x onerror=y>",
        '<a href=" JavaScript:x">',
        "<iframe>",
        '<p style="x">',
        '<form action="https://evil.example">',
        '<meta http-equiv="refresh">',
        '<link rel="import" href="//evil.example">',
    ):
        checker = InertChecker()
        checker.feed(bad)
        assert checker.problems, bad
    checker = InertChecker()
    checker.feed('<body><script src="/static/community.js"></script><form action="/community/ask"><p>ok</p>')
    assert checker.problems == []


@pytest.fixture
def hostile(employee, operator, product):
    body = "\n\n".join(PAYLOADS)
    article = make_article(operator, "<script>alert('title')</script> headphones", body, product_ids=(product.id,))
    question = make_question(employee, "<img src=x onerror=alert(1)> headphones?", body)
    answer = make_answer(operator, question, body)
    ticket = make_ticket(employee, "<svg onload=alert(1)> headphones", body)
    return {"article": article, "question": question, "answer": answer, "ticket": ticket, "product": product}


def test_hostile_posts_render_inert_on_every_page(app, client, employee, operator, hostile):
    with app.test_request_context():
        ticket_services.reply(operator, hostile["ticket"], "\n\n".join(PAYLOADS))
    db.session.commit()
    login(client, employee)
    pages = [
        f"/community/articles/{hostile['article'].id}",
        "/community/articles",
        "/community/",
        f"/community/questions/{hostile['question'].id}",
        "/community/questions",
        f"/community/tickets/{hostile['ticket'].id}",
        "/community/tickets",
        "/community/search?q=headphones",
        "/community/search?q=alert",
        "/community/ask?title=headphones",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert_inert(response.get_data(as_text=True))
    # Suggestions are JSON text (community.js sets textContent), never HTML.
    response = client.get("/community/suggest?q=headphones")
    assert response.mimetype == "application/json" and response.headers["X-Content-Type-Options"] == "nosniff"
    titles = {item["title"] for item in response.get_json()["items"]}
    assert titles == {"<script>alert('title')</script> headphones"}
    # The operators' pages show the same posts.
    login(client, operator)
    for page in (
        f"/community/tickets/{hostile['ticket'].id}",
        "/community/ops/tickets",
        f"/community/questions/{hostile['question'].id}",
        "/community/ops/articles",
    ):
        assert_inert(client.get(page).get_data(as_text=True))


def test_the_product_box_is_inert(app, client, employee, hostile):
    from flask import render_template

    with app.test_request_context():
        html = render_template("community/_product_articles.html", product=hostile["product"])
    assert "Know before you share" in html and f"/community/articles/{hostile['article'].id}" in html
    assert "&lt;script&gt;" in html
    assert_inert(html)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_each_payload_alone_renders_inert(client, employee, payload):
    question = make_question(employee, "Payload", payload)
    answer = make_answer(employee, question, payload)
    login(client, employee)
    html = client.get(f"/community/questions/{question.id}").get_data(as_text=True)
    assert_inert(html)
    assert f'id="answer-{answer.id}"' in html
