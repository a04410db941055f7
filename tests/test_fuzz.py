"""No input answers 500 (issue 17, point 4): every route of the app's URL map, as every role,
with generated values in its route arguments and in every form field and query parameter that
can be discovered, posted with a valid CSRF token. No response may be a 500 (under TESTING an
error propagates out of the client, which counts the same), and when the answer is an error
(4xx) nothing may have changed in the database.

Routes and parameters are discovered, not listed: the routes from ``app.url_map``; the fields
from the forms the pages render (action, method, names, their valid values), from every WTForms
class for a post whose form no page shows, and ``page``, ``q`` and ``next`` on every query.
A route added later is fuzzed without touching this file (its ids come from the access matrix's
world or from the forms that post to it; otherwise generated ones are tried).

Per route and role: a sweep that gives every field the same hostile value, one value at a time
(beyond 64 bits, negative, NaN, Infinity, sNaN, a NUL byte, 10,000 characters, dates out of
range, lists, all fields missing), then Hypothesis mixes valid values with hostile ones field by
field. Deterministic (``derandomize``, no example database) and bounded in time: a route whose
first answer refuses the role (log-in, 403) is not tried further.
"""

from __future__ import annotations

import os
import re
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from wtforms.fields.core import UnboundField

from shop.accounts.models import Kind, Role
from shop.extensions import db
from tests.conftest import login
from tests.test_access_matrix import world  # noqa: F401  (the fixture: objects for every route)

ROLES = ("anonymous", "contact", "employee", "sales", "operator", "admin")  # the admin last: it can deactivate
HUGE = str(2**63)
# The same hostile value in every field at once, one request each.
SWEEP = (
    HUGE,
    "-" + HUGE,
    "NaN",
    "Infinity",
    "sNaN",
    "a\x00b",
    "x" * 10_000,
    "0000-01",
    "9999-12-31",
    "9999-12-31T23:59",
)
QUERY_SWEEP = (HUGE, "x" * 10_000)  # for a page that has no form: page, q, next
HOSTILE = st.one_of(
    st.sampled_from(SWEEP),
    st.sampled_from(["-1", "-Infinity", "1e999999", "0001-01-01T00:00", "9" * 40]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=20),
    st.sampled_from(["", " ", "0", "1.5", "１２", "<script>", "' OR 1=1 --", "9999-12", "2026-02-30"]),
)
GENERIC_QUERY = ("page", "q", "next")
VALID = object()  # a drawn field that keeps its valid value


# ---- discovery -----------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> a valid value (as rendered)


class FormParser(HTMLParser):
    """The forms of a page: action, method and each named field with the value it is shown with
    (the selected or first option of a select, the text of a textarea)."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("action") or self.page, (a.get("method") or "get").upper())
            self.forms.append(self._form)
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input" and a.get("type") not in ("submit", "button", "image", "reset", "file"):
            if a.get("type") in ("checkbox", "radio") and a["name"] in self._form.fields and "checked" not in a:
                return
            self._form.fields[a["name"]] = a.get("value", "") or _placeholder(a.get("type", "text"), a["name"])
        elif tag == "input" and a.get("type") == "submit" or tag == "button" and a.get("type", "submit") == "submit":
            self._form.fields.setdefault(a["name"], a.get("value", "y"))
        elif tag == "select":
            self._select = a["name"]
            self._form.fields.setdefault(a["name"], "")
        elif tag == "option" and self._select:
            if "selected" in a or not self._form.fields.get(self._select):
                self._form.fields[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form.fields[a["name"]] = "Fuzz text"

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self._form is not None and data.strip():
            self._form.fields[self._textarea] = data


def _placeholder(input_type: str, name: str) -> str:
    """A plausible value for an empty field, so that the other fields get as far as they can."""
    return {
        "email": "fuzz@neigou.example",
        "number": "1",
        "date": "2026-11-15",
        "datetime-local": "2026-11-15T10:00",
        "password": "fuzz password 42",
        "tel": "+86 138 0000 0000",
    }.get(input_type, "Fuzz " + name)


def wtforms_field_names() -> set[str]:
    """Every field name of every WTForms class the app defines (for posts no page shows)."""
    names, todo = set(), list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        names.update(name for name in dir(cls) if isinstance(getattr(cls, name, None), UnboundField))
    return names


@dataclass
class Case:
    role: str
    rule: object  # werkzeug Rule
    method: str


@dataclass
class Known:
    """What discovery found: each (endpoint, method)'s fields, and route arguments that work."""

    fields: dict = field(default_factory=lambda: defaultdict(dict))
    args: dict = field(default_factory=dict)


def discover(app, client, world, users) -> Known:  # noqa: F811
    known = Known()
    adapter = app.url_map.bind("localhost")
    for role in ("anonymous", "contact", "employee", "sales", "admin"):
        as_role(client, users, role)
        for rule in app.url_map.iter_rules():
            if (
                "GET" not in rule.methods
                or rule.endpoint == "static"
                or not rule.arguments <= set(world["params"].get(rule.endpoint, {}))
            ):
                continue
            path = build(rule, world["params"].get(rule.endpoint, {}))
            response = client.get(path)
            if response.mimetype != "text/html":
                response.close()
                continue
            parser = FormParser(path)
            parser.feed(response.get_data(as_text=True))
            for form in parser.forms:
                target = urlsplit(form.action)
                try:
                    endpoint, args = adapter.match(target.path, method=form.method)
                except HTTPException:
                    continue
                fields = dict(parse_qsl(target.query)) | form.fields
                fields.pop("csrf_token", None)
                known.fields[(endpoint, form.method)].update(fields)
                known.args.setdefault(endpoint, args)
    return known


# ---- requests ------------------------------------------------------------------------------


def build(rule, args: dict) -> str:
    built = rule.build({**(rule.defaults or {}), **args}, append_unknown=False)
    assert built is not None, rule
    return built[1]


def as_role(client, users, role: str) -> None:
    if role == "anonymous":
        with client.session_transaction() as session:
            for key in [key for key in session if "csrf" not in key]:  # the CSRF token stays valid
                del session[key]
    else:
        login(client, users[role])


class DatabaseWatch:
    """Rows written and committed, as the engine's events see them: every statement goes through
    them, ``exec_driver_sql`` ones included. A write counts when it
    touched a row and its transaction committed (a rolled-back one changed nothing)."""

    WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)

    def __init__(self) -> None:
        self.pending: dict[int, list[str]] = defaultdict(list)
        self.committed: list[str] = []

    def after_cursor_execute(self, conn, cursor, statement, *args):
        if self.WRITE.match(statement) and cursor.rowcount != 0:
            self.pending[id(conn)].append(" ".join(statement.split())[:100])

    def commit(self, conn):
        self.committed.extend(self.pending.pop(id(conn), []))

    def rollback(self, conn):
        self.pending.pop(id(conn), None)

    def changes(self) -> list[str]:
        """The writes committed since the last call."""
        found, self.committed = self.committed, []
        return found


@pytest.fixture
def watch(app):
    watcher = DatabaseWatch()
    hooks = {"after_cursor_execute": watcher.after_cursor_execute, "commit": watcher.commit}
    hooks["rollback"] = watcher.rollback
    for name, hook in hooks.items():
        sa.event.listen(db.engine, name, hook)
    yield watcher
    for name, hook in hooks.items():
        sa.event.remove(db.engine, name, hook)


@dataclass
class Fuzzer:
    client: object
    users: dict
    token: dict
    watch: DatabaseWatch
    failures: list = field(default_factory=list)
    requests: int = 0

    def send(self, case: Case, path: str, params: dict) -> int:
        """One request; returns its status (500 when it raised) after checking the database."""
        method = case.method
        data = MultiDict([(name, value) for name, values in params.items() for value in values])
        if method != "GET":
            data.add("csrf_token", self.token[case.role])
        self.requests += 1
        if os.environ.get("FUZZ_VERBOSE"):
            print(case.role, method, path, _short(data))
        try:
            if method == "GET":
                response = self.client.get(path, query_string=data)
            else:
                response = self.client.open(path, method=method, data=data)
            status = response.status_code
            response.close()
        except Exception:  # noqa: BLE001  (under TESTING an unhandled error propagates: the 500)
            status = 500
            self.failures.append(f"{case.role} {method} {path} {_short(data)}\n{traceback.format_exc(limit=-4)}")
        else:
            if status >= 500:
                self.failures.append(f"{case.role} {method} {path} {_short(data)}: {status}")
        changed = self.watch.changes()
        if status >= 400 and changed:
            self.failures.append(f"{case.role} {method} {path} {_short(data)}: {status} but wrote {changed}")
        if case.rule.endpoint == "accounts.logout" or status == 500:
            as_role(self.client, self.users, case.role)
        return status


def _short(data) -> str:
    return repr([(k, v if len(v) < 40 else v[:20] + f"…({len(v)})") for k, v in data.items(multi=True)])[:600]


def route_args(case: Case, world, known: Known) -> dict:  # noqa: F811
    """Arguments that reach the view: the world's, else those of a form posting here, else 1."""
    found = world["params"].get(case.rule.endpoint) or known.args.get(case.rule.endpoint) or {}
    return {name: found.get(name, 1) for name in case.rule.arguments}


def hostile_arg(rule, name: str):
    if re.search(rf"<int(\([^)]*\))?:{name}>", rule.rule):
        return st.sampled_from([2**63, 2**64 + 7, 0, -1, 10**30])
    return st.sampled_from(["a\x00b", "x" * 10_000, "..", "%", "名字", " "])


def refused_before_input(case: Case, status: int) -> bool:
    return status in (401, 403) or (status == 302 and case.role == "anonymous")


def fuzz_case(fuzzer: Fuzzer, case: Case, fields: dict, args: dict, *, sweep: tuple, examples: int) -> bool:
    """Fuzz one route as one role; False when the role is refused before its input is read."""
    path = build(case.rule, args)
    valid = {name: [value] for name, value in fields.items()}
    if refused_before_input(case, fuzzer.send(case, path, valid)):
        return False
    if sweep:
        fuzzer.send(case, path, {})  # every field missing
        for value in sweep:
            fuzzer.send(case, path, {name: [value] for name in fields})
        fuzzer.send(case, path, {name: [value, HUGE] for name, value in fields.items()})  # lists
    names = sorted(fields)
    field_value = st.one_of(st.none(), st.just(VALID), HOSTILE, st.lists(HOSTILE, min_size=2, max_size=3))
    path_args = st.fixed_dictionaries(
        {name: st.one_of(st.just(value), hostile_arg(case.rule, name)) for name, value in args.items()}
    )

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],  # a failure is reported as it came: shrinking would cost minutes
        suppress_health_check=list(HealthCheck),
    )
    @given(st.fixed_dictionaries({name: field_value for name in names}), path_args)
    def mixed(drawn: dict, drawn_args: dict) -> None:
        params = {}
        for name, value in drawn.items():
            if value is VALID:
                params[name] = [fields[name]]
            elif isinstance(value, list):
                params[name] = value
            elif value is not None:
                params[name] = [value]
        try:
            target = build(case.rule, drawn_args)
        except (ValueError, TypeError):
            target = path
        fuzzer.send(case, target, params)

    mixed()
    return True


def test_no_input_answers_500_and_errors_change_nothing(app, client, world, make_user, monkeypatch, watch):  # noqa: F811
    users = dict(world["users"])
    employee = users["employee"]
    users["contact"] = make_user(kind=Kind.contact, level=1, referrer_id=employee.id, root_employee_id=employee.id)
    users["sales"] = make_user(role=Role.sales)
    for name in [key for key in app.config if key.startswith("RATELIMIT_") and isinstance(app.config[key], str)]:
        if "per" in app.config[name]:
            monkeypatch.setitem(app.config, name, "100000 per minute")  # limits would hide the forms behind 429
    known = discover(app, client, world, users)
    every_field = {name: "1" for name in wtforms_field_names()}
    token = {}
    for role in ROLES:
        as_role(client, users, role)
        token[role] = client.csrf_token("/login" if role == "anonymous" else "/")
    watch.changes()
    fuzzer = Fuzzer(client, users, token, watch)
    only = os.environ.get("FUZZ_ENDPOINT")  # e.g. FUZZ_ENDPOINT=ops.new_variant: one route while debugging
    swept = set()  # routes fuzzed in full by one role; the other roles try a few mixes
    for role in ROLES:
        as_role(client, users, role)
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if rule.endpoint == "static":
                    continue
                case = Case(role, rule, method)
                if only and only not in rule.endpoint:
                    continue
                fields = dict(known.fields.get((rule.endpoint, method), {}))
                sweep = SWEEP if fields else QUERY_SWEEP
                if method == "GET":
                    fields = {name: "" for name in GENERIC_QUERY} | fields
                elif not fields:
                    fields = every_field
                first = (rule.rule, method) not in swept
                args = route_args(case, world, known)
                if fuzz_case(fuzzer, case, fields, args, sweep=sweep if first else (), examples=3 if first else 1):
                    swept.add((rule.rule, method))
    print(f"{fuzzer.requests} requests")
    assert fuzzer.failures == [], f"{len(fuzzer.failures)} failures:\n" + "\n".join(fuzzer.failures[:20])
    assert only or fuzzer.requests > 1000  # the sweep reached the routes
