"""The sufficiency page as the demo's lead and partner see it, its CSV files, and bad values."""

from tests.dashboards.test_dashboards import signed_in


def test_the_lead_sees_every_section_for_the_demo_consortium(app, runner):
    runner.invoke(args=["demo", "seed"])
    lead = signed_in(app, "lead@demo.test")
    page = lead.get("/sufficiency").get_data(as_text=True)
    for text in (
        "East Midlands Regional Framework consortium",
        "Referrals opened by month",
        "What became of the referrals",
        "Unmet need by kind of placement",
        "Forecast of residential children&#39;s home placements open, beside the block beds",
        "have lasted a median of",
        "How far to trust it",
        "Stability by financial year",
        "Children with three or more placements in the year (%)",
        "High-cost reviews",
        "Record a review",
        "<svg",
    ):
        assert text in page, text
    due = page.split('id="high-cost"')[1]
    assert "Never" in due and 'govuk-tag--red">\n  Due' in due  # the solo placement not reviewed in its 7 months
    csv_text = lead.get("/sufficiency/forecast.csv").get_data(as_text=True).lstrip("\ufeff")
    lines = csv_text.splitlines()
    assert lines[0] == "Month end,Forecast,Block beds,Gap" and len(lines) == 25
    assert lead.get("/sufficiency/nothing.csv").status_code == 404


def test_a_partner_sees_their_authority_and_a_wrong_value_is_explained_never_a_500(app, runner):
    runner.invoke(args=["demo", "seed"])
    partner = signed_in(app, "partner@demo.test")
    page = partner.get("/sufficiency").get_data(as_text=True)
    assert '<span class="govuk-caption-l">Nottingham</span>' in page
    for query in ("type=castle", "authority=E06000015", "from_day=31&from_month=2&from_year=2026", "to=9999-01-01"):
        answered = partner.get(f"/sufficiency?{query}")
        assert answered.status_code == 200, query
    lead = signed_in(app, "lead@demo.test")
    stranger = lead.get("/sufficiency?authority=E09000001").get_data(as_text=True)
    assert "Choose one of the consortium&#39;s member authorities" in stranger
    one = lead.get("/sufficiency?authority=E06000018").get_data(as_text=True)
    assert '<span class="govuk-caption-l">Nottingham</span>' in one


def test_the_sufficiency_statement_is_a_pdf_with_every_section_and_its_own_tables_as_csv(app, runner):
    from tests.conftest import pdf_text

    runner.invoke(args=["demo", "seed"])
    lead = signed_in(app, "lead@demo.test")
    pdf = lead.get("/sufficiency/statement.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"].startswith('attachment; filename="sufficiency-statement-')
    text = pdf_text(pdf.data)
    for heading in (
        "Sufficiency statement",
        "Placements by type and location",
        "Quality of homes used",
        "Demand",
        "Unmet need",
        "Forecast and the gap",
        "How far to trust the forecast",
        "Stability",
        "Block utilisation and value for money",
        "EM-BLOCK-RES",
    ):
        assert heading in text, heading
    assert "NOT-0" not in text  # children counted, never named
    by_type = lead.get("/sufficiency/placements-by-type.csv").get_data(as_text=True).lstrip("\ufeff")
    assert by_type.splitlines()[0] == "Placement type,Open,With a distance,Within 20 miles"
    quality = lead.get("/sufficiency/quality-of-homes.csv").get_data(as_text=True).lstrip("\ufeff")
    assert quality.splitlines()[0] == "Judgement,Placements,Share" and "Good," in quality
