"""Festival leaderboards against figures worked out by hand: top chains, newcomers, a board per
department, the share beyond the top 10%, and every viewer's own rank."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shop.accounts.models import Department
from shop.catalog.festival_models import Phase
from shop.catalog.models import PriceTier
from shop.extensions import db
from shop.festivals import leaderboards as boards
from shop.orders.models import Order, OrderStatus
from tests.conftest import login


def order(buyer, total, *, festival=None, status=OrderStatus.paid, refunded=0, paid_at=None) -> Order:
    """An order as the shop would have left it (the boards only read orders)."""
    placed = paid_at or (festival.launch_at + timedelta(minutes=5) if festival else None)
    row = Order(
        buyer_id=buyer.id,
        status=status,
        currency="CNY",
        total_amount=total,
        refunded_amount=refunded,
        price_tier=PriceTier.employee if buyer.level == 0 else PriceTier.contact,
        buyer_level=buyer.level,
        root_employee_id=buyer.id if buyer.level == 0 else buyer.root_employee_id,
        festival_id=festival.id if festival else None,
        ship_to="1 Century Avenue",
        created_at=placed,
        paid_at=None if status in (OrderStatus.pending_payment, OrderStatus.cancelled) else placed,
    )
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def world(make_user, make_contact, make_festival):
    sales, ops = Department(name="Sales"), Department(name="Ops")
    ann, ben = make_user(name="Ann", department=sales), make_user(name="Ben", department=sales)
    cai, dan = make_user(name="Cai", department=ops), make_user(name="Dan", department=ops)
    eve = make_user(name="Eve")
    ann_friend, cai_friend = make_contact(ann), make_contact(cai)
    earlier = make_festival(phase=Phase.ended, name="Autumn Fair")
    festival = make_festival(phase=Phase.launch, name="Spring Festival")
    before, after = festival.launch_at - timedelta(days=30), festival.launch_at + timedelta(hours=1)

    order(ann, 30_000, festival=festival)
    order(ann_friend, 20_000, festival=festival, status=OrderStatus.partially_refunded, refunded=5_000)
    order(ben, 45_000, festival=festival, status=OrderStatus.completed)
    order(ben, 9_000, paid_at=before)  # Ben's chain sold before: not a newcomer
    order(cai, 10_000, festival=festival, status=OrderStatus.shipped)
    order(cai_friend, 2_000, festival=festival)
    order(cai, 7_000, paid_at=after)  # after Cai's first festival sale: still a newcomer
    order(dan, 50_000, festival=festival, status=OrderStatus.pending_payment)  # unpaid: no revenue
    order(dan, 8_000, festival=festival, status=OrderStatus.refunded, refunded=8_000)  # all given back
    order(eve, 6_000, festival=festival)
    order(eve, 100_000, festival=festival, status=OrderStatus.cancelled)
    order(eve, 1_000, festival=earlier, paid_at=earlier.launch_at + timedelta(minutes=1))  # sold in another festival
    return {
        "festival": festival,
        "ann": ann,
        "ben": ben,
        "cai": cai,
        "dan": dan,
        "eve": eve,
        "ann_friend": ann_friend,
        "cai_friend": cai_friend,
    }


def ranks(board) -> list[tuple[int, str, int, int]]:
    return [(r.position, r.name, r.revenue, r.orders) for r in board.leaders]


def test_top_chains_rank_paid_revenue_less_refunds_with_shared_ranks(world):
    board = boards.top_chains(world["festival"], world["cai_friend"])
    # Ann: 300.00 + (200.00 - 50.00) = 450.00 in 2 orders, tied with Ben's 450.00; Cai: 100 + 20; Eve: 60.
    assert ranks(board) == [(1, "Ann", 45_000, 2), (1, "Ben", 45_000, 1), (3, "Cai", 12_000, 2), (4, "Eve", 6_000, 1)]
    assert (board.mine.position, board.mine.name) == (3, "Cai")  # a contact sees their chain's rank
    assert boards.top_chains(world["festival"], world["dan"]).mine is None  # no paid revenue: not ranked


def test_the_viewers_rank_is_found_below_the_leaders_and_ties_at_the_cut_stay(world):
    board = boards.top_chains(world["festival"], world["eve"], limit=1)
    assert ranks(board) == [(1, "Ann", 45_000, 2), (1, "Ben", 45_000, 1)]
    assert (board.mine.position, board.mine.revenue) == (4, 6_000)


def test_newcomers_are_chains_whose_first_paid_order_ever_was_in_this_festival(world):
    board = boards.newcomers(world["festival"], world["ann_friend"])
    assert ranks(board) == [(1, "Ann", 45_000, 2), (2, "Cai", 12_000, 2)]
    assert board.mine.position == 1
    assert boards.newcomers(world["festival"], world["ben"]).mine is None


def test_each_department_ranks_its_own_chains(world):
    found = boards.department_boards(world["festival"], world["cai_friend"])
    assert [(b.department, ranks(b)) for b in found] == [
        ("Ops", [(1, "Cai", 12_000, 2)]),  # Dan's chain has no paid revenue
        ("Sales", [(1, "Ann", 45_000, 2), (1, "Ben", 45_000, 1)]),
        (None, [(1, "Eve", 6_000, 1)]),
    ]
    assert [(b.department, b.mine and b.mine.position) for b in found] == [("Ops", 1), ("Sales", None), (None, None)]


def test_the_share_beyond_the_top_ten_percent_keeps_ties_together(world):
    # Four ranked chains: the top group is ceil(0.4) = 1 chain, plus Ben tied with Ann.
    tail = boards.long_tail(world["festival"], world["ben"])
    assert (tail.revenue, tail.outside_top, tail.chains, tail.top_chains, tail.mine_in_top) == (
        108_000,
        18_000,
        4,
        2,
        True,
    )
    assert tail.share_outside == pytest.approx(18_000 / 108_000)
    assert boards.long_tail(world["festival"], world["eve"]).mine_in_top is False
    assert boards.long_tail(world["festival"], world["dan"]).mine_in_top is None


def test_the_top_ten_percent_is_rounded_up(make_user, make_festival):
    festival = make_festival()
    employees = [make_user() for _ in range(25)]
    for n, employee in enumerate(employees, start=1):
        order(employee, n * 100, festival=festival)
    tail = boards.long_tail(festival, employees[0])
    # ceil(25 / 10) = 3 chains: 2,500 + 2,400 + 2,300 of 100 x (1 + ... + 25) = 32,500.
    assert (tail.revenue, tail.top_chains, tail.outside_top, tail.mine_in_top) == (32_500, 3, 25_300, False)
    few = make_festival(name="Small Fair")
    for amount, employee in zip((5_000, 3_000, 2_000), employees, strict=False):
        order(employee, amount, festival=few)
    tail = boards.long_tail(few, employees[0])
    assert (tail.top_chains, tail.outside_top, tail.revenue, tail.mine_in_top) == (1, 5_000, 10_000, True)


def test_an_empty_festival_has_empty_boards(make_festival, employee):
    festival = make_festival()
    assert boards.top_chains(festival, employee).leaders == [] and boards.department_boards(festival, employee) == []
    tail = boards.long_tail(festival, employee)
    assert (tail.revenue, tail.chains, tail.share_outside, tail.mine_in_top) == (0, 0, None, None)


def test_the_page_shows_every_board_and_the_viewers_own_rank(client, world):
    html = (
        login(client, world["cai_friend"])
        .get(f"/festivals/{world['festival'].slug}/leaderboards")
        .get_data(as_text=True)
    )
    assert "Leaderboards of Spring Festival" in html
    assert html.count("Your chain: rank 3, CN¥120.00.") == 1  # top chains
    assert "Your chain: rank 2, CN¥120.00." in html  # newcomers
    assert html.count("Your chain: rank 1, CN¥120.00.") == 1  # the Ops board
    assert "16.7% of the revenue came from chains outside the top 10%: CN¥180.00 of CN¥1,080.00." in html
    assert "The top 10% is 2 chains of 4." in html
    assert "Your chain is one of the many beyond the top 10%" in html
    html = login(client, world["dan"]).get(f"/festivals/{world['festival'].slug}/leaderboards").get_data(as_text=True)
    assert html.count("Your chain: not ranked yet.") == 1 + 1 + 3 + 1  # top, newcomers, three departments, tail


def test_unknown_and_draft_festivals_are_not_found_except_drafts_for_operators(
    client, employee, operator, make_festival
):
    draft = make_festival(phase=Phase.draft, name="Secret Sale")
    login(client, employee)
    assert client.get("/festivals/nothing/leaderboards").status_code == 404
    assert client.get(f"/festivals/{draft.slug}/leaderboards").status_code == 404
    assert login(client, operator).get(f"/festivals/{draft.slug}/leaderboards").status_code == 200
