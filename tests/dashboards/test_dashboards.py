"""Dashboards render for each role, their tables export, and the monitoring report reads correctly."""

import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select

from consortium.core.extensions import db
from consortium.dashboards.models import Budget
from consortium.demo import DEMO_PASSWORD
from contracts import returns
from tests.conftest import pdf_text, sign_in
from tests.contracts.test_return_pages import VALUES
from tests.factories import (
    AuthorityFactory,
    BlockPriceFactory,
    ConsortiumFactory,
    ContractFactory,
    PlacementFactory,
    lead,
    partner,
    provider_user,
)


def signed_in(app, email):
    client = app.test_client()
    client.post("/sign-in", data={"email": email, "password": DEMO_PASSWORD})
    return client


def test_each_roles_dashboard_shows_the_demo(app, runner):
    runner.invoke(args=["demo", "seed"])
    lead_client = signed_in(app, "lead@demo.test")
    page = lead_client.get("/dashboard").get_data(as_text=True)
    for text in (
        "placements open in",
        "returns overdue",
        "recharges unpaid",
        "EM-BLOCK-RES",
        "Placements by member authority and type",
        "Spend on framework placements",
        "within 20 miles",
        "Open flags by kind",
        "<svg",
        "Referrals placed by month and route",
        "median from opening a referral to its placement",
    ):
        assert text in page, text
    void_while_spot = page.split('href="/flags?kind=block_void_while_spot"')[1].split("</p>")[0]
    assert "not yet resolved, £3,500.00 of void cost" in void_while_spot  # 7 void nights at £3,500 a week
    csv_text = lead_client.get("/dashboard/blocks.csv").get_data(as_text=True)
    assert (
        csv_text.lstrip("\ufeff").startswith("Block contract,Beds,Utilisation,Void cost (£)")
        and "EM-BLOCK-RES" in csv_text
    )
    workbook = load_workbook(io.BytesIO(lead_client.get("/dashboard/placements.xlsx").data))
    assert [c.value for c in next(workbook.active.iter_rows())] == [
        "Authority",
        "Placement type",
        "Open at the end",
        "Started in the period",
    ]
    vfm = lead_client.get("/value-for-money").get_data(as_text=True)
    assert "Cost per occupied bed-week" in vfm and "EM-BLOCK-RES" in vfm
    partner_client = signed_in(app, "partner@demo.test")
    page = partner_client.get("/dashboard").get_data(as_text=True)
    assert "Your placements by type" in page and "Spend against budget" in page and "Recharges" in page
    provider_page = signed_in(app, "provider@demo.test").get("/dashboard").get_data(as_text=True)
    assert (
        "returns to do" in provider_page
        and "EM-BLOCK-RES" in provider_page
        and "Your homes by judgement" in provider_page
    )


def test_a_partner_enters_a_budget_and_sees_the_variance(client):
    user = partner()
    sign_in(client, user)
    year = date.today().year if date.today().month >= 4 else date.today().year - 1
    typed = {"year": year, "weeks-residential": "100", "unit-residential": "4,000", "income-residential": "50,000"}
    response = client.post("/budgets", data=typed)
    assert response.status_code == 302
    budget = db.session.scalar(select(Budget))
    assert (budget.authority_code, budget.financial_year, budget.weeks, budget.unit_cost_pence) == (
        user.authority_code,
        year,
        100,
        400000,
    )
    assert budget.contributions_pence == 5_000_000
    page = client.get("/dashboard").get_data(as_text=True)
    # Nothing spent yet: a net budget of £350,000.00, all volume (-£400,000.00) and income (+£50,000.00).
    assert "£350,000.00" in page and "-£400,000.00" in page and "£50,000.00" in page and "-£350,000.00" in page
    refused = client.post("/budgets", data={"year": year, "weeks-residential": "-3", "unit-residential": "x"})
    assert "enter weeks, a weekly unit cost and contributions of 0 or more" in refused.get_data(as_text=True)
    refused = client.post("/budgets", data={"year": year, "weeks-residential": "1", "income-residential": "-5"})
    assert "contributions of 0 or more" in refused.get_data(as_text=True)
    db.session.refresh(budget)
    assert budget.weeks == 100


def test_spend_to_date_is_apart_from_the_forecast_and_a_variance_needs_a_budget(client):
    from datetime import timedelta

    from tests.factories import PlacementFeeFactory

    user = partner()
    today = date.today()
    year_end = date(today.year + (today.month >= 4), 3, 31)
    placement = PlacementFactory(
        authority=user.authority, start_date=today - timedelta(days=14), placement_type="residential"
    )
    PlacementFeeFactory(placement=placement, weekly_pence=70000)  # £100 a night
    sign_in(client, user)
    page = client.get("/dashboard").get_data(as_text=True)
    # Spend to date: the 14 nights up to yesterday; the forecast carries it on at today's fee to 31 March.
    assert "£1,400.00" in page and f"£{((year_end - placement.start_date).days + 1) * 100:,}.00" in page
    assert "Enter a budget to compare" in page


def test_dashboards_and_reports_are_for_their_roles(client):
    block = ContractFactory()
    sign_in(client, provider_user())
    assert client.get("/value-for-money").status_code == 403
    assert client.get(f"/contracts/{block.id}/report/2024-Q1.pdf").status_code == 403
    sign_in(client, lead())
    assert client.get(f"/contracts/{block.id}/report/2024-Q1.pdf").status_code == 404  # another consortium's contract
    assert client.get("/budgets").status_code == 403


def test_the_monitoring_report_reads_correctly(client, tmp_path):
    block = ContractFactory(ref="EM-BLOCK", beds=10, start_date=date(2024, 4, 1), end_date=date(2029, 3, 31))
    BlockPriceFactory(contract=block, weekly_pence=350000)
    for _ in range(8):
        PlacementFactory(contract=block, home=None, start_date=date(2024, 4, 1))
    outcomes = returns.attach(block, returns.starter_template())
    monitoring_return = returns.save(
        outcomes, block.provider, "2024-Q1", {**VALUES, "EET": "70"}, {}, None, date(2024, 7, 20), submit=True
    )
    returns.review(monitoring_return, "accept", "", lead(block.consortium), None)
    sign_in(client, lead(block.consortium))
    response = client.get(f"/contracts/{block.id}/report/2024-Q1.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    words = pdf_text(response.data)
    # 8 of 10 beds for the 91 nights of the quarter: 182 void bed-nights at £500.
    for expected in (
        "Contract monitoring report, 2024-Q1",
        "EM-BLOCK",
        "1 Apr 2024 to 30 Jun 2024",
        "Occupancy",
        "80.0%",
        "£91,000.00",
        "Children in education, employment or training",
        "red",
        "accepted",
        "Placements started and ended",
    ):
        assert expected in words, expected
    assert f"/contracts/{block.id}/report/" in client.get(f"/contracts/{block.id}").get_data(as_text=True)


def test_a_partner_reads_the_consortiums_totals_and_their_own_never_another_members_placements(client, tmp_path):
    nottingham, derby = AuthorityFactory(code="E06000018"), AuthorityFactory(code="E06000015")
    block = ContractFactory(
        ref="EM-BLOCK",
        beds=10,
        start_date=date(2024, 4, 1),
        end_date=date(2029, 3, 31),
        consortium=ConsortiumFactory(members=[nottingham, derby]),
    )
    BlockPriceFactory(contract=block, weekly_pence=350000)
    for authority, count in ((nottingham, 2), (derby, 3)):
        for _ in range(count):
            PlacementFactory(contract=block, home=None, authority=authority, start_date=date(2024, 5, 1))

    def placements_section(user):
        sign_in(client, user)
        response = client.get(f"/contracts/{block.id}/report/2024-Q1.pdf")
        assert response.status_code == 200
        words = pdf_text(response.data)
        return words.split("Placements started and ended")[1].split("Open flags")[0]

    seen = placements_section(partner(nottingham))
    assert "E06000018" in seen and "E06000015" not in seen and "All members" in seen and "5" in seen
    seen = placements_section(lead(block.consortium))
    assert "E06000018" in seen and "E06000015" in seen


def test_the_lists_download(app, runner):
    runner.invoke(args=["demo", "seed"])
    client = signed_in(app, "lead@demo.test")
    for url, expected in (
        ("/flags/export.csv", "kind,subject,severity,status"),
        ("/contracts/export.csv", "ref,kind,title,consortium"),
        ("/returns/export.csv", "period,contract,provider,due,status"),
    ):
        text = client.get(url).get_data(as_text=True).lstrip("\ufeff")
        assert text.startswith(expected) and len(text.splitlines()) > 2, url
    assert client.get("/flags/export.xlsx").data.startswith(b"PK")
