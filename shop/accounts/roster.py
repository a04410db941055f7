"""HR roster import: create, update, reactivate and optionally deactivate employees from a file.

The file is what an HR office in China has at hand: a CSV in UTF-8 (with or without a byte-order
mark) or in GB18030 (of which GBK and GB2312 are subsets: what Excel writes on a Chinese
Windows), or an Excel ``.xlsx`` workbook (its first sheet). The report says which it read."""

from __future__ import annotations

import csv
import enum
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import openpyxl
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import select

from shop.accounts.models import Department, Kind, Role, User
from shop.accounts.services import (
    AccountError,
    deactivate,
    is_company_email,
    normalise_email,
    reactivate,
)
from shop.audit.models import AuditEntry
from shop.audit.services import record
from shop.database import utcnow
from shop.extensions import db
from shop.labels import label
from shop.labels import register as register_labels
from shop.spreadsheets import GB18030, UTF8, UTF8_BOM, decode_text

COLUMNS = ("employee_no", "email", "name", "department")
EMPLOYEE_NO_MAX = User.__table__.c.employee_no.type.length
NAME_MAX = min(User.__table__.c.name.type.length, Department.__table__.c.name.type.length)


class RosterError(AccountError):
    """The file as a whole cannot be read (wrong columns, not CSV, an unknown encoding)."""


@dataclass
class RosterReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    reactivated: int = 0
    deactivated: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, value, reason)
    new_users: list[User] = field(default_factory=list)
    read_as: str = ""  # the encoding or format the file was read as (``read_file``)

    @property
    def accepted(self) -> int:
        return self.created + self.updated + self.unchanged


def read_rows(text: str) -> list[dict[str, str]]:
    try:
        return _rows(list(csv.reader(io.StringIO(text.lstrip("\ufeff")))))
    except csv.Error as exc:
        raise RosterError(_("The roster is not a readable CSV file: %(err)s", err=str(exc))) from exc


def _rows(lines: list[list[str]]) -> list[dict[str, str]]:
    """Rows by column name from the header line and the lines under it."""
    header = [h.strip().lower() for h in lines[0]] if lines else []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RosterError(_("The roster lacks the columns: %(cols)s.", cols=", ".join(missing)))
    rows = []
    for line in lines[1:]:
        if not line:
            continue  # a blank line
        cells = [*line, *[""] * (len(header) - len(line))]
        rows.append({name: (value or "").strip() for name, value in zip(header, cells, strict=False) if name})
    return rows


XLSX = "xlsx"
XLSX_MAGIC = b"PK\x03\x04"  # a workbook is a zip file


class ReadAs(enum.StrEnum):
    """What a roster file was read as (the report says it; so does the import's audit entry)."""

    utf8 = UTF8
    utf8_bom = UTF8_BOM
    gb18030 = GB18030
    xlsx = XLSX


register_labels(
    {
        ReadAs.utf8: _l("UTF-8"),
        ReadAs.utf8_bom: _l("UTF-8 with a byte-order mark"),
        ReadAs.gb18030: _l("GB18030 (GBK)"),
        ReadAs.xlsx: _l("an Excel workbook (.xlsx)"),
    }
)


def read_as_label(read_as: str) -> str:
    """What the import report says the file was read as."""
    return label(read_as)


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read as (shop/spreadsheets.py)."""
    try:
        return decode_text(data)
    except ValueError as exc:
        raise RosterError(_not_readable()) from exc


def _not_readable() -> str:
    return _(
        "The roster must be a CSV file encoded in UTF-8 or GB18030 (GBK), or an Excel .xlsx workbook; "
        "this file is neither. In Excel, save it as “CSV UTF-8” or as an Excel workbook."
    )


def read_xlsx(data: bytes) -> list[dict[str, str]]:
    """The rows of the workbook's first sheet, the first row being the header."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise RosterError(_("The roster is not a readable Excel workbook.")) from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise RosterError(_("The roster is not a readable Excel workbook."))
        values = [[_xlsx_cell(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    return _rows([row for row in values if any(row)])  # Excel keeps formatted empty rows


def _xlsx_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an employee number typed as a number
    return str(value)


def read_file(data: bytes, filename: str = "") -> tuple[list[dict[str, str]], str]:
    """The rows of a roster file and what it was read as (``UTF8``, ``GB18030``, ``XLSX``...)."""
    if filename.lower().endswith(".xlsx") or data.startswith(XLSX_MAGIC):
        return read_xlsx(data), XLSX
    text, encoding = decode(data)
    return read_rows(text), encoding


def import_file(
    data: bytes,
    *,
    filename: str,
    actor: User | None,
    deactivate_missing: bool = False,
    progress: Callable[[int], None] | None = None,
) -> RosterReport:
    """Read and apply a roster file in the caller's transaction and audit the import: who,
    when, the file's name and SHA-256, and the counts. Raises RosterError for a file that cannot
    be read (nothing done). Inviting ``report.new_users`` is the caller's next step, in
    transactions of its own (``shop.accounts.roster_imports.invite``): for a large roster it
    is most of the time."""
    rows, read_as = read_file(data, filename)
    report = import_roster(rows, actor=actor, deactivate_missing=deactivate_missing, progress=progress)
    report.read_as = read_as
    db.session.add(
        AuditEntry(
            action="roster.import",
            entity_type="Roster",
            entity_id=None,
            actor_id=actor.id if actor else None,
            after={
                "file": filename,
                "read_as": read_as,
                "sha256": hashlib.sha256(data).hexdigest(),
                "rows": len(rows),
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "reactivated": report.reactivated,
                "deactivated": report.deactivated,
                "rejected": len(report.rejected),
                "to_invite": len(report.new_users),
                "deactivate_missing": deactivate_missing,
            },
        )
    )
    db.session.flush()
    return report


def import_roster(
    rows: Iterable[dict[str, str]],
    *,
    actor: User | None,
    deactivate_missing: bool = False,
    progress: Callable[[int], None] | None = None,
) -> RosterReport:
    """Apply the roster in the caller's transaction. Re-importing the same file changes nothing."""
    report = RosterReport()
    users = db.session.scalars(select(User).where(User.kind == Kind.employee)).all()
    by_no = {u.employee_no: u for u in users if u.employee_no}
    by_email = {u.email: u for u in db.session.scalars(select(User)).all()}
    departments = {d.name: d for d in db.session.scalars(select(Department)).all()}
    seen_nos: set[str] = set()
    seen_emails: set[str] = set()
    # Everyone the file names, even on a rejected row: a typo must not deactivate anybody.
    named_nos: set[str] = set()
    named_emails: set[str] = set()

    for line_no, row in enumerate(rows, start=2):  # line 1 is the header
        if progress:
            progress(1)
        employee_no, name, dept_name = row.get("employee_no", ""), row.get("name", ""), row.get("department", "")
        raw_email = row.get("email", "")
        named_nos.add(employee_no)
        named_emails.add(raw_email.lower())
        if not employee_no or not name or not raw_email:
            report.rejected.append((line_no, employee_no or raw_email, _("missing employee_no, email or name")))
            continue
        try:
            email = normalise_email(raw_email)
        except AccountError:
            report.rejected.append((line_no, raw_email, _("bad e-mail")))
            continue
        named_emails.add(email)
        too_long = [
            label
            for label, value, limit in (
                ("employee_no", employee_no, EMPLOYEE_NO_MAX),
                ("name", name, NAME_MAX),
                ("department", dept_name, NAME_MAX),
            )
            if len(value) > limit
        ]
        if too_long:
            report.rejected.append((line_no, employee_no, _("too long: %(fields)s", fields=", ".join(too_long))))
            continue
        if not is_company_email(email):
            report.rejected.append((line_no, email, _("e-mail domain is not a company domain")))
            continue
        if employee_no in seen_nos or email in seen_emails:
            report.rejected.append((line_no, employee_no, _("duplicate in this file")))
            continue
        seen_nos.add(employee_no)
        seen_emails.add(email)

        user = by_no.get(employee_no) or by_email.get(email)
        holder = by_email.get(email)
        if holder is not None and user is not None and holder is not user:
            report.rejected.append((line_no, email, _("e-mail belongs to another account")))
            continue
        if user is not None and user.kind != Kind.employee:
            report.rejected.append((line_no, email, _("address belongs to a contact; verify them as staff first")))
            continue
        department = None
        if dept_name:
            department = departments.get(dept_name)
            if department is None:
                department = departments[dept_name] = Department(name=dept_name)
                db.session.add(department)

        if user is None:
            user = User(
                email=email,
                name=name,
                kind=Kind.employee,
                level=0,
                employee_no=employee_no,
                department=department,
                email_verified_at=utcnow(),
            )
            db.session.add(user)
            by_no[employee_no] = by_email[email] = user
            report.created += 1
            report.new_users.append(user)
            continue
        before = {
            "email": user.email,
            "name": user.name,
            "employee_no": user.employee_no,
            "department": user.department.name if user.department else None,
        }
        after = {
            "email": email,
            "name": name,
            "employee_no": employee_no,
            "department": department.name if department else None,
        }
        if not user.is_active_flag:
            reactivate(actor, user, "roster import")
            report.reactivated += 1
        if before == after:
            report.unchanged += 1
            continue
        user.email, user.name, user.employee_no, user.department = email, name, employee_no, department
        user.email_verified_at = user.email_verified_at or utcnow()
        record("user.roster_update", user, actor=actor, before=before, after=after)
        report.updated += 1

    if deactivate_missing:
        for user in users:
            keep = user.employee_no in named_nos or user.email in named_emails
            if keep or not user.is_active_flag or user.role == Role.admin:
                continue
            if actor is not None and user.id == actor.id:
                continue
            deactivate(actor, user, "not in the HR roster")
            report.deactivated += 1
    db.session.flush()
    return report
