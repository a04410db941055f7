"""POST /festivals/<slug>/items/<item_id>/buy: 303 to the order, 409 with the refusal, 422 for an
invalid form, 404 for what is not there or not the buyer's."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select

from shop.catalog.festival_models import FestivalItem, Phase
from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from tests.conftest import CSRF_RE, login


def _url(item) -> str:
    return f"/festivals/{item.festival.slug}/items/{item.id}/buy"


def test_buying_now_places_a_pending_order_at_the_festival_price(
    client, make_festival, make_festival_item, product, employee, make_address
):
    item = make_festival_item(make_festival(), product.variants[0], 5, per_buyer_limit=2)
    address = make_address(employee)
    login(client, employee)
    response = client.post_form(_url(item), {"quantity": "2", "address_id": str(address.id)})
    order = db.session.scalar(select(Order).where(Order.buyer_id == employee.id))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/orders/{order.id}")
    assert (order.status, order.total_amount, order.festival_id) == (
        OrderStatus.pending_payment,
        10_000,
        item.festival_id,
    )
    assert db.session.get(FestivalItem, item.id).sold == 2

    refused = client.post_form(_url(item), {"quantity": "1", "address_id": str(address.id)})
    assert refused.status_code == 409
    assert "0 units left for you" in refused.get_data(as_text=True)
    assert db.session.get(FestivalItem, item.id).sold == 2
    # The refusal shows the purchase to try again, with a CSRF token that is accepted (400 without).
    buy_form = refused.get_data(as_text=True).split('class="buy-now"', 1)[1].split("</form>", 1)[0]
    shown = CSRF_RE.search(buy_form)
    again = client.post(
        _url(item),
        data={"quantity": "1", "address_id": str(address.id), "csrf_token": shown.group(1) or shown.group(2)},
    )
    assert again.status_code == 409


def test_sold_out_and_not_yet_selling_are_refused_with_409(
    client, make_festival, make_festival_item, product, employee, make_address
):
    selling = make_festival_item(make_festival(name="Now"), product.variants[0], 1)
    later = make_festival_item(make_festival(phase=Phase.preheat, name="Soon"), product.variants[0], 1)
    address_id = str(make_address(employee).id)
    login(client, employee)
    sold_out = client.post_form(_url(selling), {"quantity": "2", "address_id": address_id})
    assert sold_out.status_code == 409 and "Not enough stock" in sold_out.get_data(as_text=True)
    early = client.post_form(_url(later), {"quantity": "1", "address_id": address_id})
    assert early.status_code == 409 and "is not selling now" in early.get_data(as_text=True)
    assert db.session.scalar(select(Order.id)) is None


def test_invalid_forms_and_other_peoples_things(
    client, make_festival, make_festival_item, product, employee, make_user, make_address
):
    item = make_festival_item(make_festival(), product.variants[0], 5)
    other = make_festival_item(make_festival(name="Other Fair"), product.variants[0], 1)
    mine, theirs = make_address(employee).id, make_address(make_user()).id
    login(client, employee)
    assert client.post_form(_url(item), {"quantity": "0", "address_id": str(mine)}).status_code == 422
    assert client.post_form(_url(item), {"quantity": "two", "address_id": str(mine)}).status_code == 422
    assert client.post_form(_url(item), {"quantity": "1"}).status_code == 422
    assert client.post(_url(item), data={"quantity": "1", "address_id": str(mine)}).status_code == 400  # no CSRF token
    assert client.post_form(_url(item), {"quantity": "1", "address_id": str(theirs)}).status_code == 404
    wrong_festival = f"/festivals/{item.festival.slug}/items/{other.id}/buy"
    assert client.post_form(wrong_festival, {"quantity": "1", "address_id": str(mine)}).status_code == 404
    assert (
        client.post_form(
            f"/festivals/no-such/items/{item.id}/buy", {"quantity": "1", "address_id": str(mine)}
        ).status_code
        == 404
    )
    assert db.session.scalar(select(Order.id)) is None


def test_an_invalid_form_is_shown_again_with_its_errors_and_a_token_to_send_it_with(
    client, make_festival, make_festival_item, product, employee, make_address
):
    # The post's form does not sign a CSRF token of its own (CSRFProtect checked the one sent);
    # the page that shows the form again must still carry one that works.
    item = make_festival_item(make_festival(), product.variants[0], 5)
    address = make_address(employee)
    login(client, employee)
    invalid = client.post_form(_url(item), {"quantity": "0", "address_id": str(address.id)})
    html = invalid.get_data(as_text=True)
    assert invalid.status_code == 422 and "Choose from 1 to 1,000 units." in html
    token = CSRF_RE.search(html.split('class="buy-now"', 1)[1].split("</form>", 1)[0])  # the buy form's own
    again = client.post(
        _url(item),
        data={"quantity": "1", "address_id": str(address.id), "csrf_token": token.group(1) or token.group(2)},
    )
    assert again.status_code == 303
    assert db.session.scalar(select(Order.festival_id).where(Order.buyer_id == employee.id)) == item.festival_id


def test_a_refusal_is_worded_from_what_placing_read_and_an_order_is_not_read_again(
    client, make_festival, make_festival_item, product, employee, make_address
):
    """After the rules and the use are read, a refused buy now asks the database nothing more:
    its page names the rule, the item and the address from the rows the transaction read
    (rendered before the rollback, which would expire them). A placed order's redirect needs
    no read after the commit."""
    item = make_festival_item(make_festival(), product.variants[0], 5, per_buyer_limit=1)
    address = make_address(employee)
    login(client, employee)
    token = client.csrf_token("/")
    form = {"quantity": "1", "address_id": str(address.id), "csrf_token": token}
    with statements() as placed:
        assert client.post(_url(item), data=form).status_code == 303
    with statements() as refused:
        response = client.post(_url(item), data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "0 units left for you" in html and address.line1 in html
    assert placed[-1].startswith("INSERT INTO audit_entries")
    # The rules, their exceptions and the use: the last read of the refused transaction. After
    # its rollback only the refusal's count is written (kpis, in a transaction of its own); the
    # page read nothing again: not the user, the address, the item or the festival.
    last_read = next(index for index, sent in enumerate(refused) if "rule_use" in sent)
    read_again = ("users.password_hash", "FROM addresses", "FROM festival_items", "FROM festivals")
    assert not [sent for sent in refused[last_read + 1 :] if any(name in sent for name in read_again)]


@contextmanager
def statements():
    """The SELECT, INSERT and UPDATE statements sent meanwhile, in order."""
    sent: list[str] = []

    def note(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("SELECT", "WITH", "INSERT", "UPDATE")):
            sent.append(statement.lstrip())

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
