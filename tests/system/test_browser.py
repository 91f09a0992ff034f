"""End to end in a real browser: Debian's Chromium driven by Playwright, with axe-core checking
the main pages for accessibility.

The app is served on 127.0.0.1 (a free port) by a werkzeug server in a thread, against the test
database with the demo seeded into it, CSRF protection on as in production. Its requests join the
test's transaction like the test client's do, so whatever the browser changes is rolled back when
the test ends. The browser signs in through the sign-in form. The journeys run with the app's
Content-Security-Policy enforced and fail on any script error or refused request; only the axe checks
bypass the policy, to inject axe. Screenshots of each journey's steps are written to
test-artifacts/screenshots/ (not committed).

Chromium must be at /usr/bin/chromium (`apt-get install chromium`; `.ci/run` installs it) and
axe-core in node_modules (`npm ci`, which `make test` runs): without them these tests fail, they
never skip, and no browser is ever downloaded.
"""

import csv
import re
import threading
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import or_, select
from werkzeug.serving import WSGIRequestHandler, make_server

from audits.models import Flag
from consortium.core.extensions import db
from consortium.core.models import Authority, Consortium, Membership, User
from consortium.core.sql import quarter_of
from consortium.dashboards import services as dashboards
from consortium.demo import DEMO_PASSWORD, PARTNER_CODE
from consortium.recharges import services as recharges
from consortium.recharges.models import CostPool, Statement
from contracts import usage
from contracts.models import Contract, MonitoringReturn, Placement, UsageSeries
from providers.models import Provider
from tests.factories import PASSWORD, PlacementFactory, provider_user

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
BLOCK = "EM-BLOCK-RES"  # the demo's block contract, with its underused beds and Oakleaf's overdue return
# The block's newest return is left unsubmitted: overdue, or still due in the 30 days after its quarter ends.
TO_DO = re.compile(r"^\s*(Overdue|Due)\s*$")


# ---------------------------------------------------------------- the server and the browser


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class LiveServer:
    """The app on a free port, one request at a time. `lock` is held while a request runs, so a
    test can wait for the server to be idle before its transaction is rolled back."""

    def __init__(self, app):
        self.lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._serialised(app), threaded=False, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="browser-test-server", daemon=True)

    def _serialised(self, app):
        def serve(environ, start_response):
            with self.lock:
                return app(environ, start_response)

        return serve

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()


@pytest.fixture(scope="module")
def server(app):
    with LiveServer(app) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does. "
            "These tests never download a browser.",
            pytrace=False,
        )
    if not AXE.is_file():
        pytest.fail(f"{AXE.relative_to(ROOT)} is missing: run `npm ci` (make test does)", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def demo(runner, csrf_app):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output


class Tab:
    """A page in a browser context of its own (its own cookies), with the script errors it met."""

    def __init__(self, page):
        self.page = page
        self.errors = []
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"{page.url}: {message.text}")
                if message.type == "error" and not message.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.on(
            "response",
            lambda response: (
                self.errors.append(f"{response.url}: {response.status}")
                if response.status >= 400 and not response.url.endswith("/favicon.ico")
                else None
            ),
        )


@pytest.fixture
def open_tab(browser, server, demo):
    contexts = []

    def open_(axe=False):
        # Only for axe is the app's Content-Security-Policy bypassed: it is injected into every page.
        context = browser.new_context(base_url=server.url, bypass_csp=axe, viewport={"width": 1200, "height": 900})
        context.set_default_timeout(10_000)
        if axe:
            context.add_init_script(path=AXE)
        contexts.append(context)
        return Tab(context.new_page())

    yield open_
    for context in contexts:
        context.close()
    with server.lock:  # no request still running when the test's transaction is rolled back
        pass


def sign_in(page, email):
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".app-header__who")).to_have_text(email)


def menu(page, name):
    page.get_by_role("navigation", name="Menu").get_by_role("link", name=name, exact=True).click()


def summary(page, key):
    """The value beside `key` in the page's summary list."""
    row = page.locator(".govuk-summary-list__row").filter(
        has=page.locator("dt", has_text=re.compile(rf"^\s*{re.escape(key)}\s*$"))
    )
    return row.locator("dd").first


def snap(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


# ---------------------------------------------------------------- journeys


def test_a_lead_finds_the_underused_beds_flag_and_acknowledges_it_with_a_note(open_tab):
    tab = open_tab()
    page = tab.page
    sign_in(page, "lead@demo.test")
    menu(page, "Flags")
    expect(page.get_by_role("heading", name="Flags", level=1)).to_be_visible()
    page.get_by_label("Kind").select_option("underused_block_beds")
    page.get_by_role("button", name="Apply filters").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=BLOCK))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Open")
    snap(page, "a-1-flags-underused-beds")

    row.get_by_role("link", name="Underused block beds").click()
    expect(page.get_by_role("heading", name=BLOCK, level=1)).to_be_visible()
    expect(summary(page, "Status")).to_have_text("Open")
    expect(page.locator("main p.govuk-body-l")).to_contain_text("void bed-nights")
    note = "Asked Nottingham to offer the two empty beds to members first"
    page.get_by_label("Note").fill(note)
    snap(page, "a-2-flag-with-note")
    page.get_by_role("button", name="Acknowledge").click()

    expect(page.locator(".govuk-notification-banner")).to_contain_text("Flag acknowledged")
    expect(summary(page, "Status")).to_have_text("Acknowledged")
    expect(summary(page, "Acknowledged")).to_contain_text(f"by lead@demo.test: {note}")
    history = page.get_by_role("row").filter(has_text="lead@demo.test")
    expect(history).to_have_count(1)
    expect(history).to_contain_text("Acknowledged")
    expect(history).to_contain_text(note)
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)  # only Resolve is left
    snap(page, "a-3-flag-acknowledged")

    page.get_by_role("link", name="All flags").click()
    page.get_by_label("Kind").select_option("underused_block_beds")
    page.get_by_label("Status").select_option("acknowledged")
    page.get_by_role("button", name="Apply filters").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=BLOCK))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Acknowledged")
    snap(page, "a-4-flags-acknowledged")
    assert tab.errors == []


def test_a_partner_records_a_placement_sees_it_listed_and_downloads_a_statement(open_tab):
    tab = open_tab()
    page = tab.page
    sign_in(page, "partner@demo.test")
    menu(page, "Placements")
    page.get_by_role("button", name="Record a placement").click()
    expect(page.get_by_role("heading", name="Record a placement", level=1)).to_be_visible()

    # A spot purchase in Orchard House (SC910016), starting today, so first in the list.
    today = date.today()
    page.get_by_label("Child reference").fill("NOTT-E2E-0001")
    page.get_by_label("Contract").select_option("")
    page.get_by_label("Or another home's URN").fill("SC910016")
    page.get_by_label("Placement type").select_option("residential")
    page.get_by_label("Need level").select_option("high")
    page.get_by_label("Day", exact=True).fill(str(today.day))
    page.get_by_label("Month", exact=True).fill(str(today.month))
    page.get_by_label("Year", exact=True).fill(str(today.year))
    page.get_by_label("Weekly fee (£)").fill("5150.00")
    page.get_by_label("Age at start (years)").fill("14")
    page.get_by_label("Distance from home authority (miles)").fill("6.5")
    snap(page, "b-1-placement-form")
    page.get_by_role("button", name="Record placement").click()

    expect(page.locator(".govuk-notification-banner")).to_contain_text("Placement of NOTT-E2E-0001 recorded")
    expect(page.get_by_role("heading", level=1)).to_contain_text("NOTT-E2E-0001")
    expect(page.get_by_text("Orchard House").first).to_be_visible()
    snap(page, "b-2-placement-recorded")

    menu(page, "Placements")
    row = page.get_by_role("row").filter(has_text="NOTT-E2E-0001")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Orchard House")
    expect(row).to_contain_text("£5,150.00")
    snap(page, "b-3-placements-list")

    menu(page, "Usage and recharges")
    statement = page.get_by_role("row").filter(has_text="Paid").first
    number = statement.get_by_role("cell").first.inner_text().strip()
    assert re.fullmatch(r"EMRF-\d{4}-\d{4}", number), number
    snap(page, "b-4-statements")
    with page.expect_download() as download:
        statement.get_by_role("link", name=re.compile(r"^PDF")).click()
    assert download.value.suggested_filename == f"{number}.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    assert tab.errors == []


def open_the_return_to_do(page, snapshot: str = "") -> str:
    """The provider signs in and opens the block's return still to do from *Returns*; its quarter as shown."""
    sign_in(page, "provider@demo.test")
    menu(page, "Returns")
    row = (
        page.get_by_role("row")
        .filter(has=page.get_by_role("link", name=BLOCK))
        .filter(has=page.locator(".govuk-tag", has_text=TO_DO))
    )
    expect(row).to_have_count(1)
    if snapshot:
        snap(page, snapshot)
    period = row.get_by_role("link").first.inner_text().strip()
    row.get_by_role("link", name=period).click()
    expect(page.get_by_role("heading", name=f"Monitoring return for {period}", level=1)).to_be_visible()
    return period


def test_a_provider_uploads_a_monitoring_return_and_sees_its_results_by_rag(open_tab, tmp_path):
    tab = open_tab()
    page = tab.page
    period = open_the_return_to_do(page, snapshot="c-1-returns-overdue")
    expect(page.locator("p .govuk-tag")).to_have_text(TO_DO)

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV", exact=True).click()
    assert (
        download.value.suggested_filename == f"{BLOCK}-{period.split()[0]}-return.csv"
    )  # the link reads "2026-Q2 (Jul to Sep 2026)"
    with open(download.value.path(), encoding="utf-8-sig", newline="") as template:
        rows = list(csv.DictReader(template))
    values = {
        "EET": "96",
        "HEALTH": "90",
        "MFC": "6",
        "UNPLANNED": "0",
        "VIEWS": "100",
        "L3": "85",
        "NOTIFIABLE": "1",
        "COMPLAINTS": "0",
    }
    assert sorted(row["indicator_code"] for row in rows) == sorted(values)
    for line in rows:
        line["value"] = values[line["indicator_code"]]
    line["comment"] = "Filled in from the template"
    filled = tmp_path / "return.csv"
    with open(filled, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    page.get_by_label("Completed template").set_input_files(filled)
    snap(page, "c-2-return-file-chosen")
    page.get_by_role("button", name="Upload and check").click()

    # Check your answers: nothing is locked until the provider confirms.
    expect(page.locator("h1")).to_contain_text("Check your")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Filled in from the template")
    snap(page, "c-3-check-return")
    page.get_by_role("button", name="Submit the return").click()

    expect(page.locator(".govuk-notification-banner")).to_contain_text("Return submitted")
    expect(page.locator("p .govuk-tag")).to_have_text("Submitted")
    results = page.locator("table")
    expect(results.locator("caption")).to_contain_text("Version 1, submitted")
    for indicator, colour, tag in [
        ("Missing-from-care episodes", "red", "red"),
        ("Health assessments up to date", "amber", "orange"),
        ("Children in education, employment or training", "green", "green"),
    ]:
        cell = results.get_by_role("row").filter(has_text=indicator).locator(".govuk-tag")
        expect(cell).to_have_class(re.compile(rf"\bgovuk-tag--{tag}\b"))
        expect(cell).to_contain_text(f"({colour})")
    expect(
        results.get_by_role("row").filter(has_text="Missing-from-care episodes").locator(".govuk-tag")
    ).to_contain_text("6")
    expect(page.get_by_label("Completed template")).to_have_count(0)  # submitted returns are locked
    snap(page, "c-3-return-submitted-with-rag")
    assert tab.errors == []


def _pounds(pence: int) -> str:
    return f"£{pence // 100:,}.{pence % 100:02d}"


def _percent(part: int, whole: int) -> str:
    return f"{(Decimal(part) * 100 / Decimal(whole)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


def test_a_lead_issues_statements_from_the_check_page_and_is_refused_figures_that_changed_after_checking(
    open_tab, server
):
    # A pool of last quarter's brokerage cost shared by placements started: its period has ended,
    # so it can be issued today. Its amount divides into whole pence per placement both before
    # and after the placement added below, so every figure on the page is known exactly here.
    today = date.today()
    first, last = quarter_of(quarter_of(today)[0] - timedelta(days=1))
    consortium = db.session.scalar(select(Consortium).where(Consortium.ref == "EMRF"))
    framework = db.session.scalar(select(Contract).where(Contract.ref == "EMRF-RES"))
    nottingham = db.session.get(Authority, PARTNER_CODE)
    started = usage.placements_started(consortium.id, first, last)
    members = sorted(
        set(
            db.session.scalars(
                select(Membership.authority_code).where(
                    Membership.consortium_id == consortium.id,
                    Membership.joined <= last,
                    or_(Membership.left.is_(None), Membership.left >= first),
                )
            )
        )
    )
    before = sum(started.get(code, 0) for code in members)
    assert before > 0 and PARTNER_CODE in members, (started, members)
    amount = before * (before + 1) * 10_000
    with server.lock:
        pool = recharges.create_pool(consortium, "Brokerage team, last quarter", first, last, amount, "placements")
        recharges.draft_statements(pool)
        db.session.flush()
        names = dict(
            db.session.execute(select(Authority.code, Authority.name).where(Authority.code.in_(members))).all()
        )

    def figures(usage_by_code, total):
        return {
            code: [
                f"{names[code]} ({code})",
                f"{usage_by_code.get(code, 0):,} of {total:,}",
                _percent(usage_by_code.get(code, 0), total),
                _pounds(amount * usage_by_code.get(code, 0) // total),
            ]
            for code in members
        }

    def expect_figures(page, expected):
        table = page.locator("main table")
        for code, cells in expected.items():
            expect(table.get_by_role("row").filter(has_text=f"({code})").locator("td")).to_have_text(cells)
        expect(table.locator("tbody tr").last.locator("td")).to_have_text(["Total", "", "", _pounds(amount)])

    tab = open_tab()
    page = tab.page
    sign_in(page, "lead@demo.test")
    menu(page, "Recharges")
    page.get_by_role("link", name="Brokerage team, last quarter").click()
    expect(page.get_by_role("heading", name="Brokerage team, last quarter", level=1)).to_be_visible()
    page.get_by_role("button", name="Check and issue the statements").click()

    expect(page).to_have_title(re.compile(r"^Check the statements before you issue them"))
    expect(page.get_by_role("heading", name="Check the statements before you issue them", level=1)).to_be_visible()
    expect(summary(page, "Shared")).to_have_text(f"{_pounds(amount)}: shared by placements started")
    expect(page.locator("#statements")).to_contain_text(f"{len(members)} statements")
    expect_figures(page, figures(started, before))
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    checked = page.locator("input[name=fingerprint]").input_value()
    assert re.fullmatch(r"[0-9a-f]{32}", checked), checked
    snap(page, "d-1-check-statements")

    # Nottingham's late-recorded placement, started in the quarter, lands while the lead is reading.
    with server.lock:
        placed = db.session.scalar(
            select(Placement).where(Placement.contract_id == framework.id, Placement.home_id.is_not(None))
        )
        PlacementFactory(
            authority=nottingham,
            child_ref="NOTT-E2E-LATE",
            contract=framework,
            lot_id=placed.lot_id,
            home_id=placed.home_id,
            start_date=first + timedelta(days=20),
        )
        db.session.flush()
    now = {**started, PARTNER_CODE: started.get(PARTNER_CODE, 0) + 1}
    page.get_by_role("button", name=f"Issue {len(members)} statements").click()

    expect(page).to_have_title(re.compile(r"^Error: Check the statements before you issue them"))
    problem = page.locator(".govuk-error-summary")
    expect(problem).to_contain_text("There is a problem")
    link = problem.get_by_role(
        "link",
        name="The figures changed since you checked them, so nothing was issued. "
        "These are the figures now: check them again.",
    )
    expect(link).to_have_attribute("href", "#statements")
    expect(problem).to_be_focused()
    expect_figures(page, figures(now, before + 1))
    expect(page.locator("input[name=fingerprint]")).not_to_have_value(checked)
    snap(page, "d-2-figures-changed")
    with server.lock:
        db.session.expire_all()
        statuses = db.session.execute(
            select(Statement.status, Statement.number).where(Statement.pool_id == pool.id)
        ).all()
    assert statuses and set(statuses) == {("draft", None)}, statuses

    page.get_by_role("button", name=f"Issue {len(members)} statements").click()
    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text(
        re.compile(rf"{len(members)} statements issued, EMRF-{today.year}-\d{{4}} to EMRF-{today.year}-\d{{4}}")
    )
    expect(page.get_by_role("heading", name="Brokerage team, last quarter", level=1)).to_be_visible()
    with server.lock:
        db.session.expire_all()
        issued = db.session.scalars(
            select(Statement).where(Statement.pool_id == pool.id).order_by(Statement.number)
        ).all()
    # Exactly the figures shown the second time, numbered one after another.
    assert [(s.authority_code, s.status, s.issued_on, s.usage, s.consortium_usage, s.amount_pence) for s in issued] == [
        (code, "issued", today, now.get(code, 0), before + 1, amount * now.get(code, 0) // (before + 1))
        for code in sorted(members)
    ]
    numbers = [s.number for s in issued]
    serials = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert serials == list(range(serials[0], serials[0] + len(members))), numbers
    expect(banner).to_contain_text(f"{len(members)} statements issued, {numbers[0]} to {numbers[-1]}")
    table = page.locator("main table")
    for statement in issued:
        row = table.get_by_role("row").filter(has=page.get_by_role("link", name=statement.number, exact=True))
        expect(row.locator("td")).to_have_text(
            [
                statement.number,
                names[statement.authority_code],
                "Issued",
                f"{statement.usage:,} of {before + 1:,}",
                _percent(statement.usage, before + 1),
                _pounds(statement.amount_pence),
            ]
        )
    expect(page.get_by_role("button", name="Check and issue the statements")).to_have_count(0)
    snap(page, "d-3-statements-issued")
    # The refused issue answered 409 Conflict; nothing else failed.
    assert tab.errors == [f"{server.url}/recharges/{pool.id}/issue: 409"]


def test_a_provider_is_shown_each_wrong_value_of_a_return_beside_its_field_and_nothing_is_submitted(open_tab, server):
    tab = open_tab()
    page = tab.page
    period = open_the_return_to_do(page)
    code = period.split()[0]
    with server.lock:
        block = db.session.scalar(select(Contract).where(Contract.ref == BLOCK))
        oakleaf = db.session.scalar(select(Provider).where(Provider.name.like("Oakleaf%")))
        where = (
            MonitoringReturn.contract_id == block.id,
            MonitoringReturn.provider_id == oakleaf.id,
            MonitoringReturn.period == code,
        )
        assert db.session.scalar(select(MonitoringReturn.status).where(*where)) is None  # the demo leaves it missing

    values = {
        "Children in education, employment or training (EET)": "abc",
        "Health assessments up to date (HEALTH)": "90",
        "Missing-from-care episodes (MFC)": "-2",
        "Placement endings not planned (UNPLANNED)": "0",
        "Children whose views were sought at review (VIEWS)": "100",
        "Staff with the Level 3 diploma (L3)": "85",
        "Notifiable incidents (NOTIFIABLE)": "1",
        "Complaints (COMPLAINTS)": "0",
    }
    for legend, value in values.items():
        page.get_by_role("group", name=legend).get_by_label("Value").fill(value)
    page.get_by_role("button", name="Continue to check and submit").click()

    expect(page).to_have_title(re.compile(rf"^Error: {re.escape(period)} return for {BLOCK}"))
    expect(page.get_by_role("heading", name=f"Monitoring return for {period}", level=1)).to_be_visible()
    problems = page.locator(".govuk-error-summary")
    expect(problems.locator(".govuk-error-summary__title")).to_have_text("There is a problem")
    expect(problems.locator(".govuk-error-summary__list li")).to_have_count(2)
    expect(problems.locator(".govuk-error-summary__list li a")).to_have_count(2)
    expect(page.locator(".govuk-error-message")).to_have_count(2)  # no field but these two is marked
    expect(problems).to_be_focused()  # as GOV.UK Frontend does on load, so a screen reader reads it first
    snap(page, "e-1-return-with-two-errors")
    wrong = [
        ("value-EET", "abc", "EET: 'abc' is not a number"),
        ("value-MFC", "-2", "MFC: a count is a whole number of 0 or more, not -2"),
    ]
    for (field, typed, message), item in zip(wrong, problems.locator(".govuk-error-summary__list li").all()):
        link = item.get_by_role("link")
        expect(link).to_have_text(message)
        expect(link).to_have_attribute("href", f"#{field}")
        box = page.locator(f"#{field}")
        expect(box).to_have_value(typed)  # what the provider typed is kept, to correct
        expect(box).to_have_attribute("aria-describedby", f"{field}-error")
        group = page.locator(".govuk-form-group").filter(has=box)
        expect(group).to_have_class(re.compile(r"\bgovuk-form-group--error\b"))
        expect(group.locator(".govuk-error-message")).to_have_text(f"Error: {message}")
        expect(group.locator(".govuk-error-message")).to_have_attribute("id", f"{field}-error")
        page.evaluate("window.scrollTo(0, 0)")
        link.click()
        expect(box).to_be_focused()
        expect(box).to_be_in_viewport()
    snap(page, "e-2-return-error-followed")

    with server.lock:
        db.session.expire_all()
        assert (
            db.session.scalar(select(MonitoringReturn.status).where(*where)) is None
        )  # nothing saved, let alone submitted

    # Corrected, the same values go on to the check: those two were the only problems.
    page.locator("#value-EET").fill("96")
    page.locator("#value-MFC").fill("2")
    page.get_by_role("button", name="Continue to check and submit").click()
    expect(page.locator("h1")).to_contain_text("Check your")
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    with server.lock:
        db.session.expire_all()
        assert db.session.scalar(select(MonitoringReturn.status).where(*where)) == "draft"  # locked only once confirmed
    assert tab.errors == [f"{server.url}/contracts/{block.id}/returns/{oakleaf.id}/{code}: 400"]


# ---------------------------------------------------------------- accessibility


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']}; "
        + "; ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _pages() -> dict[str, list[str]]:
    """The main pages, each under the role that sees most of it, found in the demo."""
    block = db.session.scalar(select(Contract).where(Contract.ref == BLOCK))
    framework = db.session.scalar(select(Contract).where(Contract.ref == "EMRF-RES"))
    oakleaf = db.session.scalar(select(Provider).where(Provider.name.like("Oakleaf%")))
    underused = db.session.scalar(select(Flag).where(Flag.kind == "underused_block_beds"))
    drop = db.session.scalar(select(Flag).where(Flag.kind == "quality_drop", Flag.subject == "SC910001"))
    pool = db.session.scalar(
        select(CostPool).where(CostPool.id.in_(select(Statement.pool_id).where(Statement.status != "draft")))
    )
    statement = db.session.scalar(
        select(Statement).where(Statement.authority_code == "E06000018", Statement.status != "draft")
    )
    waiting = db.session.scalar(select(MonitoringReturn).where(MonitoringReturn.status == "submitted"))
    return {
        "admin": ["/"],
        "lead": [
            "/",
            "/dashboard",
            "/flags",
            f"/flags/{underused.id}",
            "/placements",
            f"/contracts/{block.id}",
            f"/contracts/{framework.id}",
            "/returns",
            f"/contracts/{waiting.contract_id}/returns/{waiting.provider_id}/{waiting.period}",
            f"/recharges/{pool.id}",
            f"/providers/{oakleaf.id}",
            "/homes/SC910001",
        ],
        "partner": ["/", "/dashboard", "/placements/new", "/usage", f"/statements/{statement.id}", f"/flags/{drop.id}"],
        "provider": ["/", "/dashboard", "/returns"],
    }


def choose(page, legend, option):
    """Tick `option` among the radios or checkboxes under the fieldset's legend."""
    page.get_by_role("group", name=legend, exact=True).get_by_label(option, exact=True).check()


def snap_both(page, name):
    """A screenshot at the desktop width and one at a phone's (390 px)."""
    snap(page, name)
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": 390, "height": 844})
    snap(page, f"{name}-390")
    page.set_viewport_size({"width": width, "height": 900})


def fill_date(page, legend, day):
    group = page.get_by_role("group", name=legend)
    for part, value in (("Day", day.day), ("Month", day.month), ("Year", day.year)):
        group.get_by_label(part, exact=True).fill(str(value))


def refer(page, child_ref, needed_by):
    """The partner answers each question page and opens the referral; its number."""
    menu(page, "Referrals")
    snap_both(page, "r-1-referrals")
    page.get_by_role("button", name="Start a referral").click()
    page.get_by_label("Child reference").fill(child_ref)
    page.get_by_label("Age in years").fill("14")
    snap_both(page, "r-2-child")
    page.get_by_role("button", name="Continue").click()
    fill_date(page, "When is the placement needed by?", needed_by)
    snap_both(page, "r-3-when")
    page.get_by_role("button", name="Continue").click()
    choose(page, "Foster care", "Unsuitable")
    choose(page, "Residential care", "Preferred")
    choose(page, "Supported accommodation", "Unsuitable")
    snap_both(page, "r-4-what")
    page.get_by_role("button", name="Continue").click()
    choose(page, "Is a placement in your area preferred?", "Yes")
    snap_both(page, "r-5-where")
    page.get_by_role("button", name="Continue").click()
    choose(page, "Communication, language and learning needs", "No")
    choose(page, "Specific communication and language requirements", "None")
    choose(page, "Does the home need adapting?", "No")
    choose(page, "Cultural needs", "Not required")
    choose(page, "Who can the child be cared for alongside?", "No preference")
    choose(page, "Can the child live with pets?", "Yes - can")
    choose(page, "Additional support", "NA")
    choose(page, "Is there a deprivation of liberty order?", "No")
    snap_both(page, "r-6-requirements")
    page.get_by_role("button", name="Continue").click()
    for group in page.get_by_role("group").all():
        group.get_by_label("No known risk", exact=True).check()
    choose(page, "Risk to the child: going missing", "Risk present")
    snap_both(page, "r-7-risks")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Check your answers")
    expect(page.get_by_text(child_ref).first).to_be_visible()
    snap_both(page, "r-8-check")
    page.get_by_role("button", name="Open the referral").click()
    expect(page.locator(".govuk-notification-banner")).to_be_visible()
    heading = page.get_by_role("heading", level=1).inner_text()
    number = re.search(r"EMRF-R-\d{4}-\d{4}", heading).group(0)
    snap_both(page, "r-9-opened")
    return number


def open_invitation(page, number, stage, name=""):
    menu(page, "Referrals")
    if name:
        snap_both(page, name)
    row = page.get_by_role("row").filter(has_text=number).filter(has_text=stage)
    expect(row).to_have_count(1)
    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)


def offer_from(page, number, core, name=""):
    """The provider offers the first of its homes that suit, from today; the home as listed."""
    open_invitation(page, number, "Preferred")
    page.get_by_role("button", name="Make an offer").click()
    home = page.get_by_label("Home").locator("option").nth(1).inner_text().strip()
    page.get_by_label("Home").select_option(label=home)
    fill_date(page, "Start date", date.today())
    choose(page, "Need level", "Standard")
    page.get_by_label("Core weekly fee").fill(core)
    if name:
        snap_both(page, name)
    page.get_by_role("button", name="Make the offer").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("offer")
    return home


def usage_today(consortium):
    """Tonight's placements started and nights occupied under the consortium's contracts, and the
    placements started today in the dashboards' usage, for the partner's authority."""
    today = date.today()
    started = usage.placements_started(consortium.id, today, today).get(PARTNER_CODE, 0)
    nights = usage.bed_nights(consortium.id, today, today).get(PARTNER_CODE, 0)
    officer = db.session.scalar(select(User).where(User.email == "partner@demo.test"))
    used = dashboards.usage_by(today, today, UsageSeries.authority_code, user=officer).get((PARTNER_CODE,))
    return started, nights, used.started if used else 0


def test_a_partner_refers_the_block_provider_declines_the_preferred_tier_offers_and_the_best_is_placed(
    open_tab, browser, server
):
    brookside = db.session.scalar(select(Provider).where(Provider.name == "Brookside Care Homes Ltd"))
    brookside_staff = provider_user(brookside, email="brookside@demo.test")
    db.session.flush()
    consortium = db.session.scalar(select(Consortium))
    before = usage_today(consortium)
    child = "NOTT-E2E-R001"
    partner_tab = open_tab()
    page = partner_tab.page
    sign_in(page, "partner@demo.test")
    number = refer(page, child, date.today())

    provider_tab = open_tab()
    oakleaf = provider_tab.page
    sign_in(oakleaf, "provider@demo.test")
    open_invitation(oakleaf, number, "Block", "r-10-invitations")
    expect(oakleaf.get_by_text(child)).to_have_count(0)  # never the child's reference before acceptance
    expect(oakleaf.get_by_text("going missing").first).to_be_visible()
    snap_both(oakleaf, "r-11-invitation")
    oakleaf.get_by_role("button", name="Decline").click()
    choose(oakleaf, "Why are you declining?", "No vacancy")
    snap_both(oakleaf, "r-12-decline")
    oakleaf.get_by_role("button", name="Decline").click()
    expect(oakleaf.locator(".govuk-notification-banner")).to_contain_text("declined")
    oakleaf_home = offer_from(oakleaf, number, "4150.00", "r-13-offer")

    other_tab = open_tab()
    other = other_tab.page
    other.goto("/sign-in")
    other.get_by_label("Email address").fill(brookside_staff.email)
    other.get_by_label("Password", exact=True).fill(PASSWORD)
    other.get_by_role("button", name="Sign in").click()
    brookside_home = offer_from(other, number, "4280.00")

    page.reload()
    offers = page.get_by_role("table", name="Offers ranked, best first").locator("tbody tr")
    expect(offers).to_have_count(2)
    best = offers.first.inner_text()
    snap_both(page, "r-14-ranked-offers")
    offers.first.get_by_role("link", name=re.compile("^Accept")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Accept this offer")
    snap_both(page, "r-15-accept")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the placement before accepting")
    expect(summary(page, "Child")).to_have_text(child)
    snap_both(page, "r-16-accept-check")
    page.get_by_role("button", name=re.compile("^Accept")).click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"{number} is placed")
    snap_both(page, "r-17-placement")
    placed_home = oakleaf_home if oakleaf_home.split(" (")[0] in best else brookside_home

    menu(page, "Placements")
    row = page.get_by_role("row").filter(has_text=child)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(placed_home.split(" (")[0])
    snap_both(page, "r-18-placements")
    placement = db.session.scalar(select(Placement).where(Placement.child_ref == child))
    assert placement.contract.kind == "framework" and placement.start_date == date.today()
    # The framework's figures and the dashboards' usage count it from tonight.
    assert usage_today(consortium) == (before[0] + 1, before[1] + 1, before[2] + 1)
    assert partner_tab.errors == provider_tab.errors == other_tab.errors == []


def test_the_main_pages_have_no_serious_accessibility_problems(open_tab):
    pages = _pages()  # read before the browser starts: the server then has the database to itself
    page = open_tab(axe=True).page
    page.set_content('<html lang="en"><body><main><img src="data:,"><a href="#"></a></main></body></html>')
    page.add_script_tag(path=AXE)  # set_content is not a navigation
    assert {"image-alt", "link-name"} <= {line.split(" ")[1] for line in serious_violations(page)}, (
        "axe is not checking"
    )

    page.goto("/sign-in")
    found = serious_violations(page)
    page.get_by_role("button", name="Sign in").click()  # the form with its errors
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    found += serious_violations(page)
    for role, paths in pages.items():
        sign_in(page, f"{role}@demo.test")
        for path in paths:
            response = page.goto(path)
            assert response.status == 200, f"{role} {path}: {response.status}"
            found += serious_violations(page)
        if role == "partner":
            page.goto("/placements/new")
            page.get_by_role("button", name="Record placement").click()  # the form with its errors
            expect(page.locator(".govuk-error-summary")).to_be_visible()
            found += serious_violations(page)
        if role == "provider":
            page.get_by_role("row").filter(has=page.locator(".govuk-tag", has_text=TO_DO)).first.get_by_role(
                "link"
            ).first.click()
            expect(page.get_by_label("Completed template")).to_be_visible()  # a return's form and upload
            found += serious_violations(page)
        page.get_by_role("button", name="Sign out").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text("You have signed out")
    assert found == [], "axe-core found serious or critical problems:\n" + "\n".join(found)
