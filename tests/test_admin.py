"""Admins: the people list, roles, deactivation and reactivation (all audited), the audit log,
and `flask shop create-admin`."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from shop.accounts import services
from shop.accounts.models import Kind, Role, User
from shop.audit.models import AuditEntry
from shop.extensions import db
from tests.conftest import PASSWORD, login

NEW_PASSWORD = "admin password 99"


# --- helpers ---------------------------------------------------------------------------------


def flashes(response) -> list[tuple[str, str]]:
    found = re.findall(r'<p class="flash (\w+)" role="status">(.*?)</p>', response.get_data(as_text=True))
    return [(category, html.unescape(text)) for category, text in found]


def audit(action: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return db.session.scalars(query).all()


def fresh(user: User) -> User:
    """The user as committed: what a request did not commit is rolled back, as at its end."""
    db.session.rollback()
    return db.session.get(User, user.id)


def post_user_form(client, user_id: int, action: str, data: dict, **kwargs):
    """Post the form as the user page renders it (the activation form says which state it asks for)."""
    if action == "active" and "active" not in data:
        page = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
        match = re.search(r'name="active" type="hidden" value="([01])"', page)
        data = {**data, "active": match.group(1) if match else ""}
    return client.post_form(f"/admin/users/{user_id}/{action}", data, token_from=f"/admin/users/{user_id}", **kwargs)


def create_admin(app, *args: str, **kwargs):
    db.session.rollback()  # end the test's own transaction, so it sees what the command commits
    result = app.test_cli_runner().invoke(args=["shop", "create-admin", *args], **kwargs)
    db.session.rollback()
    return result


# --- people --------------------------------------------------------------------------------------


def test_people_list_and_search(client, admin, make_user):
    make_user(name="Zhang Wei", email="zhang@neigou.example", employee_no="E042")
    make_user(name="Li Na", email="li.na@neigou.example")
    login(client, admin)
    everyone = client.get("/admin/users").get_data(as_text=True)
    assert "Zhang Wei" in everyone and "Li Na" in everyone and "Adam Admin" in everyone

    by_number = client.get("/admin/users?q=e042").get_data(as_text=True)
    assert "Zhang Wei" in by_number and "Li Na" not in by_number
    by_address = client.get("/admin/users?q=LI.NA@").get_data(as_text=True)
    assert "Li Na" in by_address and "Zhang Wei" not in by_address
    by_name = client.get("/admin/users?q=wei").get_data(as_text=True)
    assert "Zhang Wei" in by_name and "Li Na" not in by_name


def test_person_page_shows_who_they_are(client, admin, make_user, department):
    person = make_user(
        name="Zhang Wei", email="zhang@neigou.example", department=department, role=Role.sales, verified=False
    )
    login(client, admin)
    response = client.get(f"/admin/users/{person.id}")
    assert response.status_code == 200
    text = html.unescape(response.get_data(as_text=True))
    assert "Zhang Wei" in text and "zhang@neigou.example (not confirmed)" in text and "Engineering" in text
    assert re.search(r'<option selected value="sales">|<option value="sales" selected>', text)


# --- roles ---------------------------------------------------------------------------------------


def test_admin_grants_a_role_through_the_form_and_it_is_audited(app, client, admin, employee):
    login(client, admin)
    response = post_user_form(client, employee.id, "role", {"role": "operator"}, follow_redirects=True)
    assert response.request.path == f"/admin/users/{employee.id}"
    assert ("success", "Role changed.") in flashes(response)
    assert fresh(employee).role == Role.operator
    [entry] = audit("user.role")
    assert (entry.entity_type, entry.entity_id, entry.actor_id) == ("User", employee.id, admin.id)
    assert (entry.before, entry.after) == ({"role": "member"}, {"role": "operator"})

    # The new operator can open the operators' area now.
    operator_client = app.test_client()
    login(operator_client, employee)
    assert operator_client.get("/ops/").status_code == 200

    # Choosing the role they already have records nothing more.
    post_user_form(client, employee.id, "role", {"role": "operator"})
    assert len(audit("user.role")) == 1


@pytest.mark.parametrize("role", [Role.operator, Role.sales, Role.admin, Role.member])
def test_every_role_can_be_granted_to_an_employee(admin, make_user, role):
    person = make_user(role=Role.sales if role == Role.member else Role.member)
    before = person.role
    services.set_role(admin, person, role)
    db.session.commit()
    assert fresh(person).role == role
    [entry] = audit("user.role")
    assert (entry.before, entry.after, entry.actor_id) == ({"role": before.value}, {"role": role.value}, admin.id)


def test_an_admin_cannot_take_away_their_own_admin_role(client, admin):
    login(client, admin)
    response = post_user_form(client, admin.id, "role", {"role": "member"}, follow_redirects=True)
    assert ("error", "You cannot take away your own admin role.") in flashes(response)
    assert fresh(admin).role == Role.admin
    assert audit() == []


@pytest.mark.parametrize("role", [Role.operator, Role.sales, Role.admin])
def test_contacts_cannot_get_staff_roles(admin, make_user, employee, role):
    contact = make_user(kind=Kind.contact, level=1, referrer_id=employee.id, root_employee_id=employee.id)
    with pytest.raises(services.AccountError, match="Only employees"):
        services.set_role(admin, contact, role)
    assert fresh(contact).role == Role.member
    assert audit() == []


def test_contact_staff_role_refused_through_the_page(client, admin, make_user, employee):
    contact = make_user(kind=Kind.contact, level=1, referrer_id=employee.id, root_employee_id=employee.id)
    login(client, admin)
    response = post_user_form(client, contact.id, "role", {"role": "sales"}, follow_redirects=True)
    assert ("error", "Only employees can be operators, sales reps or admins.") in flashes(response)
    assert fresh(contact).role == Role.member


def test_an_unknown_role_changes_nothing(client, admin, employee):
    login(client, admin)
    response = post_user_form(client, employee.id, "role", {"role": "superuser"})
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert fresh(employee).role == Role.member
    assert audit() == []


@pytest.mark.parametrize(("action", "data"), [("role", {"role": "superuser"}), ("active", {"reason": ""})])
def test_invalid_admin_forms_rerender_with_field_errors_and_422(client, admin, employee, action, data):
    login(client, admin)
    response = post_user_form(client, employee.id, action, data)
    assert response.status_code == 422
    assert '<p class="error">' in response.get_data(as_text=True)


# --- deactivation ----------------------------------------------------------------------------


def test_admin_deactivates_a_leaver_who_is_locked_out_at_once_then_reactivates(app, client, admin, employee):
    employee_client = app.test_client()
    login(employee_client, employee)
    assert employee_client.get("/orders").status_code == 200

    login(client, admin)
    response = post_user_form(client, employee.id, "active", {"reason": "left the company"}, follow_redirects=True)
    assert ("success", "Saved.") in flashes(response)
    assert "deactivated" in response.get_data(as_text=True)
    leaver = fresh(employee)
    assert not leaver.is_active and leaver.deactivated_at is not None
    [entry] = audit("user.deactivate")
    assert (entry.entity_id, entry.actor_id, entry.reason) == (employee.id, admin.id, "left the company")
    assert (entry.before, entry.after) == ({"active": True}, {"active": False})

    # Their open session stops working, and the log-in form refuses them.
    response = employee_client.get("/orders")
    assert response.status_code == 302 and response.location.startswith("/login")
    refused = employee_client.post_form("/login", {"email": employee.email, "password": PASSWORD}, token_from="/login")
    assert refused.status_code == 422 and "This account has been deactivated" in refused.get_data(as_text=True)

    post_user_form(client, employee.id, "active", {"reason": "came back"})
    back = fresh(employee)
    assert back.is_active and back.deactivated_at is None
    [entry] = audit("user.reactivate")
    assert (entry.actor_id, entry.reason, entry.after) == (admin.id, "came back", {"active": True})


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_deactivation_needs_a_reason_of_at_most_500_characters(client, admin, employee, reason):
    login(client, admin)
    response = post_user_form(client, employee.id, "active", {"reason": reason})
    assert response.status_code == 422
    assert '<p class="error">' in response.get_data(as_text=True)
    assert fresh(employee).is_active
    assert audit() == []


def test_an_admin_cannot_deactivate_themselves(client, admin):
    login(client, admin)
    response = post_user_form(client, admin.id, "active", {"reason": "oops"}, follow_redirects=True)
    assert ("error", "You cannot deactivate yourself.") in flashes(response)
    assert fresh(admin).is_active
    assert audit() == []


def test_deactivating_twice_leaves_the_person_deactivated(client, admin, employee):
    login(client, admin)
    token_page = client.get(f"/admin/users/{employee.id}").get_data(as_text=True)
    assert "Deactivate" in token_page
    post_user_form(client, employee.id, "active", {"reason": "left the company", "active": "0"})
    post_user_form(client, employee.id, "active", {"reason": "left the company", "active": "0"})  # submitted again
    assert not fresh(employee).is_active


def test_deactivate_service_is_idempotent_and_audits_once(admin, employee):
    services.deactivate(admin, employee, "left")
    services.deactivate(admin, employee, "left")
    db.session.commit()
    assert not fresh(employee).is_active
    assert len(audit("user.deactivate")) == 1


def test_a_deactivated_admin_loses_the_admin_pages(client, admin, make_user):
    other_admin = make_user(role=Role.admin)
    login(client, admin)
    assert client.get("/admin/users").status_code == 200
    services.deactivate(other_admin, admin, "left")
    db.session.commit()
    response = client.get("/admin/users")
    assert response.status_code == 302 and response.location.startswith("/login")


# --- bad requests ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/users/999999", "/admin/users/abc", "/admin/users/-1"])
def test_unknown_people_are_not_found(client, admin, path):
    login(client, admin)
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(("action", "data"), [("role", {"role": "operator"}), ("active", {"reason": "left"})])
def test_posts_about_an_unknown_person_are_not_found_and_write_nothing(client, admin, employee, action, data):
    login(client, admin)
    token = client.csrf_token(f"/admin/users/{employee.id}")
    response = client.post(f"/admin/users/{employee.id + 1000}/{action}", data={"csrf_token": token, **data})
    assert response.status_code == 404
    assert audit() == []
    assert fresh(employee).role == Role.member and fresh(employee).is_active


@pytest.mark.parametrize(("action", "data"), [("role", {"role": "admin"}), ("active", {"reason": "left"})])
def test_admin_posts_without_a_csrf_token_are_refused(client, admin, employee, action, data):
    login(client, admin)
    response = client.post(f"/admin/users/{employee.id}/{action}", data=data)
    assert response.status_code == 400
    assert fresh(employee).role == Role.member and fresh(employee).is_active
    assert audit() == []


@pytest.mark.parametrize("role", [Role.member, Role.operator, Role.sales])
def test_non_admins_cannot_change_roles_or_deactivate(client, make_user, employee, role):
    someone = make_user(role=role)
    login(client, someone)
    token = client.csrf_token("/")
    assert client.get("/admin/users").status_code == 403
    assert client.get(f"/admin/users/{employee.id}").status_code == 403
    assert (
        client.post(f"/admin/users/{someone.id}/role", data={"csrf_token": token, "role": "admin"}).status_code == 403
    )
    assert (
        client.post(f"/admin/users/{employee.id}/active", data={"csrf_token": token, "reason": "x"}).status_code == 403
    )
    assert fresh(someone).role == role and fresh(employee).is_active
    assert audit() == []


def test_anonymous_visitors_are_sent_to_log_in(client, employee):
    for path in ("/admin/users", f"/admin/users/{employee.id}", "/admin/roster", "/admin/audit"):
        response = client.get(path)
        assert response.status_code == 302 and response.location.startswith("/login?next=")


# --- the audit log page -------------------------------------------------------------------------


def test_audit_log_lists_newest_first_and_filters_by_action(client, admin, make_user):
    first, second = make_user(name="First Leaver"), make_user(name="Second Person")
    services.deactivate(admin, first, "left in May")
    services.set_role(admin, second, Role.sales)
    db.session.commit()
    login(client, admin)
    text = html.unescape(client.get("/admin/audit").get_data(as_text=True))
    assert text.index("user.role") < text.index("user.deactivate")  # newest first
    assert "left in May" in text and "adam@neigou.example" in text

    only_roles = client.get("/admin/audit?action=user.role").get_data(as_text=True)
    assert "user.role" in only_roles and "user.deactivate" not in only_roles
    nothing = client.get("/admin/audit?action=user.%25").get_data(as_text=True)  # % is literal
    assert "user.role" not in nothing and "user.deactivate" not in nothing


# --- flask shop create-admin -----------------------------------------------------------------------


def test_create_admin_makes_a_confirmed_admin_and_audits_it(app):
    result = create_admin(app, "--email", "Root@NEIGOU.example", "--name", "Root", "--password", NEW_PASSWORD)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Admin ready: root@neigou.example"
    root = db.session.scalar(select(User))
    assert (root.email, root.name, root.role, root.kind, root.level) == (
        "root@neigou.example",
        "Root",
        Role.admin,
        Kind.employee,
        0,
    )
    assert root.is_active and root.email_verified_at is not None
    assert root.password_hash.startswith("scrypt:") and root.check_password(NEW_PASSWORD)
    [entry] = audit("user.role")
    assert (entry.entity_id, entry.actor_id, entry.after, entry.reason) == (
        root.id,
        None,
        {"role": "admin"},
        "create-admin",
    )


def test_create_admin_asks_for_the_password_twice(app):
    result = create_admin(
        app, "--email", "root@neigou.example", "--name", "Root", input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert NEW_PASSWORD not in result.output  # hidden input
    assert db.session.scalar(select(User.role)) == Role.admin


def test_create_admin_promotes_an_existing_account(app, employee):
    result = create_admin(app, "--email", "erin@neigou.example", "--name", "ignored", "--password", NEW_PASSWORD)
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(User.id))) == 1
    erin = fresh(employee)
    assert erin.role == Role.admin and erin.name == "Erin Employee"
    assert services.authenticate("erin@neigou.example", NEW_PASSWORD).id == employee.id


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", NEW_PASSWORD, "This is not a valid e-mail address."),
        ("root@neigou.example", "short", "A password has 8 to 128 characters."),
        ("root@neigou.example", "x" * 129, "A password has 8 to 128 characters."),
    ],
)
def test_create_admin_refuses_bad_input_and_writes_nothing(app, email, password, message):
    result = create_admin(app, "--email", email, "--name", "Root", "--password", password)
    assert result.exit_code == 1
    assert f"Error: {message}" in result.stderr
    assert db.session.scalar(select(func.count(User.id))) == 0
    assert audit() == []


def test_create_admin_refuses_to_make_a_contact_an_admin(app, make_user, employee):
    contact = make_user(
        kind=Kind.contact, level=1, email="pal@friends.example", referrer_id=employee.id, root_employee_id=employee.id
    )
    result = create_admin(app, "--email", "pal@friends.example", "--name", "Pal", "--password", NEW_PASSWORD)
    assert result.exit_code == 1
    assert fresh(contact).role == Role.member


def test_create_admin_on_a_deactivated_account_reactivates_it_properly(app, make_user, admin):
    leaver = make_user(email="back@neigou.example")
    services.deactivate(admin, leaver, "left")
    db.session.commit()
    result = create_admin(app, "--email", "back@neigou.example", "--name", "Back", "--password", NEW_PASSWORD)
    assert result.exit_code == 0
    back = fresh(leaver)
    assert back.is_active and back.role == Role.admin
    assert back.deactivated_at is None
    assert len(audit("user.reactivate")) == 1
