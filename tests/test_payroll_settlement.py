"""Payroll settlement: a month is exported once, after it ends; refunds after an export become
credit lines in the next one; HR gets a per-employee CSV and a summary (page, files and CLI)."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from shop.accounts.models import Department
from shop.audit.models import AuditEntry
from shop.extensions import db
from shop.orders.models import Order, OrderStatus, PaymentMethod
from shop.refunds import services as refunds
from shop.refunds.models import Refund
from shop.settlement import services
from shop.settlement.models import PayrollSettlement
from tests.conftest import CsrfClient, login
from tests.test_concurrency import run_together
from tests.test_ops import paid

EMPLOYEES_HEADER = "employee_no,name,email,department,order_count,deductions,credit_count,credits,net,currency"
SUMMARY_HEADER = "department,employees,order_count,deductions,credit_count,credits,net,currency"
OCTOBER, NOVEMBER, DECEMBER = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)


def at(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=UTC)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def ops(client, operator) -> CsrfClient:
    return login(client, operator)


@pytest.fixture
def payroll(make_user, employee, make_product, place):
    """Payroll orders around November 2026 (company time zone Asia/Shanghai)."""
    employee.employee_no = "E001"
    employee.department = Department(name="Engineering")
    bo = make_user(name="Bo Li", email="bo@neigou.example", employee_no="E002")
    db.session.commit()

    def item(price: int = 7_000):
        return make_product(employee_price=price).variants[0]

    made = {
        "nov_erin": paid(employee, item(), 2, when=at("2026-11-03T02:00:00"), place=place),  # 140.00
        "nov_erin_early": paid(employee, item(), 1, when=at("2026-10-31T16:30:00"), place=place),  # 1 Nov local
        "nov_bo": paid(bo, item(5_000), 1, when=at("2026-11-15T08:00:00"), place=place),  # 50.00
        "oct_erin": paid(employee, item(), 1, when=at("2026-10-31T15:30:00"), place=place),  # 31 Oct local
        "dec_erin": paid(employee, item(), 1, when=at("2026-11-30T16:30:00"), place=place),  # 1 Dec local
    }
    place(employee, item(), 1)  # unpaid
    by_card = place(bo, item(), 1)
    by_card.status, by_card.payment_method, by_card.paid_at = (
        OrderStatus.paid,
        PaymentMethod.card,
        at("2026-11-12T08:00:00"),
    )
    db.session.commit()
    return {"bo": bo, **made}


def refund(operator, order: Order, amount: int, when: str) -> Refund:
    with freeze_time(when):
        made = refunds.refund_order(operator, order, reason="Returned", amount=amount)
        db.session.commit()
    return made


def export(actor, month: date, when: str) -> PayrollSettlement:
    with freeze_time(when):
        settlement = services.record_settlement(actor, month)
        db.session.commit()
    return settlement


def test_refunds_after_an_export_are_credited_in_the_next_one_exactly_once(operator, employee, payroll):
    october = export(operator, OCTOBER, "2026-11-10 02:00:00")
    assert (october.employee_count, october.order_count, october.deductions, october.credits, october.net) == (
        1,
        1,
        7_000,
        0,
        7_000,
    )
    assert october.employees_csv.splitlines() == [
        EMPLOYEES_HEADER,
        f"E001,Erin Employee,{employee.email},Engineering,1,70.00,0,0.00,70.00,CNY",
    ]

    after_october = refund(operator, payroll["oct_erin"], 7_000, "2026-11-20 02:00:00")  # October was exported
    before_november = refund(operator, payroll["nov_erin"], 2_500, "2026-11-21 02:00:00")  # November was not
    december_order = refund(operator, payroll["dec_erin"], 2_000, "2026-12-01 02:00:00")  # a December order

    with (
        freeze_time("2026-11-25 02:00:00"),
        pytest.raises(services.SettlementError, match="November 2026 is not over yet"),
    ):
        services.record_settlement(operator, NOVEMBER)
    db.session.rollback()

    november = export(operator, NOVEMBER, "2026-12-02 02:00:00")
    assert november.employees_csv.splitlines() == [
        EMPLOYEES_HEADER,
        f"E001,Erin Employee,{employee.email},Engineering,2,210.00,2,95.00,115.00,CNY",
        "E002,Bo Li,bo@neigou.example,,1,50.00,0,0.00,50.00,CNY",
    ]
    assert november.summary_csv.splitlines() == [
        SUMMARY_HEADER,
        ",1,1,50.00,0,0.00,50.00,CNY",
        "Engineering,1,2,210.00,2,95.00,115.00,CNY",
        "All departments,2,3,260.00,2,95.00,165.00,CNY",
    ]
    assert (november.deductions, november.credits, november.net, november.credit_count) == (26_000, 9_500, 16_500, 2)
    db.session.expire_all()
    assert after_october.payroll_settlement_id == november.id and before_november.payroll_settlement_id == november.id
    assert december_order.payroll_settlement_id is None  # its order belongs to December

    with freeze_time("2026-12-03 02:00:00"), pytest.raises(services.SettlementError, match="already exported on"):
        services.record_settlement(operator, NOVEMBER)
    db.session.rollback()
    bo_refund = refund(operator, payroll["nov_bo"], 5_000, "2026-12-03 02:00:00")  # after November's export

    december = export(None, DECEMBER, "2027-01-02 02:00:00")
    assert december.employees_csv.splitlines() == [
        EMPLOYEES_HEADER,
        f"E001,Erin Employee,{employee.email},Engineering,1,70.00,1,20.00,50.00,CNY",
        "E002,Bo Li,bo@neigou.example,,0,0.00,1,50.00,-50.00,CNY",  # HR pays Bo back
    ]
    db.session.expire_all()
    assert bo_refund.payroll_settlement_id == december.id and december_order.payroll_settlement_id == december.id
    # Every payroll refund was credited once, and every settled month stays as recorded.
    credited = db.session.scalars(select(Refund.payroll_settlement_id).order_by(Refund.id)).all()
    assert credited == [november.id, november.id, december.id, december.id]
    assert db.session.get(PayrollSettlement, october.id).net == 7_000
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "payroll.export", AuditEntry.entity_id == november.id)
    ).all()
    assert entry.actor_id == operator.id and entry.after["credits"] == 9_500
    assert sorted(entry.after["refunds"]) == sorted([after_october.id, before_november.id])


def test_the_page_previews_records_once_and_serves_the_recorded_files(client, operator, employee, payroll):
    refund(operator, payroll["nov_bo"], 1_000, "2026-11-20 02:00:00")
    with freeze_time("2026-12-02 02:00:00") as clock:
        ops = login(client, operator)  # signed in at the frozen hour: a session is not signed in its future
        page = text(ops.get("/ops/payroll?month=2026-11"))
        assert "Not exported yet" in page and "Export to HR and record it" in page
        assert "Erin Employee" in page and "CN¥210.00" in page and "Bo Li" in page and "CN¥40.00" in page
        assert "Engineering" in page and "All departments" in page and "CN¥250.00" in page
        assert db.session.scalar(select(func.count(PayrollSettlement.id))) == 0  # a preview records nothing

        page = text(ops.post_form("/ops/payroll/export", {"month": "2026-11"}, follow_redirects=True))
        assert "November 2026 exported: download the files for HR below." in page
        assert "Exported on" in page and "Olga Operator" in page and "Export to HR and record it" not in page
        settlement = db.session.scalar(select(PayrollSettlement))

        page = text(ops.post_form("/ops/payroll/export", {"month": "2026-11"}, follow_redirects=True))
        assert "November 2026 was already exported on" in page
        assert db.session.scalar(select(func.count(PayrollSettlement.id))) == 1

        # A refund after the export changes neither the recorded page nor the files.
        clock.move_to("2026-12-03 02:00:00")
        refunds.refund_order(operator, payroll["nov_erin"], reason="Returned", amount=7_000)
        db.session.commit()
        page = text(ops.get("/ops/payroll?month=2026-11"))
        assert "CN¥210.00" in page and "CN¥40.00" in page and "November 2026" in page
        employees = ops.get(f"/ops/payroll/{settlement.id}/employees.csv")
        assert employees.status_code == 200 and employees.mimetype == "text/csv"
        assert employees.headers["Content-Disposition"] == "attachment; filename=payroll-2026-11-employees.csv"
        assert text(employees) == "\ufeff" + settlement.employees_csv  # the byte-order mark for Excel
        assert text(employees).splitlines()[2] == "E002,Bo Li,bo@neigou.example,,1,50.00,1,10.00,40.00,CNY"
        summary = ops.get(f"/ops/payroll/{settlement.id}/summary.csv")
        assert summary.headers["Content-Disposition"] == "attachment; filename=payroll-2026-11-summary.csv"
        assert text(summary).splitlines()[-1] == "All departments,2,3,260.00,1,10.00,250.00,CNY"
        assert ops.get(f"/ops/payroll/{settlement.id}/other.csv").status_code == 404
        assert ops.get("/ops/payroll/999999/employees.csv").status_code == 404
        assert 'href="/ops/payroll?month=2026-11"' in text(ops.get("/ops/payroll"))  # the recorded exports


def test_an_open_month_is_not_exported_from_the_page(client, operator, payroll):
    with freeze_time("2026-11-25 02:00:00"):
        ops = login(client, operator)
        page = text(ops.post_form("/ops/payroll/export", {"month": "2026-11"}, follow_redirects=True))
    assert "November 2026 is not over yet" in page
    assert db.session.scalar(select(func.count(PayrollSettlement.id))) == 0


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "november", ""])
def test_a_bad_month_is_422_with_a_message(ops, payroll, month):
    for query in (f"?month={month}", f"?month={month}&format=csv"):
        response = ops.get(f"/ops/payroll{query}")
        page = text(response)
        assert response.status_code == 422, query
        assert response.mimetype == "text/html"
        assert ("Use YYYY-MM." in page) or ("This field is required." in page), query
        assert "Erin Employee" not in page
    response = ops.post_form("/ops/payroll/export", {"month": month})
    assert response.status_code == 422
    assert ("Use YYYY-MM." in text(response)) or ("This field is required." in text(response))
    assert db.session.scalar(select(func.count(PayrollSettlement.id))) == 0


def test_csv_cells_never_run_as_spreadsheet_formulas(make_user, make_product, place):
    sly = make_user(
        name='=HYPERLINK("http://evil")',
        email="sly@neigou.example",
        employee_no="E9",
        department=Department(name="@Sales"),
    )
    paid(sly, make_product().variants[0], when=at("2026-10-03T02:00:00"), place=place)
    settlement = export(None, OCTOBER, "2026-11-10 02:00:00")
    assert settlement.employees_csv.splitlines()[1].startswith("E9,\"'=HYPERLINK(")
    assert settlement.summary_csv.splitlines()[1].startswith("'@Sales,1,1,70.00")


def test_the_command_records_once_and_then_writes_the_recorded_files(app, tmp_path, operator, employee, payroll):
    runner = app.test_cli_runner()
    with freeze_time("2026-12-02 02:00:00"):
        preview = runner.invoke(args=["shop", "payroll-export", "--month", "2026-11", "--preview"])
        assert preview.exit_code == 0, preview.output
        assert "preview, not recorded" in preview.output
        assert db.session.scalar(select(func.count(PayrollSettlement.id))) == 0

        first = runner.invoke(
            args=["shop", "payroll-export", "--month", "2026-11", "--summary", str(tmp_path / "summary.csv")]
        )
        assert first.exit_code == 0, first.output
        assert "2026-11: exported and recorded" in first.output
        assert f"E001,Erin Employee,{employee.email},Engineering,2,210.00,0,0.00,210.00,CNY" in first.output
        settlement = db.session.scalar(select(PayrollSettlement))
        assert settlement.actor_id is None and settlement.net == 26_000
        assert (tmp_path / "summary.csv").read_bytes() == "\ufeff".encode() + settlement.summary_csv.encode()

    refund(operator, payroll["nov_erin"], 7_000, "2026-12-03 02:00:00")
    again = runner.invoke(args=["shop", "payroll-export", "--month", "2026-11", "-o", str(tmp_path / "again.csv")])
    assert again.exit_code == 0, again.output
    assert "already exported" in again.output and "not a recount" in again.output
    assert (tmp_path / "again.csv").read_bytes().decode("utf-8-sig") == settlement.employees_csv
    assert db.session.scalar(select(func.count(PayrollSettlement.id))) == 1


def test_the_command_refuses_an_open_month_and_a_bad_month(app, payroll):
    runner = app.test_cli_runner()
    with freeze_time("2026-11-25 02:00:00"):
        result = runner.invoke(args=["shop", "payroll-export", "--month", "2026-11"])
    assert result.exit_code == 1 and "November 2026 is not over yet" in result.output
    result = runner.invoke(args=["shop", "payroll-export", "--month", "2026-13"])
    assert result.exit_code == 2 and "use YYYY-MM, e.g. 2026-11" in result.output
    assert EMPLOYEES_HEADER not in result.output
    assert db.session.scalar(select(func.count(PayrollSettlement.id))) == 0


@pytest.mark.slow
def test_two_exports_of_one_month_at_once_record_it_once(app, operator, payroll):
    refund(operator, payroll["oct_erin"], 7_000, "2026-11-20 02:00:00")

    def job(month):
        return lambda: services.record_settlement(None, month).id

    with freeze_time("2026-12-02 02:00:00"):
        outcomes = run_together(app, [job(NOVEMBER), job(NOVEMBER), job(OCTOBER)])
    recorded = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, services.SettlementError)]
    assert len(recorded) == 2 and len(refused) == 1, outcomes
    assert "already exported" in refused[0].message
    settlements = db.session.scalars(select(PayrollSettlement).order_by(PayrollSettlement.month)).all()
    assert [s.month for s in settlements] == [OCTOBER, NOVEMBER]
    # The refund was credited by exactly one of the two settlements that could take it.
    assert sum(s.credit_count for s in settlements) == 1 and sum(s.credits for s in settlements) == 7_000
