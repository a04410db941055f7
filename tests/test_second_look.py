"""Found walking the members' journeys on a phone: a password refused beside the e-mail, a
used reset link that let the user type a new password before saying so, pages of a refused
form whose address answered 405 when reopened, and vote buttons on one's own question."""

from __future__ import annotations

from shop.accounts import tokens
from shop.extensions import db
from tests.conftest import PASSWORD, login


def _field_errors(html: str, field: str) -> str:
    """The field's own block of the form (its label, input and errors)."""
    return next(block for block in html.split('<div class="field') if f'name="{field}"' in block)


def test_a_weak_password_at_sign_up_is_said_beside_the_password(client, app):
    domain = app.config["COMPANY_EMAIL_DOMAINS"][0]
    response = client.post_form(
        "/signup",
        {"email": f"new.person@{domain}", "name": "New Person", "password": "12345678", "confirm": "12345678"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "too easy to guess" in _field_errors(html, "password")
    assert "too easy to guess" not in _field_errors(html, "email")


def test_a_used_reset_link_says_so_when_opened(client, employee):
    token = tokens.make_token(employee, tokens.RESET)
    assert client.get(f"/reset/{token}").status_code == 200
    employee.set_password("a brand new passphrase 42")
    db.session.commit()
    response = client.get(f"/reset/{token}", follow_redirects=True)
    assert "This reset link is invalid, used or expired." in response.get_data(as_text=True)
    assert response.request.path == "/reset"  # asked for a new link, no password typed in vain


def test_a_weak_password_on_the_reset_page_keeps_the_page(client, employee):
    token = tokens.make_token(employee, tokens.RESET)
    response = client.post_form(
        f"/reset/{token}", {"password": "12345678", "confirm": "12345678"}, token_from=f"/reset/{token}"
    )
    assert response.status_code == 422 and "too easy to guess" in response.get_data(as_text=True)
    db.session.refresh(employee)
    assert employee.check_password(PASSWORD)  # nothing changed; the link still works
    assert client.get(f"/reset/{token}").status_code == 200


def test_a_refused_forms_address_reopened_goes_to_its_page(
    client, employee, make_festival, make_festival_item, product, make_user
):
    festival = make_festival()
    item = make_festival_item(festival, product.variants[0], 5)
    login(client, employee)
    buy = client.get(f"/festivals/{festival.slug}/items/{item.id}/buy")
    assert buy.status_code == 302 and buy.headers["Location"] == f"/festivals/{festival.slug}"
    password = client.get("/account/password")
    assert password.status_code == 302 and password.headers["Location"] == "/account"


def test_nobody_is_offered_a_vote_on_their_own_question(client, employee, make_user):
    from community.services import questions

    mine = questions.ask_question(employee, title="Where is my parcel?", body_md="It left three days ago.")
    db.session.commit()
    login(client, employee)
    html = client.get(f"/community/questions/{mine.id}").get_data(as_text=True)
    assert "Vote up" not in html
    answer = client.get(f"/community/questions/{mine.id}/answers")
    assert answer.status_code == 302 and answer.headers["Location"] == f"/community/questions/{mine.id}"
    other = make_user(name="Another Reader")
    client.post_form("/logout")
    login(client, other)
    assert "Vote up" in client.get(f"/community/questions/{mine.id}").get_data(as_text=True)
