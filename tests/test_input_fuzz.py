"""Hostile values in every form field of every route, and in every filter of every list, sent by
each role (and by someone not signed in): never a 500, and afterwards nothing out of range is
stored in any column of any table.

The forms are found by asking every page each role can see and reading its HTML; each field of
each form is then sent in turn with each hostile value while the other fields keep the page's own
values (or a plausible one where the page leaves a field empty, so the rest of the form is
valid). Routes whose forms no page shows to a role are posted to directly. By default each field
gets a few hostile values (a minute or less on SQLite); for every one of them run

    HYPOTHESIS_PROFILE=fuzz .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_input_fuzz.py
"""

import io
import itertools
import logging
import math
import os
import re
import secrets
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing.converters import NumberConverter
from sqlalchemy import BigInteger, Date, DateTime, Float, Integer, Numeric, String, Text, select

from consortium import services
from consortium.extensions import db
from consortium.models import Invitation, utcnow
from consortium.recharges import services as recharges
from contracts import returns
from contracts.summaries import BEGINNING
from tests.conftest import sign_in
from tests.factories import (
    PASSWORD,
    AdmissionFactory,
    AuthorityFactory,
    BlockPriceFactory,
    ConsortiumFactory,
    ContractFactory,
    FlagFactory,
    HomeFactory,
    InspectionFactory,
    JudgementFactory,
    LotFactory,
    PlacementFactory,
    PlacementFeeFactory,
    PriceFactory,
    ProviderFactory,
    UploadFactory,
    UserFactory,
    lead,
    partner,
    provider_user,
)
from tests.ofsted_files import SAMPLE

TODAY = date.today()
LONG_RUN = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"

LONG_TEXT = "x" * 100_000
ALL_TEXT = ["a\x00b", "x\x07y", "NaN", "sNaN", "Infinity", "-Infinity", "1e20", "99999999999999999999999", "-1", LONG_TEXT,
            "£1,000,000,000"]
ALL_DATES = [["1", "1", "1"], ["31", "12", "9999"], ["1", "1", "0001"]]
VERSIONS = ["", "-1", "99999999999999999999"]
TEXT_VALUES = ALL_TEXT if LONG_RUN else ["a\x00b", "NaN", "sNaN", "1e20", LONG_TEXT]
# The long run also puts each hostile text in all three boxes of a date.
DATE_VALUES = ALL_DATES + [[value] * 3 for value in ALL_TEXT] if LONG_RUN else [["31", "12", "9999"]]
FILTER_DATES = ["0001-01-01", "9999-12-31"]
HUGE_PAGE = str(10**30)
HUGE_IDS = (2**63, 10**30)

FILTERS = ("page", "kind", "status", "provider", "contract", "authority", "home", "from", "to", "user", "type", "object",
           "action", "q", "provision_type", "local_authority", "judgement", "year")
LISTS = ("/flags", "/flags/export.csv", "/placements", "/placements/export.csv", "/audit", "/audit/export.csv", "/contracts",
         "/contracts/export.csv", "/providers", "/providers/export.csv", "/homes", "/homes/export.csv", "/returns",
         "/returns/export.csv", "/dashboard", "/dashboard/flags.csv", "/value-for-money", "/homes/in-use", "/jobs", "/messages",
         "/users", "/consortia", "/authorities", "/usage", "/recharges", "/budgets", "/")
ROLES = ("admin", "lead", "partner", "provider", "anonymous")
# Forms that would end the session the run depends on.
NOT_SENT = ("/sign-out",)


def quarter(day: date) -> str:
    """The financial quarter a day is in, written 2024-Q1."""
    return returns.period_label(date(day.year, (day.month - 1) // 3 * 3 + 1, 1))


@pytest.fixture
def world():
    """One consortium whose users own everything here, so each form renders and can validate: its
    lead, a partner of a member authority with a placement under the block and a spot one, the
    block's provider's account manager, and an administrator."""
    lead_authority, member, leaving, asked = (AuthorityFactory() for _ in range(4))
    consortium = ConsortiumFactory(lead=lead_authority, members=[member, leaving])
    other = ConsortiumFactory()
    oak = ProviderFactory(name="Oak Fuzz Ltd")
    home_a, home_b, home_c = (HomeFactory(provider=oak) for _ in range(3))
    good, worse = JudgementFactory(), JudgementFactory(name="Requires improvement to be good", rank=3)
    InspectionFactory(home=home_a, judgement=good, inspection_date=TODAY - timedelta(days=700))
    drop = InspectionFactory(home=home_a, judgement=worse, inspection_date=TODAY - timedelta(days=20))
    block = ContractFactory(ref="FUZZ-BLOCK", consortium=consortium, provider=oak, beds=3, start_date=TODAY - timedelta(days=400),
                            end_date=TODAY + timedelta(days=800), max_end_date=TODAY + timedelta(days=1500))
    block.homes.extend([home_a, home_b])
    BlockPriceFactory(contract=block, weekly_pence=350000, effective_from=block.start_date)
    framework = ContractFactory(ref="FUZZ-FW", kind="framework", consortium=consortium, start_date=TODAY - timedelta(days=700),
                                end_date=TODAY + timedelta(days=300), max_end_date=TODAY + timedelta(days=1000))
    lot = LotFactory(contract=framework, name="Residential")
    admission = AdmissionFactory(lot=lot, provider=oak)
    PriceFactory(admission=admission, weekly_pence=400000, effective_from=framework.start_date)
    placement = PlacementFactory(authority=member, child_ref="FUZZ-1", contract=block, home=home_a,
                                 start_date=TODAY - timedelta(days=90))
    spot = PlacementFactory(authority=member, child_ref="FUZZ-2", contract=None, home=home_c, start_date=TODAY - timedelta(days=60))
    PlacementFeeFactory(placement=spot, weekly_pence=520000)
    outcomes = returns.attach(block, returns.starter_template())
    every = {indicator.code: "1" for indicator in outcomes.indicators}
    submitted = returns.save(outcomes, oak, quarter(TODAY - timedelta(days=300)), every, {}, None, TODAY, submit=True)
    draft = returns.save(outcomes, oak, quarter(TODAY - timedelta(days=120)), {"EET": "90"}, {}, None, TODAY, submit=False)
    issued = recharges.create_pool(consortium, "Issued pool", TODAY - timedelta(days=365), TODAY - timedelta(days=1), 100000, "equal")
    recharges.draft_statements(issued)
    recharges.issue(issued, TODAY)
    drafted = recharges.create_pool(consortium, "Draft pool", TODAY - timedelta(days=90), TODAY - timedelta(days=1), 50000, "placements")
    recharges.draft_statements(drafted)
    users = {"admin": UserFactory(role="admin"), "lead": lead(consortium), "partner": partner(member),
             "provider": provider_user(oak, account_manager=True)}
    victim = partner(member, email="victim@example.test")  # the administrator's forms act on this account
    ours_asks = services.request_membership(consortium, asked.code, TODAY, None, users["lead"], "http://test")
    theirs_ask = services.request_membership(other, member.code, TODAY, None, lead(other), "http://test")
    token = secrets.token_urlsafe(32)
    db.session.add(Invitation(email="invited@example.test", name="Invited", provider_id=oak.id, account_manager=False,
                              token_hash=services._token_hash(token), invited_by_id=users["lead"].id,
                              expires_at=utcnow() + timedelta(days=7)))
    underused = FlagFactory(kind="underused_block_beds", subject=block.ref, subject_key=block.ref, contract=block, provider=oak)
    dropped = FlagFactory(kind="quality_drop", subject=home_a.urn, subject_key=home_a.urn, home_id=home_a.id, provider=oak,
                          inspection_id=drop.id, judgement_before=good.name, judgement_after=worse.name, event_date=drop.inspection_date)
    upload = UploadFactory(user_id=users["lead"].id, content=SAMPLE.encode())
    leaving_membership = next(m for m in consortium.memberships if m.authority_code == leaving.code)
    db.session.flush()
    ids = {
        "consortium_id": [consortium.id], "membership_id": [leaving_membership.id], "contract_id": [block.id, framework.id],
        "lot_id": [lot.id], "admission_id": [admission.id], "placement_id": [placement.id, spot.id],
        "indicator_id": [outcomes.indicators[0].id], "return_id": [submitted.id, draft.id], "provider_id": [oak.id],
        "period": [submitted.period, draft.period], "pool_id": [drafted.id, issued.id], "statement_id": [issued.statements[0].id],
        "flag_id": [underused.id, dropped.id], "upload_id": [upload.id], "user_id": [victim.id], "urn": [home_a.urn],
        "code": [member.code], "fmt": ["csv"], "table": ["flags"], "action": ["acknowledge", "resolve"],
        "request_id": [ours_asks.id, theirs_ask.id], "decision": ["accept", "decline", "withdraw"], "token": [token],
    }
    # What a person would type where a page leaves a field empty, so the rest of the form is valid.
    typed = {
        "child_ref": "FUZZ-9", "home_urn": home_b.urn, "weekly_fee": "4000", "age_at_start": "15", "distance_miles": "5",
        "beds": "1", "reason": "Repairs", "name": "Fuzz name", "email": "fuzz-new@example.test", "current_password": PASSWORD,
        "password": "a long enough fuzz password", "new_password": "a long enough fuzz password",
        "confirm": "a long enough fuzz password", "percent": "2.5", "weekly_price": "4100", "amount": "1000",
        "corrected_amount": "500", "note": "A note", "comment": "A comment", "end_reason": "Moved on", "code": "123456",
    }
    days = {"first_day": TODAY - timedelta(days=90), "last_day": TODAY - timedelta(days=1), "end_date": TODAY + timedelta(days=7),
            "extend_to": block.max_end_date, "break_date": TODAY + timedelta(days=100), "effective_to": None,
            "status_until": None, "left": TODAY + timedelta(days=1)}
    return {"users": users, "ids": ids, "typed": typed, "days": days, "protected": {u.id for u in users.values()}}


# ---------------------------------------------------------------- reading forms


class Forms(HTMLParser):
    """The forms of a page: each with its method, action and fields in order, a field being
    {"name", "kind" (an input's type, "select", "textarea" or "button"), "value", "checked", "options"}.
    A form whose buttons each post elsewhere (`formaction`) lists those addresses too."""

    def __init__(self, page_url):
        super().__init__(convert_charrefs=True)
        self.page_url, self.forms, self.form, self.select, self.textarea = page_url, [], None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.form = {"action": attrs.get("action") or self.page_url, "method": (attrs.get("method") or "get").lower(),
                         "multipart": "multipart" in (attrs.get("enctype") or ""), "fields": [], "elsewhere": []}
            self.forms.append(self.form)
        elif self.form is None:
            return
        elif tag == "option" and self.select is not None:
            self.select["options"].append(attrs.get("value", ""))
            if "selected" in attrs:
                self.select["value"] = attrs.get("value", "")
        elif tag == "button" and attrs.get("formaction"):
            self.form["elsewhere"].append(attrs["formaction"])
        elif not attrs.get("name"):
            return
        elif tag in ("input", "button"):
            kind = (attrs.get("type") or ("submit" if tag == "button" else "text")).lower()
            self.form["fields"].append({"name": attrs["name"], "kind": "button" if kind in ("submit", "image") else kind,
                                        "value": attrs.get("value", ""), "checked": "checked" in attrs, "options": []})
        elif tag == "select":
            self.select = {"name": attrs["name"], "kind": "select", "value": None, "checked": False, "options": []}
            self.form["fields"].append(self.select)
        elif tag == "textarea":
            self.textarea = {"name": attrs["name"], "kind": "textarea", "value": "", "checked": False, "options": []}
            self.form["fields"].append(self.textarea)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def post_forms(page_url, html):
    """The page's POST forms, one per address they post to."""
    parser = Forms(page_url)
    parser.feed(html)
    found = []
    for form in parser.forms:
        if form["method"] != "post":
            continue
        for action in form["elsewhere"] or [form["action"]]:
            found.append({**form, "action": urlsplit(action).path or page_url})
    return found


def groups(form):
    """The form's fields by name: {name: (kind, fields)}, kind being "date" for GOV.UK's three boxes."""
    by_name = {}
    for field in form["fields"]:
        by_name.setdefault(field["name"], []).append(field)
    kinds = {}
    for name, fields in by_name.items():
        kind = fields[0]["kind"]
        if len(fields) == 3 and all(f["kind"] == "text" for f in fields):
            kind = "date"
        kinds[name] = (kind, fields)
    return kinds


def boxes(day: date | None) -> list[str]:
    return ["", "", ""] if day is None else [str(day.day), str(day.month), str(day.year)]


def baseline(form, world) -> dict:
    """The values the page gives (its inputs' values, the selected or first option, the checked or
    first radio, the first button), and where it leaves a field empty what a person would type."""
    data = {}
    for name, (kind, fields) in groups(form).items():
        if name == "csrf_token" or kind == "file":
            continue
        if kind == "date":
            given = [f["value"] for f in fields]
            data[name] = given if any(given) else boxes(world["days"].get(name, TODAY))
        elif kind == "radio":
            data[name] = next((f["value"] for f in fields if f["checked"]), fields[0]["value"])
        elif kind == "checkbox":
            data[name] = [f["value"] for f in fields if f["checked"]]
        elif kind == "select":
            field = fields[0]
            data[name] = field["value"] if field["value"] is not None else next((o for o in field["options"] if o), "")
        elif kind == "button":
            data[name] = fields[0]["value"]
        else:
            value = fields[0]["value"]
            data[name] = value if value.strip() else world["typed"].get(name, value)
    return data


def hostile_values(name, kind):
    if name == "version":
        return VERSIONS
    if kind == "date":
        return DATE_VALUES
    return TEXT_VALUES


# Fields whose value a form wants twice: a hostile new password goes in both, so it is judged as a password.
TWINS = {"new_password": "confirm", "password": "confirm"}


def with_hostile(form, data, name, kind, value):
    sent = dict(data)
    if kind == "file":
        sent[name] = (io.BytesIO(value.encode("utf-8", "surrogatepass")), "hostile.csv")
    else:
        sent[name] = value
        twin = TWINS.get(name)
        if twin and twin in data:
            sent[twin] = value
    return sent


# ---------------------------------------------------------------- sending


ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def addresses(app, ids, method):
    """Every address of the app for the method, with each of the world's ids in its arguments."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or method not in rule.methods:
            continue
        names = sorted(rule.arguments)
        unknown = set(names) - set(ids)
        assert not unknown, f"{rule.rule}: add an object for {unknown} to this test's world"
        for values in itertools.product(*(ids[name] for name in names)):
            chosen = dict(zip(names, values))
            yield rule, ARGUMENT.sub(lambda m: str(chosen[m.group(1)]), rule.rule)


def roles_of(app, endpoint) -> set[str]:
    roles = getattr(app.view_functions[endpoint], "allowed_roles", frozenset())
    return set(ROLES) if roles == "public" else set(roles)


def endpoint_of(app, path, method):
    try:
        return app.url_map.bind("localhost").match(path, method=method)[0]
    except Exception:  # noqa: BLE001 (an address no route has)
        return None


class Caught(logging.Handler):
    """The app logs an unexpected error with its traceback before answering 500: keep the last."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.last = None

    def emit(self, record):
        if record.exc_info:
            self.last = record


def tail(record_or_error) -> str:
    import traceback

    if isinstance(record_or_error, logging.LogRecord):
        lines = traceback.format_exception(*record_or_error.exc_info)
    else:
        lines = traceback.format_exception(record_or_error)
    text = "".join(lines).strip().splitlines()
    return "\n      ".join(line[:300] for line in text[-6:])


def shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}... ({len(str(value)):,} characters)"


class Sender:
    """Sends each request as a role, counts them, and keeps every 500 (or error raised) with the
    tail of its traceback, and every signed-in request that was sent to sign in again."""

    def __init__(self, app, world):
        self.app, self.count, self.failures, self.signed_out = app, 0, [], []
        self.clients = {}
        for role in ROLES:
            self.clients[role] = app.test_client()
            if role != "anonymous":
                sign_in(self.clients[role], world["users"][role])
        self.caught = Caught()
        app.logger.addHandler(self.caught)
        self.statuses = Counter()

    def close(self):
        self.app.logger.removeHandler(self.caught)

    def send(self, role, method, url, data=None, query=None, multipart=False, what=""):
        self.count += 1
        self.caught.last = None
        described = f"{method} {url} as {role}{': ' + what if what else ''}"
        try:
            if method == "GET":
                response = self.clients[role].get(url, query_string=query)
            else:
                response = self.clients[role].post(url, data=data or {},
                                                   content_type="multipart/form-data" if multipart else None)
        except Exception as error:  # noqa: BLE001 (the point is to report it)
            self.failures.append((f"{described}: raised", tail(error)))
            return None
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            trace = tail(self.caught.last) if self.caught.last else "(nothing logged)"
            self.failures.append((f"{described}: {response.status_code}", trace))
        if role != "anonymous" and response.status_code in (301, 302, 303) and "/sign-in" in (response.location or ""):
            self.signed_out.append(described)
        return response

    def check(self):
        """Every failure, grouped by the error's last line: the requests that gave it, then its traceback's tail."""
        by_error = {}
        for described, trace in self.failures:
            by_error.setdefault(trace.splitlines()[-1].strip() if trace else "", []).append((described, trace))
        report = []
        for error, cases in by_error.items():
            report.append(f"{len(cases)} requests: {error}")
            report += [f"    {described}" for described, _ in cases[:12]] + ([f"    ... and {len(cases) - 12} more"] if len(cases) > 12 else [])
            report.append(f"      {cases[0][1]}")
        assert not self.failures, f"{len(self.failures)} of {self.count} requests failed:\n" + "\n".join(report)
        assert not self.signed_out, ("signed-in requests sent to sign in again (the run lost a session):\n"
                                     + "\n".join(self.signed_out[:20]))


@pytest.fixture
def sender(app, world):
    sending = Sender(app, world)
    yield sending
    sending.close()


def discover(app, world, sender):
    """Every POST form each role is shown on any page: {(role, action, field names): (page, form)}."""
    found = {}
    for role in ROLES:
        for rule, url in addresses(app, world["ids"], "GET"):
            if role not in roles_of(app, rule.endpoint):
                continue
            response = sender.send(role, "GET", url, what="finding its forms")
            if response is None or response.status_code != 200 or response.mimetype != "text/html":
                continue
            for form in post_forms(url, response.get_data(as_text=True)):
                if form["action"] in NOT_SENT or re.match(rf"/users/({'|'.join(map(str, world['protected']))})/", form["action"]):
                    continue
                key = (role, form["action"], tuple(f["name"] for f in form["fields"]))
                found.setdefault(key, (url, form))
    return found


# ---------------------------------------------------------------- what is stored


C0_C1 = re.compile(r"[\x00-\x1f\x7f-\x9f]")
C0_C1_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
EARLIEST, LATEST = date(1900, 1, 1), date(2100, 12, 31)
# The service's own markers, never typed by anyone: each series of running totals starts with a row of zeros on date.min.
MARKERS = {("usage_days", "day"): {BEGINNING}}


def out_of_range() -> list[str]:
    """Every stored value no input should have let in, named by table, column and value."""
    problems = []
    db.session.expire_all()
    for table in db.metadata.sorted_tables:
        checked = [c for c in table.columns if isinstance(c.type, (String, Text, Integer, Numeric, Float, Date, DateTime))]
        if not checked:
            continue
        for row in db.session.execute(select(*checked)).all():
            for column, value in zip(checked, row):
                problem = None if value in MARKERS.get((table.name, column.name), ()) else bad(column, value)
                if problem:
                    problems.append(f"{table.name}.{column.name} = {shown(value)}: {problem}")
    return problems


def bad(column, value) -> str | None:
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, String) and isinstance(value, str):  # Text is a String too
        multiline = isinstance(kind, Text) or kind.length is None
        if (C0_C1_BUT_LINES if multiline else C0_C1).search(value):
            return "a control character"
        if kind.length is not None and len(value) > kind.length:
            return f"{len(value):,} characters in a String({kind.length})"
    elif isinstance(kind, Integer) and not isinstance(value, bool):
        if not isinstance(kind, BigInteger) and not -(2**31) <= value < 2**31:
            return "outside a 32-bit integer"
    elif isinstance(kind, (Numeric, Float)):
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
        if not number.is_finite():
            return "not finite"
        if isinstance(kind, Numeric) and kind.precision is not None and kind.scale is not None:
            if abs(number) >= Decimal(10) ** (kind.precision - kind.scale):
                return f"too large for Numeric({kind.precision}, {kind.scale})"
    elif isinstance(kind, (Date, DateTime)):
        day = value.date() if isinstance(value, datetime) else value
        if not EARLIEST <= day <= LATEST:
            return "a date outside 1900 to 2100"
    return None


def assert_nothing_out_of_range():
    problems = out_of_range()
    assert not problems, "stored out of range:\n" + "\n".join(problems)


# ---------------------------------------------------------------- the tests


def fuzzed_fields(form):
    """The fields to send hostile values in: all but the CSRF token, and (but in the long run) a
    form's one plain submit button, whose value no view reads."""
    chosen = []
    for name, (kind, fields) in groups(form).items():
        if name == "csrf_token" or kind == "button" and len(fields) == 1 and not LONG_RUN:
            continue
        chosen.append((name, kind))
    return chosen


def test_hostile_values_in_every_form_field_never_give_a_500_or_store_anything_out_of_range(app, world, sender):
    """Every form each role is shown, each field in turn with each hostile value; then every POST
    route straight, as each role whose pages show no form for it."""
    forms = discover(app, world, sender)
    assert len({action for _, action, _ in forms}) > 40, "fewer forms found than the service has"
    found, fields = sender.count, 0
    for (role, action, _), (page, form) in forms.items():
        data = baseline(form, world)
        chosen = fuzzed_fields(form)
        if not chosen:
            sender.send(role, "POST", action, data, multipart=form["multipart"], what=f"a form with no fields (on {page})")
        for name, kind in chosen:
            fields += 1
            for value in hostile_values(name, kind):
                response = sender.send(role, "POST", action, with_hostile(form, data, name, kind, value), multipart=form["multipart"],
                                       what=f"{name}={shown(value)} (form on {page})")
                if response is not None and 300 <= response.status_code < 400:
                    data = refreshed(sender, role, page, action, form, world) or data
    filled = sender.count
    routes = post_straight(app, world, sender, forms)
    print(f"\nforms: {found} requests to find {len(forms)} forms, {filled - found} to fill their {fields} fields, "
          f"{sender.count - filled} straight to {routes} POST routes; statuses {dict(sorted(sender.statuses.items()))}")
    sender.check()
    assert_nothing_out_of_range()


def refreshed(sender, role, page, action, form, world):
    """After a change was saved, the page's values again (a version moves on)."""
    response = sender.send(role, "GET", page, what="reading the form again")
    if response is None or response.status_code != 200 or response.mimetype != "text/html":
        return None
    names = tuple(f["name"] for f in form["fields"])
    for again in post_forms(page, response.get_data(as_text=True)):
        if again["action"] == action and tuple(f["name"] for f in again["fields"]) == names:
            return baseline(again, world)
    return None


# Fields of routes whose forms some roles are never shown (or that no page shows at all).
DIRECT = {
    "dashboards.set_threshold": ["threshold"],
    "dashboards.budgets": ["year", "weeks-residential", "unit-residential"],
    "returns.monitoring_return": ["version", "action", "value-EET", "comment-EET", "value-MFC", "comment-MFC"],
}
ANY_FORM = ["version", "note", "name", "reason", "comment", "decision", "action", "status", "value"]


def post_straight(app, world, sender, forms) -> int:
    """Each POST route, as each role whose pages show no form for it: every field the route's
    forms have anywhere (or a few any form might have) set to each hostile value at once, then
    each date alone. A role the route refuses, or someone not signed in, is sent it once.
    Returns how many routes were posted to."""
    shown_to = {(role, action) for role, action, _ in forms}
    names_of, dates_of = {}, {}
    for (_, action, _), (_, form) in forms.items():
        endpoint = endpoint_of(app, action, "POST")
        for name, (kind, _) in groups(form).items():
            if name != "csrf_token":
                names_of.setdefault(endpoint, set()).add(name)
                if kind == "date":
                    dates_of.setdefault(endpoint, set()).add(name)
    posted = Counter()
    for rule, url in addresses(app, world["ids"], "POST"):
        if url in NOT_SENT:
            continue
        names = sorted(names_of.get(rule.endpoint, set()) | set(DIRECT.get(rule.endpoint, [] if rule.endpoint in names_of else ANY_FORM)))
        dates = dates_of.get(rule.endpoint, set())
        allowed = roles_of(app, rule.endpoint)
        for role in ROLES:
            if (role, url) in shown_to:
                continue
            if role in allowed and role != "anonymous" or LONG_RUN:
                values = TEXT_VALUES + (VERSIONS if "version" in names or LONG_RUN else [])
            else:
                values = TEXT_VALUES[:1]
            for value in values:
                data = {name: [value] * 3 if name in dates else value for name in names}
                sender.send(role, "POST", url, data, what=f"every field={shown(value)}")
                posted[rule.endpoint] += 1
            for name in sorted(dates) if role in allowed else ():
                for day in DATE_VALUES:
                    sender.send(role, "POST", url, {**{n: "1" for n in names if n not in dates}, name: day}, what=f"{name}={day}")
                    posted[rule.endpoint] += 1
    assert set(DIRECT) <= set(posted), set(DIRECT) - set(posted)
    return len(posted)


class Watched(ImmutableMultiDict):
    """A request's parameters, noting each one the code of a view asks for by name. Not
    `args[key]` (nor `key in args`, which it calls), nor what a template asks for: links and
    filter boxes that keep every filter given read each key so, and that is what sending every
    filter at once tests."""

    read: set = set()

    @staticmethod
    def note(key):
        frame = sys._getframe(2)
        while frame is not None and f"{os.sep}jinja2{os.sep}" in frame.f_code.co_filename:
            frame = frame.f_back
        if frame is not None and not frame.f_code.co_filename.endswith(".html"):  # a template echoing what it was given
            Watched.read.add(key)

    def get(self, key, default=None, type=None):
        self.note(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        self.note(key)
        return super().getlist(key, type)


@pytest.fixture
def watched(app, monkeypatch):
    class WatchedRequest(app.request_class):
        parameter_storage_class = Watched

    monkeypatch.setattr(app, "request_class", WatchedRequest)
    return Watched.read


def filter_values(param):
    return TEXT_VALUES + (FILTER_DATES if param in ("from", "to") else []) + ([HUGE_PAGE] if param == "page" else [])


def test_hostile_values_in_every_filter_of_every_list_never_give_a_500_or_store_anything_out_of_range(app, world, sender, watched):
    """Each list, as each role that may use it: every filter at once with each hostile value,
    then each filter the view reads (every one of them in the long run) alone with each. Pages
    with ids are asked which filters they read (by one role, or in the long run by each) and
    sent those the same way. A role the list refuses gets it once."""
    lists = [(url, endpoint_of(app, url, "GET")) for url in LISTS]
    assert all(endpoint for _, endpoint in lists), [url for url, endpoint in lists if not endpoint]
    pages = [(url, rule.endpoint) for rule, url in addresses(app, world["ids"], "GET") if rule.arguments and url not in LISTS]
    read_by = {}
    for url, endpoint in lists + pages:
        allowed = roles_of(app, endpoint)
        for role in ROLES:
            if role not in allowed or role == "anonymous" and allowed != set(ROLES):
                if url in LISTS or LONG_RUN:
                    sender.send(role, "GET", url, query={param: TEXT_VALUES[1] for param in FILTERS}, what="every filter=NaN")
                continue
            if url not in LISTS and not LONG_RUN and any((url, other) in read_by for other in ROLES):
                continue  # a page with ids: by default one role finds which filters it reads
            watched.clear()
            for value in TEXT_VALUES if url in LISTS else TEXT_VALUES[1:2]:  # every filter at once, as a shared link might carry them
                sender.send(role, "GET", url, query={param: value for param in FILTERS}, what=f"every filter={shown(value)}")
            if url in LISTS:
                sender.send(role, "GET", url, query={"from": "9999-12-31", "to": "0001-01-01", "page": HUGE_PAGE},
                            what="from after to, page 10**30")
            read = set(watched) | (set(FILTERS) if LONG_RUN and url in LISTS else set())
            read_by[(url, role)] = sorted(read)
            for param in sorted(read):
                for value in filter_values(param):
                    if value in (TEXT_VALUES[0], LONG_TEXT) and not LONG_RUN:
                        continue  # refused for any parameter before any view looks (sent above, every filter at once)
                    sender.send(role, "GET", url, query={param: value}, what=f"{param}={shown(value)}")
    print(sorted(set().union(*read_by.values()) - set(FILTERS)))
    assert sum(bool(read) for read in read_by.values()) > 30, "the views read fewer filters than the lists have"
    print(f"\nfilters: {sender.count} requests over {len(lists)} lists and {len(pages)} pages with ids; "
          f"statuses {dict(sorted(sender.statuses.items()))}")
    sender.check()
    assert_nothing_out_of_range()


def test_ids_too_large_for_their_column_are_simply_not_found(app, world, sender):
    """Every page with a number in its address, as each role that may use it, with that number
    2**63 and 10**30: a 404, never a database error."""
    not_found = []
    for rule in app.url_map.iter_rules():
        numbered = [name for name, converter in rule._converters.items() if isinstance(converter, NumberConverter)]
        if rule.endpoint == "static" or "GET" not in rule.methods or not numbered:
            continue
        for name, huge in itertools.product(numbered, HUGE_IDS):
            chosen = {argument: world["ids"][argument][0] for argument in rule.arguments} | {name: huge}
            url = ARGUMENT.sub(lambda m: str(chosen[m.group(1)]), rule.rule)
            for role in sorted(roles_of(app, rule.endpoint) - {"anonymous"}):
                response = sender.send(role, "GET", url)
                if response is not None and response.status_code != 404:
                    not_found.append(f"GET {url} as {role}: {response.status_code}")
    print(f"\nhuge ids: {sender.count} requests")
    sender.check()
    assert sender.count > 50, "fewer pages with ids than the service has"
    assert not not_found, "\n".join(not_found)
    assert_nothing_out_of_range()
