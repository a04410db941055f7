"""Demo community data, called from ``shop.demo.seed()``: articles of every type (some in
Chinese, some linked to products, one due for review, one waiting for approval), questions with
answers, votes and accepted answers, consultation tickets in every state (one turned into a
draft FAQ), self-service resolutions and searches, some of which found nothing.

Everything goes through the community services at past moments. Idempotent like the rest of the
demo: nothing is added once any article exists. Adds and flushes; the caller commits. Replies to
the demo's tickets send no e-mail.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from community.models import Article, ArticleKind
from community.services import articles, questions, search, selfservice, tickets
from shop.accounts.models import Role, User
from shop.catalog.models import Product
from shop.database import utcnow
from shop.demo import demo_users, progress_bar
from shop.extensions import db

F, M, C, S, A = (
    ArticleKind.faq,
    ArticleKind.manual,
    ArticleKind.comparison,
    ArticleKind.sales_script,
    ArticleKind.announcement,
)

# (kind, title, body, tags, product slugs, days ago)
ARTICLES = (
    (
        F,
        "How does payroll deduction work?",
        "Employees can pay any order **by payroll deduction**: the order is paid at once and the amount is "
        "taken from your next salary.\n\n- Up to the monthly cap (see your account page)\n- Only for your own "
        "orders; friends pay by card\n- The deduction shows on your payslip as *neigou*",
        "payroll, payment",
        (),
        40,
    ),
    (
        F,
        "退货和换货政策",
        "收到商品后 **七天内** 可以无理由退货，请保留完整包装。\n\n1. 在“我的订单”中找到订单\n2. 联系运营同事说明原因\n"
        "3. 快递寄回后三个工作日内退款\n\n内购商品同样适用，员工价不影响售后。",
        "退货, 售后",
        (),
        35,
    ),
    (
        M,
        "Gongfu Tea Set: first use and care",
        "Rinse every piece in hot water before the first brew. Warm the gaiwan, then pour within ten seconds "
        "for the first infusions.\n\nThe porcelain is dishwasher safe; the bamboo tray is not: wipe it dry.",
        "tea, care",
        ("gongfu-tea-set",),
        30,
    ),
    (
        M,
        "智能电饭煲使用说明",
        "首次使用前请清洗内胆。\n\n- **预约**：最长 24 小时，适合早上的粥\n- **保温**：煮好后自动保温\n"
        "- 内胆不可用钢丝球清洗",
        "电饭煲, 说明书",
        ("smart-rice-cooker",),
        28,
    ),
    (
        C,
        "Noise-Cancelling Headphones compared with the big brands",
        "| | Ours | Big brand A | Big brand B |\n| --- | --- | --- | --- |\n| Battery | 30 h | 24 h | 30 h |\n"
        "| Multipoint | yes | no | yes |\n| Employee price | lowest | — | — |\n\nThe sound is close; the "
        "price is not.",
        "headphones, comparison",
        ("noise-cancelling-headphones",),
        21,
    ),
    (
        C,
        "27英寸4K显示器 对比 同价位竞品",
        "与同价位产品相比，我们的 27-inch 4K Monitor 支持 USB-C 90W 充电，一根线连接 MacBook。\n\n"
        "出厂校色，适合设计工作。",
        "显示器, 对比",
        ("27-inch-4k-monitor",),
        18,
    ),
    (
        S,
        "Sharing the Whole-Home Water Purifier with friends",
        "1. Ask about their tap water: taste, scale in the kettle\n2. Mention the free survey at home\n"
        "3. Refer them to a sales consultant with the product page's form\n\n*Never promise a price: the "
        "consultant quotes after the survey.*",
        "sales, water",
        ("whole-home-water-purifier",),
        14,
    ),
    (
        S,
        "向朋友介绍年度体检套餐",
        "先问家人最近一次体检是什么时候，再介绍套餐包含医生解读报告。\n\n不要承诺折扣，由健康顾问报价。",
        "体检, 话术",
        ("annual-health-check-package",),
        10,
    ),
    (
        A,
        "The autumn internal purchase festival is coming",
        "Mark your calendar: festival prices on tea, kitchen and electronics, with stock set aside for "
        "employees and their friends. Share the preview links now.",
        "festival",
        (),
        5,
    ),
    (A, "双十一内购会预告", "双十一内购会即将开始，员工和亲友都可以参加，限量商品先到先得。", "内购会", (), 3),
    (
        F,
        "Can I resell what I buy here?",
        "No. Internal purchase is **retail only**: per-order caps and quotas stop bulk buying for resale.",
        "rules",
        (),
        200,
    ),  # old: due for review
)

# (asker index, title, body, product slug, days ago, answers: (author index, body, accepted, votes))
QUESTIONS = (
    (
        0,
        "Can I pay by payroll for a friend's order?",
        "My friend wants the tea set; can I pay for her?",
        None,
        12,
        (
            (
                -1,
                "Payroll deduction is for your own orders only; your friend can pay by card after joining "
                "through your invite link.",
                True,
                3,
            ),
            (2, "I asked the same last month: card it is.", False, 1),
        ),
    ),
    (
        1,
        "电饭煲可以预约煮粥吗？",
        "晚上放米，早上想喝粥。",
        "smart-rice-cooker",
        9,
        ((3, "可以，预约最长24小时，选择“粥”模式即可。", True, 2),),
    ),
    (
        2,
        "Is the smart watch water resistant for swimming?",
        "Pool swimming, not diving.",
        "smart-watch",
        6,
        (
            (4, "It is rated to 50 m, so pool swimming is fine.", False, 2),
            (5, "Yes, I swim with mine twice a week.", False, 0),
        ),
    ),
    (3, "显示器支持Mac吗？", "MacBook Air 能用一根线连接吗？", "27-inch-4k-monitor", 4, ()),
    (
        4,
        "Do friends get the same warranty as employees?",
        "",
        None,
        2,
        ((0, "Same warranty for everyone; only the price differs.", False, 1),),
    ),
    (5, "When does the autumn festival start?", "", None, 0.5, ()),
)


def seed_community(progress=None, now: datetime | None = None) -> None:

    now = now or utcnow()
    if db.session.scalar(select(Article.id).limit(1)) is not None:
        return
    staff = demo_users(Role.operator) or demo_users(Role.admin)
    members = [u for u in demo_users(Role.member) if u.is_active]
    if not staff or len(members) < 6:
        return
    operator = staff[0]
    products = {p.slug: p for p in db.session.scalars(select(Product))}

    def product_ids(slugs) -> tuple[int, ...]:
        return tuple(products[s].id for s in slugs if s in products)

    def ago(days: float) -> datetime:
        return now - timedelta(days=days)

    with progress_bar(progress, "Community", len(ARTICLES) + len(QUESTIONS) + 5) as bar:
        made = {}
        for kind, title, body, tags, slugs, days in ARTICLES:
            data = articles.ArticleInput(
                kind=kind, title=title, body_md=body, tags=tags, product_ids=product_ids(slugs)
            )
            made[title] = articles.save_article(operator, None, data, publish=True, now=ago(days))
            bar.update(1)
        tips = articles.ArticleInput(
            kind=S,
            title="My way to share the tea set",
            body_md="Brew a cup for your friends first, then show the price.",
            tags="tea",
        )
        articles.save_article(members[0], None, tips, publish=True, now=ago(1))  # waits for approval

        for asker, title, body, slug, days, answers in QUESTIONS:
            author = members[asker]
            question = questions.ask_question(
                author,
                title=title,
                body_md=body,
                product_id=products[slug].id if slug in products else None,
                now=ago(days),
            )
            for n, (writer, text, accepted, votes) in enumerate(answers):
                answer = questions.post_answer(
                    operator if writer < 0 else members[writer], question, text, now=ago(days - 0.1 * (n + 1))
                )
                voters = [m for m in members[6:] if m.id != answer.author_id][:votes]
                for voter in voters:
                    questions.vote(voter, answer, 1)
                if accepted:
                    questions.accept_answer(author, answer, now=ago(days - 0.5))
            bar.update(1)

        _seed_tickets(operator, members, products, ago)
        bar.update(3)
        _seed_self_service(members, made, ago)
        bar.update(2)
    db.session.flush()


def _seed_tickets(operator: User, members: list[User], products: dict, ago) -> None:
    """One ticket in each state; the first resolved one became a draft FAQ."""
    rice = products.get("smart-rice-cooker")
    tickets.open_ticket(
        members[1],
        subject="Company invoice for my order",
        body_md="I need a VAT invoice with our company's tax number.",
        now=ago(0.2),
    )
    answered = tickets.open_ticket(
        members[2],
        subject="可以寄到香港吗？",
        body_md="想给香港的家人买一台电饭煲。",
        product_id=rice.id if rice else None,
        now=ago(3),
    )
    tickets.reply(operator, answered, "目前只能寄到中国大陆地址，香港暂不支持。", now=ago(2.9), notify=False)
    moved = tickets.open_ticket(
        members[3],
        subject="Change the delivery address of an order",
        body_md="I moved last week; the order is not shipped yet.",
        now=ago(8),
    )
    tickets.reply(
        operator,
        moved,
        "Cancel the unpaid order and place it again with the new address; "
        "paid orders: tell us the new address and we change it before shipping.",
        now=ago(7.8),
        notify=False,
    )
    tickets.resolve(operator, moved, now=ago(7))
    tickets.article_from_ticket(operator, moved, now=ago(6.5))
    team = tickets.open_ticket(
        members[4],
        subject="Twenty tea sets for a team event?",
        body_md="Can our department order twenty at the employee price?",
        now=ago(5),
    )
    tickets.reply(
        operator,
        team,
        "Internal purchase is retail only; for team gifts ask HR for the corporate channel.",
        now=ago(4.7),
        notify=False,
    )
    tickets.resolve(operator, team, now=ago(4.5))


def _seed_self_service(members: list[User], made: dict[str, Article], ago) -> None:
    clicks = (
        ("payroll for friend", "How does payroll deduction work?", 11),
        ("退货", "退货和换货政策", 8),
        ("电饭煲 预约", "智能电饭煲使用说明", 6),
        ("headphones battery", "Noise-Cancelling Headphones compared with the big brands", 2),
    )
    for n, (query, title, days) in enumerate(clicks):
        selfservice.record_self_service(members[n + 6], made[title], query=query, now=ago(days))
    for n, (query, results, days) in enumerate(
        (
            ("payroll", 2, 12),
            ("退货", 1, 8),
            ("invoice", 0, 3),
            ("发票", 0, 2),
            ("invoice", 0, 1),
            ("blender", 0, 1),
            ("headphones", 2, 2),
        )
    ):
        search.log_search(members[n], query, results, now=ago(days))
