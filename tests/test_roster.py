"""HR roster import: `flask shop import-employees`, the rules in shop.accounts.roster, and the
same import through the admins' upload page (/admin/roster)."""

from __future__ import annotations

import html
import io
import re
from email import message_from_string

import pytest
from sqlalchemy import func, select

from shop.accounts import roster, services
from shop.accounts.models import Department, Kind, Role, User
from shop.audit.models import AuditEntry
from shop.extensions import db
from tests.conftest import PASSWORD, link_in, login, outbox, upload_roster

HEADER = "employee_no,email,name,department"


# --- helpers ---------------------------------------------------------------------------------


def write_roster(tmp_path, lines: list[str], *, name: str = "roster.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def run_import(app, path, *options: str):
    db.session.rollback()  # end the test's own transaction, so it sees what the command commits
    result = app.test_cli_runner().invoke(args=["shop", "import-employees", str(path), *options])
    db.session.rollback()
    return result


def summary(result) -> str:
    return result.stdout.splitlines()[0]


def rejected_lines(result) -> list[str]:
    return [line.strip() for line in result.stdout.splitlines()[1:]]


def employees_by_no() -> dict[str, User]:
    return {u.employee_no: u for u in db.session.scalars(select(User).where(User.employee_no.is_not(None)))}


def department_names() -> list[str]:
    return sorted(db.session.scalars(select(Department.name)))


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def audit(action: str) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


def row(employee_no: str, email: str, name: str, department: str = "") -> dict[str, str]:
    return {"employee_no": employee_no, "email": email, "name": name, "department": department}


# --- the command ----------------------------------------------------------------------------------


def test_import_creates_confirmed_employees_in_real_departments(app, tmp_path):
    path = write_roster(
        tmp_path,
        [
            HEADER,
            "E001,Ann.Li@NEIGOU.example,Ann Li,Engineering",
            "E002,bo@neigou.example,Bo Wu,Sales",
            'E003,cy@neigou.example,"Ma, Cy",Engineering',
            "E004, di@neigou.example ,Di Xu,",
        ],
    )
    result = run_import(app, path)
    assert result.exit_code == 0, result.output
    assert summary(result) == "created 4, updated 0, unchanged 0, reactivated 0, deactivated 0, rejected 0, invited 4"
    assert rejected_lines(result) == []
    assert "Importing employees" in result.stderr  # the progress bar (its label off a terminal)

    people = employees_by_no()
    assert sorted(people) == ["E001", "E002", "E003", "E004"]
    assert (people["E001"].email, people["E001"].name) == ("ann.li@neigou.example", "Ann Li")
    assert (people["E003"].name, people["E004"].email) == ("Ma, Cy", "di@neigou.example")
    for person in people.values():
        assert (person.kind, person.level, person.role) == (Kind.employee, 0, Role.member)
        assert person.is_active and person.email_verified_at is not None
        assert person.password_hash is None  # they set one through the invitation's link
    assert department_names() == ["Engineering", "Sales"]
    assert (
        people["E001"].department_id
        == people["E003"].department_id
        == db.session.scalar(select(Department.id).where(Department.name == "Engineering"))
    )
    assert people["E002"].department.name == "Sales"
    assert people["E004"].department is None


def test_rejected_rows_are_reported_with_reasons_and_the_rest_is_imported(app, tmp_path):
    path = write_roster(
        tmp_path,
        [
            HEADER,
            "E001,ann@neigou.example,Ann Li,Engineering",  # line 2: fine
            "E002,not-an-email,Bo Wu,Sales",  # line 3
            "E003,cy@gmail.com,Cy Ma,Sales",  # line 4
            "E001,other@neigou.example,Someone,Sales",  # line 5: employee_no seen on line 2
            "E005,ANN@neigou.example,Ann Again,Sales",  # line 6: e-mail seen on line 2 (any case)
            "E006,,Fay Fu,Sales",  # line 7
            "E007,gus@neigou.example,,Sales",  # line 8
            "E008,hu@neigou.example,Hu Yi,Support",  # line 9: fine
        ],
    )
    result = run_import(app, path)
    assert result.exit_code == 0, result.output
    assert summary(result) == "created 2, updated 0, unchanged 0, reactivated 0, deactivated 0, rejected 6, invited 2"
    assert rejected_lines(result) == [
        "line 3: not-an-email: bad e-mail",
        "line 4: cy@gmail.com: e-mail domain is not a company domain",
        "line 5: E001: duplicate in this file",
        "line 6: E005: duplicate in this file",
        "line 7: E006: missing employee_no, email or name",
        "line 8: E007: missing employee_no, email or name",
    ]
    people = employees_by_no()
    assert sorted(people) == ["E001", "E008"]
    assert people["E001"].name == "Ann Li"  # the duplicate did not overwrite the first row
    assert department_names() == ["Engineering", "Support"]  # rejected rows made no department


def test_importing_the_same_file_again_changes_nothing(app, tmp_path):
    path = write_roster(
        tmp_path,
        [
            HEADER,
            "E001,Ann@NEIGOU.example,Ann Li,Engineering",
            "E002,bo@neigou.example,Bo Wu,Sales",
            "E003,cy@neigou.example,Cy Ma,",
        ],
    )
    assert summary(run_import(app, path)).startswith("created 3,")
    ids = {no: u.id for no, u in employees_by_no().items()}
    audits_before = count(AuditEntry)

    result = run_import(app, path)
    assert result.exit_code == 0
    assert summary(result) == "created 0, updated 0, unchanged 3, reactivated 0, deactivated 0, rejected 0, invited 0"
    assert {no: u.id for no, u in employees_by_no().items()} == ids
    assert count(User) == 3 and department_names() == ["Engineering", "Sales"]
    assert count(AuditEntry) == audits_before + 1  # the import itself, and nothing else


def test_reimport_updates_changed_people_in_place_and_audits_it(app, tmp_path):
    first = write_roster(
        tmp_path, [HEADER, "E001,ann@neigou.example,Ann Li,Engineering", "E002,bo@neigou.example,Bo Wu,Sales"]
    )
    run_import(app, first)
    ann_id = employees_by_no()["E001"].id

    second = write_roster(
        tmp_path,
        [HEADER, "E001,ann.wang@neigou.example,Ann Wang,Research", "E002,bo@neigou.example,Bo Wu,Sales"],
        name="second.csv",
    )
    result = run_import(app, second)
    assert summary(result) == "created 0, updated 1, unchanged 1, reactivated 0, deactivated 0, rejected 0, invited 0"
    ann = employees_by_no()["E001"]
    assert ann.id == ann_id
    assert (ann.email, ann.name, ann.department.name) == ("ann.wang@neigou.example", "Ann Wang", "Research")
    assert department_names() == ["Engineering", "Research", "Sales"]
    [entry] = audit("user.roster_update")
    assert (entry.entity_type, entry.entity_id, entry.actor_id) == ("User", ann_id, None)
    assert entry.before == {
        "email": "ann@neigou.example",
        "name": "Ann Li",
        "employee_no": "E001",
        "department": "Engineering",
    }
    assert entry.after == {
        "email": "ann.wang@neigou.example",
        "name": "Ann Wang",
        "employee_no": "E001",
        "department": "Research",
    }


def test_import_gives_the_employee_number_to_someone_who_signed_up(app, tmp_path, employee):
    path = write_roster(tmp_path, [HEADER, "E042,erin@neigou.example,Erin Employee,Finance"])
    result = run_import(app, path)
    assert summary(result) == "created 0, updated 1, unchanged 0, reactivated 0, deactivated 0, rejected 0, invited 0"
    assert count(User) == 1
    erin = db.session.get(User, employee.id)
    assert (erin.employee_no, erin.department.name) == ("E042", "Finance")
    assert erin.password_hash is not None  # the roster leaves their password alone


def test_deactivate_missing_deactivates_only_employees_absent_from_the_file(app, tmp_path, make_user, admin, employee):
    contact = make_user(kind=Kind.contact, level=1, referrer_id=employee.id, root_employee_id=employee.id)
    full = write_roster(
        tmp_path,
        [HEADER, "E001,ann@neigou.example,Ann Li,", "E002,bo@neigou.example,Bo Wu,", "E003,cy@neigou.example,Cy Ma,"],
    )
    run_import(app, full)
    cy = employees_by_no()["E003"]
    cy.role = Role.operator
    db.session.commit()

    partial = write_roster(tmp_path, [HEADER, "E001,ann@neigou.example,Ann Li,"], name="partial.csv")
    without_flag = run_import(app, partial)
    assert (
        summary(without_flag)
        == "created 0, updated 0, unchanged 1, reactivated 0, deactivated 0, rejected 0, invited 0"
    )
    assert db.session.scalar(select(func.count(User.id)).where(User.is_active_flag.is_(False))) == 0

    result = run_import(app, partial, "--deactivate-missing")
    assert result.exit_code == 0, result.output
    assert summary(result) == "created 0, updated 0, unchanged 1, reactivated 0, deactivated 3, rejected 0, invited 0"
    inactive = set(db.session.scalars(select(User.email).where(User.is_active_flag.is_(False))))
    # Bo and Cy left; Erin signed up but is not on the HR roster. Admins and contacts stay.
    assert inactive == {"bo@neigou.example", "cy@neigou.example", "erin@neigou.example"}
    assert db.session.get(User, admin.id).is_active and db.session.get(User, contact.id).is_active
    entries = audit("user.deactivate")
    assert len(entries) == 3
    assert {e.reason for e in entries} == {"not in the HR roster"}
    assert all(e.after == {"active": False} and e.actor_id is None for e in entries)
    assert all(u.deactivated_at is not None for u in db.session.scalars(select(User).where(User.email.in_(inactive))))

    # Running it again finds nobody new to deactivate.
    assert summary(run_import(app, partial, "--deactivate-missing")).endswith("deactivated 0, rejected 0, invited 0")


def test_an_employee_back_on_the_roster_is_reactivated(app, tmp_path):
    both = write_roster(tmp_path, [HEADER, "E001,ann@neigou.example,Ann Li,", "E002,bo@neigou.example,Bo Wu,"])
    run_import(app, both)
    run_import(
        app, write_roster(tmp_path, [HEADER, "E001,ann@neigou.example,Ann Li,"], name="one.csv"), "--deactivate-missing"
    )
    assert not employees_by_no()["E002"].is_active

    result = run_import(app, both)
    assert summary(result) == "created 0, updated 0, unchanged 2, reactivated 1, deactivated 0, rejected 0, invited 0"
    bo = employees_by_no()["E002"]
    assert bo.is_active and bo.deactivated_at is None
    [entry] = audit("user.reactivate")
    assert (entry.entity_id, entry.reason) == (bo.id, "roster import")


def test_a_file_without_the_required_columns_is_refused_whole(app, tmp_path):
    path = write_roster(tmp_path, ["id,email,name", "E001,ann@neigou.example,Ann Li"])
    result = run_import(app, path)
    assert result.exit_code == 1
    assert "The roster lacks the columns: employee_no, department." in result.stderr
    assert count(User) == 0


def test_a_file_neither_utf8_nor_gb18030_is_refused(app, tmp_path):
    # Latin-1 "é" before a comma is not a GB18030 character either (b"\xe9," is no pair).
    path = write_roster(tmp_path, [HEADER, "E001,ann@neigou.example,Ann Li,Café"], encoding="latin-1")
    result = run_import(app, path)
    assert result.exit_code == 1
    assert "UTF-8" in result.stderr
    assert count(User) == 0 and count(Department) == 0


def test_a_missing_file_is_a_usage_error(app, tmp_path):
    result = run_import(app, tmp_path / "nope.csv")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_header_case_spaces_and_a_byte_order_mark_are_accepted(app, tmp_path):
    path = write_roster(
        tmp_path,
        [" Employee_No ,EMAIL, Name ,Department", "E001,ann@neigou.example,Renée Li,Ingénierie"],
        encoding="utf-8-sig",
    )
    result = run_import(app, path)
    assert summary(result).startswith("created 1,")
    ann = employees_by_no()["E001"]
    assert (ann.name, ann.department.name) == ("Renée Li", "Ingénierie")


def test_a_header_only_file_imports_nothing(app, tmp_path):
    result = run_import(app, write_roster(tmp_path, [HEADER]))
    assert result.exit_code == 0
    assert summary(result) == "created 0, updated 0, unchanged 0, reactivated 0, deactivated 0, rejected 0, invited 0"


# --- the rules, called directly -------------------------------------------------------------------


def test_addresses_of_contacts_and_of_other_accounts_are_refused(make_user, employee):
    contact = make_user(
        kind=Kind.contact, level=1, email="pal@neigou.example", referrer_id=employee.id, root_employee_id=employee.id
    )
    make_user(email="ann@neigou.example", employee_no="E001")
    report = roster.import_roster(
        [
            row("E009", "pal@neigou.example", "Pal"),  # a contact's address
            row("E001", "erin@neigou.example", "Ann Li"),  # E001 is Ann, the address is Erin's
        ],
        actor=None,
    )
    db.session.commit()
    assert report.rejected == [
        (2, "pal@neigou.example", "address belongs to a contact; verify them as staff first"),
        (3, "erin@neigou.example", "e-mail belongs to another account"),
    ]
    assert (report.created, report.updated) == (0, 0)
    assert db.session.get(User, contact.id).kind == Kind.contact
    assert db.session.get(User, employee.id).employee_no is None


def test_progress_is_reported_once_per_row_including_rejected_ones():
    steps = []
    report = roster.import_roster(
        [row("E1", "a@neigou.example", "A"), row("E2", "bad", "B"), row("E3", "c@neigou.example", "C")],
        actor=None,
        progress=steps.append,
    )
    assert steps == [1, 1, 1]
    assert (report.created, len(report.rejected), report.accepted) == (2, 1, 2)


def test_changes_made_by_an_admin_are_audited_with_the_admin_as_actor(admin, make_user):
    ann = make_user(email="ann@neigou.example", employee_no="E001", name="Ann Li", active=False)
    report = roster.import_roster([row("E001", "ann@neigou.example", "Ann Wang")], actor=admin)
    db.session.commit()
    assert (report.updated, report.reactivated) == (1, 1)
    assert [
        (e.action, e.actor_id, e.entity_id) for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    ] == [("user.reactivate", admin.id, ann.id), ("user.roster_update", admin.id, ann.id)]


def test_deactivate_missing_never_deactivates_the_admin_who_imports(admin, make_user):
    make_user(email="ann@neigou.example", employee_no="E001")
    operator = make_user(role=Role.operator, employee_no="E002")
    report = roster.import_roster([row("E001", "ann@neigou.example", "Ann Li")], actor=admin, deactivate_missing=True)
    db.session.commit()
    assert report.deactivated == 1
    assert admin.is_active and not db.session.get(User, operator.id).is_active


def test_a_rejected_row_does_not_make_its_employee_missing(make_user):
    ann = make_user(email="ann@neigou.example", employee_no="E001")
    report = roster.import_roster([row("E001", "ann@neigou.example,", "Ann Li")], actor=None, deactivate_missing=True)
    db.session.commit()
    assert len(report.rejected) == 1
    assert report.deactivated == 0
    assert db.session.get(User, ann.id).is_active


def test_overlong_values_are_rejected_rows_not_a_failed_import():
    report = roster.import_roster(
        [
            row("E" * 41, "a@neigou.example", "A"),
            row("E2", "b@neigou.example", "B" * 121),
            row("E3", "c@neigou.example", "C", "D" * 121),
            row("E4", "d@neigou.example", "Dee"),
        ],
        actor=None,
    )
    db.session.commit()
    assert [line for line, _value, _reason in report.rejected] == [2, 3, 4]
    assert report.created == 1


# --- an imported employee gets in through "forgot password" ------------------------------------


def test_an_imported_employee_sets_a_password_by_reset_and_logs_in(app, tmp_path, client):
    run_import(app, write_roster(tmp_path, [HEADER, "E001,ann@neigou.example,Ann Li,"]))
    refused = client.post_form("/login", {"email": "ann@neigou.example", "password": PASSWORD})
    assert refused.status_code == 422  # no password yet

    client.post_form("/reset", {"email": "ann@neigou.example"})
    [message] = [m for m in outbox(app) if "Reset your password" in m]  # the invitation came first
    text = message_from_string(message).get_payload(decode=True).decode()  # quoted-printable in the .eml
    reset_path = link_in(text, "/reset/")
    response = client.post_form(reset_path, {"password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 302
    response = client.post_form("/login", {"email": "ann@neigou.example", "password": PASSWORD})
    assert response.status_code == 302
    assert services.authenticate("ann@neigou.example", PASSWORD).employee_no == "E001"


# --- the upload page ------------------------------------------------------------------------------


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def test_admin_imports_through_the_upload_page_and_sees_the_report(client, admin):
    login(client, admin)
    assert client.get("/admin/roster").status_code == 200
    response = upload_roster(
        client,
        csv_bytes(
            "E001,ann@neigou.example,Ann Li,Engineering", "E002,oops,Bo Wu,Sales", "E003,cy@gmail.com,Cy Ma,Sales"
        ),
    )
    assert response.status_code == 200
    text = page_text(response)
    assert "created: <strong>1</strong>" in text and "rejected: <strong>2</strong>" in text
    assert "<td>3</td><td>oops</td><td>bad e-mail</td>" in text
    assert "<td>4</td><td>cy@gmail.com</td><td>e-mail domain is not a company domain</td>" in text
    assert sorted(employees_by_no()) == ["E001"]

    again = upload_roster(client, csv_bytes("E001,ann@neigou.example,Ann Wang,Engineering"), deactivate_missing="y")
    assert again.status_code == 200
    assert "updated: <strong>1</strong>" in page_text(again)
    assert employees_by_no()["E001"].name == "Ann Wang"
    [entry] = audit("user.roster_update")
    assert entry.actor_id == admin.id


def test_upload_with_deactivate_missing_ticked(client, admin, make_user):
    leaver = make_user(employee_no="E099")
    login(client, admin)
    response = upload_roster(client, csv_bytes("E001,ann@neigou.example,Ann Li,"), deactivate_missing="y")
    assert "deactivated: <strong>1</strong>" in page_text(response)
    assert not db.session.get(User, leaver.id).is_active
    [entry] = audit("user.deactivate")
    assert (entry.entity_id, entry.actor_id) == (leaver.id, admin.id)


def test_upload_without_the_box_ticked_deactivates_nobody(client, admin, make_user):
    stays = make_user(employee_no="E099")
    login(client, admin)
    response = upload_roster(client, csv_bytes("E001,ann@neigou.example,Ann Li,"))
    assert "deactivated: <strong>0</strong>" in page_text(response)
    assert db.session.get(User, stays.id).is_active


@pytest.mark.parametrize(
    ("content", "filename", "error"),
    [
        (
            b"id,email,name\nE001,ann@neigou.example,Ann\n",
            "roster.csv",
            "The roster lacks the columns: employee_no, department.",
        ),
        (
            (HEADER + "\nE001,ann@neigou.example,Ann Li,Caf\xe9\n").encode("latin-1"),
            "roster.csv",
            "The roster must be a CSV file encoded in UTF-8 or GB18030 (GBK), or an Excel .xlsx workbook",
        ),
        (csv_bytes("E001,ann@neigou.example,Ann Li,"), "roster.txt", "Upload a .csv or .xlsx file."),
        (b"PK\x03\x04 not really a workbook", "roster.xlsx", "The roster is not a readable Excel workbook."),
        ("\n".join([HEADER, "E001,ann@neigou.example,李安,"]).encode("utf-16"), "roster.csv", "this file is neither"),
    ],
)
def test_a_bad_upload_rerenders_with_the_error_and_writes_nothing(client, admin, content, filename, error):
    login(client, admin)
    response = upload_roster(client, content, filename=filename)
    assert response.status_code == 422
    assert error in page_text(response)
    assert re.search(r'<p class="error">[^<]+</p>', response.get_data(as_text=True))
    assert count(User) == 1 and count(Department) == 0


def test_an_upload_without_a_file_rerenders_with_the_error(client, admin):
    login(client, admin)
    response = client.post_form("/admin/roster", {}, token_from="/admin/roster")
    assert response.status_code == 422
    assert '<p class="error">This field is required.</p>' in response.get_data(as_text=True)


def test_an_upload_without_a_csrf_token_is_refused(client, admin):
    login(client, admin)
    response = client.post(
        "/admin/roster", data={"roster": (io.BytesIO(csv_bytes("E001,ann@neigou.example,Ann Li,")), "roster.csv")}
    )
    assert response.status_code == 400
    db.session.rollback()
    assert count(User) == 1


@pytest.mark.parametrize("role", [Role.member, Role.operator, Role.sales])
def test_only_admins_may_upload_a_roster(client, make_user, role):
    login(client, make_user(role=role))
    assert client.get("/admin/roster").status_code == 403
    token = client.csrf_token("/")
    response = client.post(
        "/admin/roster",
        data={"csrf_token": token, "roster": (io.BytesIO(csv_bytes("E001,ann@neigou.example,Ann Li,")), "roster.csv")},
    )
    assert response.status_code == 403
    db.session.rollback()
    assert count(User) == 1
