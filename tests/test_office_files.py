"""Files for a Chinese office: every CSV the shop writes opens in Excel as it is (UTF-8 with a
byte-order mark, Chinese names intact), and the HR roster is read from what an office has at
hand: UTF-8 with or without a byte-order mark, GB18030/GBK, or an Excel workbook."""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, date, datetime

import openpyxl
import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from shop.accounts import roster
from shop.accounts.models import Department, User
from shop.extensions import db
from shop.settlement import services as settlement_services
from shop.spreadsheets import cell, csv_response, csv_text
from tests.conftest import login, upload_roster
from tests.test_ops import paid

BOM = b"\xef\xbb\xbf"
HEADER = ["employee_no", "email", "name", "department"]
PEOPLE = [
    ["E101", "wang.fang@neigou.example", "王芳", "研发部"],
    ["E102", "li.lei@neigou.example", "李雷", "销售部"],
    ["E103", "zhang.wei@neigou.example", "张伟", ""],
]


def roster_csv(encoding: str, people=PEOPLE) -> bytes:
    return "\r\n".join(",".join(line) for line in [HEADER, *people]).encode(encoding) + b"\r\n"


def roster_xlsx(people=PEOPLE) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for line in [HEADER, *people]:
        sheet.append(line)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


SAVED_AS = {
    "utf-8": (lambda: roster_csv("utf-8"), "roster.csv", "UTF-8"),
    "utf-8-sig": (lambda: roster_csv("utf-8-sig"), "roster.csv", "UTF-8 with a byte-order mark"),
    "gbk": (lambda: roster_csv("gbk"), "roster.csv", "GB18030 (GBK)"),
    "gb18030": (lambda: roster_csv("gb18030"), "roster.csv", "GB18030 (GBK)"),
    "xlsx": (roster_xlsx, "roster.xlsx", "an Excel workbook (.xlsx)"),
}


def people() -> list[tuple[str, str, str, str | None]]:
    users = db.session.scalars(select(User).where(User.employee_no.is_not(None)).order_by(User.employee_no))
    return [(u.employee_no, u.email, u.name, u.department.name if u.department else None) for u in users]


EXPECTED = [
    ("E101", "wang.fang@neigou.example", "王芳", "研发部"),
    ("E102", "li.lei@neigou.example", "李雷", "销售部"),
    ("E103", "zhang.wei@neigou.example", "张伟", None),
]


# --- the roster, read from every encoding -----------------------------------------------------


@pytest.mark.parametrize("saved_as", sorted(SAVED_AS))
def test_the_same_roster_in_every_encoding_gives_the_same_employees(client, admin, saved_as):
    make, filename, label = SAVED_AS[saved_as]
    login(client, admin)
    response = upload_roster(client, make(), filename=filename)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200, page
    assert f"The file was read as {label}." in page
    assert "created: <strong>3</strong>" in page and "rejected: <strong>0</strong>" in page
    assert people() == EXPECTED


@pytest.mark.parametrize("saved_as", sorted(SAVED_AS))
def test_read_file_gives_the_same_rows_and_names_the_encoding(saved_as):
    make, filename, _label = SAVED_AS[saved_as]
    rows, read_as = roster.read_file(make(), filename)
    assert rows == [dict(zip(HEADER, line, strict=True)) for line in PEOPLE]
    assert read_as == {"gbk": "gb18030"}.get(saved_as, saved_as)


def test_a_workbook_is_recognised_by_its_content_and_numbers_read_as_written():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Employee_No ", "EMAIL", "name", "department", None])
    sheet.append([1001, "wang.fang@neigou.example", "王芳", None])
    sheet.append([None, None, None, None])  # a formatted but empty row
    out = io.BytesIO()
    workbook.save(out)
    rows, read_as = roster.read_file(out.getvalue(), "roster")  # no .xlsx in the name
    assert read_as == "xlsx"
    assert rows == [{"employee_no": "1001", "email": "wang.fang@neigou.example", "name": "王芳", "department": ""}]


def test_the_command_reads_gbk_and_says_so(app, tmp_path):
    path = tmp_path / "花名册.csv"
    path.write_bytes(roster_csv("gbk"))
    db.session.rollback()
    result = app.test_cli_runner().invoke(args=["shop", "import-employees", str(path)])
    db.session.rollback()
    assert result.exit_code == 0, result.output
    assert "read as GB18030 (GBK)" in result.stderr
    assert people() == EXPECTED


@pytest.mark.parametrize(
    ("content", "filename", "error"),
    [
        (b"\x00\x01\x02binary", "roster.csv", "The roster must be a CSV file encoded in UTF-8 or GB18030 (GBK)"),
        (b"E101,\x80\xff\n", "roster.csv", "The roster must be a CSV file encoded in UTF-8 or GB18030 (GBK)"),
        (b"PK\x03\x04broken", "roster.xlsx", "The roster is not a readable Excel workbook."),
        (roster_xlsx()[:300], "roster.xlsx", "The roster is not a readable Excel workbook."),
    ],
)
def test_a_bad_file_is_refused_with_a_message_and_nothing_changes(client, admin, content, filename, error):
    login(client, admin)
    response = upload_roster(client, content, filename=filename)
    assert response.status_code == 422
    assert error in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(select(func.count(User.id))) == 1  # the admin alone
    assert db.session.scalar(select(func.count(Department.id))) == 0


def test_a_workbook_without_the_columns_is_refused():
    workbook = openpyxl.Workbook()
    workbook.active.append(["工号", "邮箱", "姓名"])
    out = io.BytesIO()
    workbook.save(out)
    with pytest.raises(roster.RosterError, match="lacks the columns: employee_no, email, name, department"):
        roster.read_file(out.getvalue(), "roster.xlsx")


# --- the CSVs the shop writes -------------------------------------------------------------------


def test_the_helper_writes_a_bom_once_and_keeps_formulas_as_text(app):
    text = csv_text([["name", "amount"], ["王芳", "-5"], ["=1+1", -5], ["@SUM(A1)", None]])
    assert text.splitlines() == ["name,amount", "王芳,-5", "'=1+1,-5", "'@SUM(A1),"]
    with app.test_request_context():
        body = csv_response(text, "x.csv").get_data()
        assert body.startswith(BOM) and not body[3:].startswith(BOM)
        assert csv_response("\ufeff" + text, "x.csv").get_data() == body  # a recorded BOM is not doubled
        assert csv_response([["name"], ["李雷"]], "y.csv").get_data() == BOM + "name\r\n李雷\r\n".encode()
    assert cell("+86 138") == "'+86 138" and cell("3.5") == "3.5" and cell(None) == ""


def rows_of(body: bytes) -> list[list[str]]:
    assert body.startswith(BOM)
    return list(csv.reader(io.StringIO(body[len(BOM) :].decode("utf-8"))))


def test_every_csv_download_starts_with_a_bom_and_round_trips_chinese_names(
    client, admin, operator, make_user, make_product, place
):
    wang = make_user(
        name="王芳", email="wang.fang@neigou.example", employee_no="E101", department=Department(name="研发部")
    )
    order = paid(
        wang, make_product(name="龙井茶").variants[0], 2, when=datetime(2026, 10, 3, 2, tzinfo=UTC), place=place
    )
    with freeze_time("2026-11-10 02:00:00"):
        settlement = settlement_services.record_settlement(operator, date(2026, 10, 1))
        db.session.commit()
        login(client, operator)
        employees = rows_of(client.get(f"/ops/payroll/{settlement.id}/employees.csv").get_data())
        assert employees[1][:4] == ["E101", "王芳", "wang.fang@neigou.example", "研发部"]
        summary = rows_of(client.get(f"/ops/payroll/{settlement.id}/summary.csv").get_data())
        assert summary[1][0] == "研发部"
        orders = rows_of(client.get("/ops/orders.csv").get_data())
        assert any(order.number in row and "龙井茶" in row for row in orders)
    login(client, operator)
    kpis = rows_of(client.get("/ops/kpis/funnel/employees.csv").get_data())
    assert "王芳" in [row[0] for row in kpis]
    login(client, admin)
    audit = rows_of(client.get("/admin/audit.csv").get_data())
    assert any("王芳" in value for row in audit for value in row)  # Chinese names in the audit trail


def test_the_payroll_command_writes_files_with_a_bom(app, tmp_path, operator, make_user, make_product, place):
    wang = make_user(name="王芳", email="wang.fang@neigou.example", employee_no="E101")
    paid(wang, make_product().variants[0], 1, when=datetime(2026, 10, 3, 2, tzinfo=UTC), place=place)
    db.session.commit()
    with freeze_time("2026-11-10 02:00:00"):
        result = app.test_cli_runner().invoke(
            args=["shop", "payroll-export", "--month", "2026-10", "-o", str(tmp_path / "e.csv")]
        )
    assert result.exit_code == 0, result.output
    assert rows_of((tmp_path / "e.csv").read_bytes())[1][:2] == ["E101", "王芳"]
