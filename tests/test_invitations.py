"""People: a roster import is audited (who, when, counts, the file's digest), each newly imported
employee is invited by e-mail with a link that sets their password once, an admin re-sends an
invitation in one click, and admins see when a person last logged in."""

from __future__ import annotations

import hashlib
from email import message_from_string
from email.policy import default as default_policy

from sqlalchemy import select

from shop.accounts import services
from shop.accounts.models import User
from shop.audit.models import AuditEntry
from shop.extensions import db
from tests.conftest import PASSWORD, link_in, login, outbox, upload_roster

NEW_PASSWORD = "a brand new secret 7"


def invitations(app) -> dict[str, str]:
    """The invitation mails in the outbox: recipient -> body."""
    found = {}
    for raw in outbox(app):
        message = message_from_string(raw, policy=default_policy)
        if "internal shop" in message["Subject"]:
            found.setdefault(message["To"], [])
            found[message["To"]].append(message.get_content())
    return found


def audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_each_new_employee_is_invited_once_and_the_link_sets_a_password_once(app, client, admin, make_user):
    make_user(name="Old Hand", email="old@neigou.example", employee_no="E000")  # has a password already
    roster = (
        "employee_no,email,name,department\n"
        "E000,old@neigou.example,Old Hand,Sales\n"
        "E001,ann@neigou.example,Ann Li,Sales\n"
        "E002,bo@neigou.example,Bo Wu,\n"
        "E003,bad-address,Cy Ma,\n"
    ).encode("utf-8-sig")
    login(client, admin)
    page = upload_roster(client, roster).get_data(as_text=True)
    assert "invited" in page
    sent = invitations(app)
    assert sorted(sent) == ["ann@neigou.example", "bo@neigou.example"]
    assert all(len(bodies) == 1 for bodies in sent.values())

    [imported] = audit("roster.import")
    assert imported.actor_id == admin.id
    assert imported.after["sha256"] == hashlib.sha256(roster).hexdigest()
    assert (imported.after["created"], imported.after["updated"], imported.after["rejected"]) == (2, 1, 1)
    assert imported.after["to_invite"] == 2 and imported.after["file"] == "roster.csv"
    assert len(audit("user.invite")) == 2

    again = upload_roster(client, roster)  # the same file again: nobody new, nobody invited
    assert again.status_code == 200
    assert sum(len(bodies) for bodies in invitations(app).values()) == 2
    assert [entry.after["created"] for entry in audit("roster.import")] == [2, 0]

    client.post_form("/logout", token_from="/")
    [body] = sent["ann@neigou.example"]
    path = link_in(body, "/welcome/")
    assert client.get(path).status_code == 200
    done = client.post_form(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, token_from=path)
    assert done.status_code == 302 and done.location.startswith("/login")
    assert services.authenticate("ann@neigou.example", NEW_PASSWORD).employee_no == "E001"

    reused = client.get(path, follow_redirects=True)  # said when opened, before a password is typed
    assert "This invitation link is invalid, used or expired." in reused.get_data(as_text=True)
    assert services.authenticate("ann@neigou.example", NEW_PASSWORD)  # unchanged
    assert len(audit("user.invitation_accepted")) == 1


def test_the_cli_import_invites_too(app, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("employee_no,email,name,department\nE009,dee@neigou.example,Dee Du,\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["shop", "import-employees", str(path)])
    assert result.exit_code == 0, result.output
    assert "invited 1" in result.output
    [body] = invitations(app)["dee@neigou.example"]
    assert app.config["PUBLIC_URL"] + "/welcome/" in body  # on PUBLIC_URL: no request to take the host from
    [imported] = audit("roster.import")
    assert imported.actor_id is None and imported.after["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_admin_resends_an_invitation_in_one_click(app, client, admin, make_user):
    newcomer = make_user(name="New Comer", email="new@neigou.example")
    newcomer.password_hash = None  # imported, never logged in
    db.session.commit()
    login(client, admin)
    page = client.get(f"/admin/users/{newcomer.id}").get_data(as_text=True)
    assert "Send the invitation again" in page
    response = client.post_form(f"/admin/users/{newcomer.id}/invite", token_from=f"/admin/users/{newcomer.id}")
    assert response.status_code == 302
    assert len(invitations(app)["new@neigou.example"]) == 1
    assert [e.action for e in audit("user.invite_again")] == ["user.invite_again"]

    with_password = make_user(name="Has One", email="has@neigou.example")
    assert "Send the invitation again" not in client.get(f"/admin/users/{with_password.id}").get_data(as_text=True)
    refused = client.post_form(
        f"/admin/users/{with_password.id}/invite", token_from=f"/admin/users/{with_password.id}", follow_redirects=True
    )
    assert "Only an active employee without a password can be invited" in refused.get_data(as_text=True)
    assert "has@neigou.example" not in invitations(app)


def test_admins_see_when_people_last_logged_in(client, admin, employee):
    assert employee.last_login_at is None
    response = client.post_form("/login", {"email": employee.email, "password": PASSWORD})
    assert response.status_code == 302
    db.session.expire_all()
    seen = db.session.get(User, employee.id).last_login_at
    assert seen is not None
    client.post_form("/logout", token_from="/")
    login(client, admin)
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "Last log-in" in listing and "never" in listing  # the admin's own row (logged in by the helper)
    assert "Last log-in" in client.get(f"/admin/users/{employee.id}").get_data(as_text=True)
