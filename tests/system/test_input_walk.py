"""Hostile values in every form field of every route and every filter of every list, as each role
of a consortium that owns what the pages show: never a 500, and afterwards nothing out of range is
stored anywhere in the database.

The forms are found by asking every page the app has (its routes come from the URL map) and
reading the forms it renders; each field is then sent, one at a time, with each hostile value
while the others keep the page's own values. By default a few values per field; with
`HYPOTHESIS_PROFILE=fuzz` every one of them (a few minutes)."""

from __future__ import annotations

import math
import os
import re
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from sqlalchemy import BigInteger, Date, Integer, Numeric, String, Text, select

from consortium.core import services
from consortium.core.extensions import db
from consortium.core.inputs import control_character
from consortium.recharges import services as recharges
from contracts import returns
from contracts.summaries import BEGINNING
from tests.conftest import sign_in
from tests.factories import (
    AdmissionFactory,
    AuthorityFactory,
    BlockPriceFactory,
    ConsortiumFactory,
    ContractFactory,
    FlagFactory,
    HomeFactory,
    LotFactory,
    PlacementFactory,
    PlacementFeeFactory,
    PriceFactory,
    ProviderFactory,
    UserFactory,
    lead,
    partner,
)

FULL = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
TEXT = ["a\x00b", "NaN", "sNaN", "1e20", "x" * 100_000]
TEXT_FULL = TEXT + ["x\x07y", "Infinity", "-Infinity", "99999999999999999999999", "-1", "£1,000,000,000"]
DATES = [["31", "12", "9999"]]
DATES_FULL = DATES + [["1", "1", "1"], ["1", "1", "0001"]]
VERSIONS = ["", "-1", "99999999999999999999"]
# Routes whose forms end the session or the account the walk goes on with.
SKIP = {
    "auth.sign_out",
    "core.deactivate_user",
    "core.reset_two_factor",
    "auth.set_up_two_factor",
    "auth.turn_off_two_factor",
    "auth.sign_in",
    "auth.sign_in_code",
    "auth.change_password",
    "core.reset_password",
}
FILTERS = [
    "page",
    "kind",
    "status",
    "provider",
    "contract",
    "authority",
    "home",
    "from",
    "to",
    "user",
    "type",
    "object",
    "action",
    "q",
    "provision_type",
    "local_authority",
    "judgement",
    "year",
]


class Forms(HTMLParser):
    """The POST forms of a page: action and fields (name to values, as a browser would send)."""

    def __init__(self):
        super().__init__()
        self.forms, self._form, self._select = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "get").lower() == "post":
            self._form = {"action": a.get("action"), "fields": {}, "kinds": {}}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("radio", "checkbox"):
                self._form["fields"].setdefault(a["name"], [a.get("value", "on")])
            elif kind != "file":
                self._form["fields"].setdefault(a["name"], []).append(a.get("value") or "")
            self._form["kinds"][a["name"]] = kind
        elif tag == "textarea" and a.get("name"):
            self._form["fields"][a["name"]] = [""]
            self._form["kinds"][a["name"]] = "textarea"
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form["fields"][self._select] = [""]
            self._form["kinds"][self._select] = "select"
        elif tag == "option" and self._select and a.get("value") and self._form["fields"][self._select] == [""]:
            self._form["fields"][self._select] = [a["value"]]
        elif tag == "button" and a.get("formaction"):
            self.forms.append(
                {"action": a["formaction"], "fields": dict(self._form["fields"]), "kinds": self._form["kinds"]}
            )

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


@pytest.fixture
def owned():
    """A consortium and everything its pages show, with a user of each role who may act on it."""
    today = date.today()
    nottingham = AuthorityFactory(code="E06000018", name="Nottingham")
    consortium = ConsortiumFactory(ref="EMRF", members=[nottingham])
    provider = ProviderFactory(name="Oak Ltd")
    home = HomeFactory(urn="SC100001", provider=provider)
    block = ContractFactory(
        ref="BLOCK",
        consortium=consortium,
        provider=provider,
        beds=4,
        start_date=today - timedelta(days=400),
        end_date=today + timedelta(days=700),
        max_end_date=today + timedelta(days=1000),
    )
    block.homes.append(home)
    BlockPriceFactory(contract=block, weekly_pence=350000, effective_from=block.start_date)
    framework = ContractFactory(
        ref="FW",
        kind="framework",
        consortium=consortium,
        start_date=today - timedelta(days=400),
        end_date=today + timedelta(days=300),
        max_end_date=today + timedelta(days=1000),
    )
    admission = AdmissionFactory(lot=LotFactory(contract=framework, name="Residential"), provider=provider)
    PriceFactory(admission=admission, effective_from=framework.start_date)
    placement = PlacementFactory(
        authority=nottingham, child_ref="NOT-1", contract=block, home=home, start_date=today - timedelta(days=30)
    )
    spot = PlacementFactory(
        authority=nottingham, child_ref="NOT-2", home=HomeFactory(), start_date=today - timedelta(days=60)
    )
    PlacementFeeFactory(placement=spot)
    outcomes = returns.attach(block, returns.starter_template())
    period = returns.period_label(returns.parse_period(returns.period_label(today - timedelta(days=120)))[0])
    monitoring_return = returns.save(outcomes, provider, period, {"EET": "90"}, {}, None, today, submit=False)
    pool = recharges.create_pool(
        consortium, "Pool", today - timedelta(days=200), today - timedelta(days=10), 100000, "equal"
    )
    recharges.draft_statements(pool)
    recharges.issue(pool, today)
    flag = FlagFactory(
        kind="underused_block_beds", subject=block.ref, subject_key=block.ref, contract=block, provider=provider
    )
    users = {
        "lead": lead(consortium),
        "partner": partner(nottingham),
        "provider": UserFactory(provider=provider, account_manager=True),
        "admin": UserFactory(role="admin"),
    }
    asked = services.request_membership(consortium, AuthorityFactory().code, today, None, users["lead"], "http://test")
    ids = {
        "consortium_id": consortium.id,
        "membership_id": consortium.memberships[-1].id,
        "contract_id": block.id,
        "lot_id": framework.lots[0].id,
        "admission_id": admission.id,
        "placement_id": placement.id,
        "indicator_id": outcomes.indicators[0].id,
        "return_id": monitoring_return.id,
        "provider_id": provider.id,
        "period": period,
        "pool_id": pool.id,
        "statement_id": pool.statements[0].id,
        "flag_id": flag.id,
        "user_id": users["partner"].id,
        "urn": home.urn,
        "code": nottingham.code,
        "fmt": "csv",
        "table": "placements",
        "action": "acknowledge",
        "request_id": asked.id,
        "decision": "accept",
        "token": "not-a-token",
        "upload_id": 1,
    }
    db.session.commit()
    return users, ids


def urls(app, ids):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods or set(rule.arguments) - set(ids):
            continue
        yield rule.endpoint, re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(ids[m.group(1)]), rule.rule)


def hostile(kind: str, current: list[str]) -> list:
    if len(current) == 3 and kind in ("text", "number"):
        return DATES_FULL if FULL else DATES  # a GOV.UK date input: day, month and year boxes
    if kind == "hidden":
        return [[v] for v in VERSIONS]
    return [[v] for v in (TEXT_FULL if FULL else TEXT)]


def test_hostile_values_in_every_form_field_never_give_a_500_or_store_anything_out_of_range(app, client, owned):
    users, ids = owned
    posted = 0
    for role, user in users.items():
        for endpoint, url in urls(app, ids):
            if endpoint in SKIP:
                continue
            sign_in(client, user)
            page = client.get(url)
            assert page.status_code < 500, (role, url, page.status_code)
            if page.status_code != 200 or "html" not in page.mimetype:
                continue
            parser = Forms()
            parser.feed(page.get_data(as_text=True))
            for form in parser.forms:
                action = form["action"] or url
                if any(action.startswith(f"/{skipped}") for skipped in ("sign-out",)) or "deactivate" in action:
                    continue
                for name, current in form["fields"].items():
                    if name == "csrf_token":
                        continue
                    for value in hostile(form["kinds"].get(name, "text"), current):
                        sign_in(client, user)
                        response = client.post(action, data={**form["fields"], name: value})
                        posted += 1
                        assert response.status_code < 500, (
                            role,
                            url,
                            action,
                            name,
                            str(value)[:40],
                            response.status_code,
                        )
    # Forms a page builds by hand, and forms another role's page shows.
    by_hand = [
        ("lead", "/value-for-money/threshold", {"threshold": None}),
        ("partner", "/budgets", {"weeks-residential": None, "unit-residential": "4000"}),
        ("partner", "/budgets", {"weeks-residential": "10", "unit-residential": None}),
        (
            "provider",
            f"/contracts/{ids['contract_id']}/returns/{ids['provider_id']}/{ids['period']}",
            {"action": "draft", "value-EET": None, "comment-EET": "fine"},
        ),
        (
            "provider",
            f"/contracts/{ids['contract_id']}/returns/{ids['provider_id']}/{ids['period']}",
            {"action": "draft", "value-EET": "90", "comment-EET": None},
        ),
    ]
    for role, url, data in by_hand:
        for value in TEXT_FULL if FULL else TEXT:
            sign_in(client, users[role])
            response = client.post(url, data={key: value if given is None else given for key, given in data.items()})
            posted += 1
            assert response.status_code < 500, (role, url, str(value)[:40], response.status_code)
    assert posted > 500  # the walk found the forms
    assert_nothing_out_of_range()


def test_hostile_values_in_every_filter_of_every_list_never_give_a_500(app, client, owned):
    users, ids = owned
    values = (
        TEXT_FULL + ["0001-01-01", "9999-12-31", str(10**30)]
        if FULL
        else ["a\x00b", "NaN", "9999-12-31", "0001-01-01", str(10**30)]
    )
    lists = [
        (rule.endpoint, rule.rule)
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and rule.endpoint not in SKIP | {"static"}
    ]
    asked = 0
    # By default every filter at once has the value (each is read on its own); the long profile
    # sends each filter alone.
    queries = (
        [{name: value} for name in FILTERS for value in values]
        if FULL
        else [{name: value for name in FILTERS} for value in values]
    )
    for role, user in users.items():
        sign_in(client, user)
        for endpoint, url in lists:
            for query in queries:
                response = client.get(url, query_string=query)
                asked += 1
                assert response.status_code < 500, (role, url, str(query)[:80], response.status_code)
    assert asked > 300
    for url in ("/placements/{}", "/contracts/{}", "/flags/{}", "/statements/{}", "/recharges/{}"):
        for huge in (2**63, 10**30):
            sign_in(client, users["lead"])
            assert client.get(url.format(huge)).status_code == 404, url


def assert_nothing_out_of_range():
    """Every column of every table holds only what the service accepts."""
    db.session.expire_all()
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Integer, Numeric, Date))]
        if not columns or table.name in ("calendar",):
            continue
        for row in db.session.execute(select(*columns)):
            for column, value in zip(columns, row):
                if value is None:
                    continue
                where = f"{table.name}.{column.name} = {str(value)[:60]!r}"
                if isinstance(column.type, String):
                    multiline = isinstance(column.type, Text)
                    assert not control_character(value, multiline=multiline), where
                    assert column.type.length is None or len(value) <= column.type.length, where
                elif isinstance(column.type, Numeric) and isinstance(value, Decimal):
                    assert value.is_finite() and abs(value) < Decimal("1e10"), where
                elif isinstance(column.type, Integer) and not isinstance(column.type, BigInteger):
                    assert isinstance(value, bool) or abs(value) <= 2**31 - 1, where
                elif isinstance(column.type, Date):
                    if table.name == "usage_days" and value == BEGINNING:
                        continue  # the running totals' row of zeros, the summaries' own
                    earliest = date(1900, 1, 1) if column.name == "registration_date" else date(2000, 1, 1)
                    assert earliest <= value <= date(2100, 12, 31), where
                if isinstance(value, float):
                    assert math.isfinite(value), where
