"""The table builder gives the GOV.UK table's markup, as govukTable would for the same parameters."""

import re

from consortium.core.formatting import figures_table, table


def _plain(html: str) -> str:
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", str(html))).strip()


def test_the_table_matches_govuk_frontends_macro(app):
    params = {
        "caption": "Placements & fees",
        "captionClasses": "govuk-table__caption--m",
        "classes": "app-table--compact",
        "head": [{"text": "Child"}, {"text": "Fee", "format": "numeric"}],
        "rows": [
            [{"html": '<a class="govuk-link" href="/p/1">CH-1</a>'}, {"text": "£5,200.00", "format": "numeric"}],
            [{"text": "<script>"}, {"text": 7, "format": "numeric", "colspan": 1}],
        ],
    }
    with app.test_request_context():
        macro = app.jinja_env.from_string(
            '{% from "govuk_frontend_jinja/components/table/macro.html" import govukTable %}{{ govukTable(params) }}'
        )
        assert _plain(table(params)) == _plain(macro.render(params=params))
    assert "&lt;script&gt;" in table(params) and "<script>" not in table(params)


def test_a_first_cell_may_head_its_row(app):
    params = {"firstCellIsHeader": True, "rows": [[{"text": "Oak"}, {"text": "3"}]]}
    with app.test_request_context():
        macro = app.jinja_env.from_string(
            '{% from "govuk_frontend_jinja/components/table/macro.html" import govukTable %}{{ govukTable(params) }}'
        )
        assert _plain(table(params)) == _plain(macro.render(params=params))


def test_a_table_of_figures_aligns_the_numbers_right():
    html = str(figures_table("Placements", ["Authority", "Type", "Open", "Started"], [["Derby", "Residential", 3, 1]]))
    assert re.findall(r'<(?:th|td)\b[^>]*class="([^"]*)"', html) == [
        "govuk-table__header",
        "govuk-table__header",
        "govuk-table__header govuk-table__header--numeric",
        "govuk-table__header govuk-table__header--numeric",
        "govuk-table__cell",
        "govuk-table__cell",
        "govuk-table__cell govuk-table__cell--numeric",
        "govuk-table__cell govuk-table__cell--numeric",
    ]
    # With two columns, the second is the figure.
    assert 'govuk-table__cell govuk-table__cell--numeric">7<' in str(
        figures_table("Flags", ["Kind", "Open"], [["Overdue return", 7]])
    )


def test_quarters_are_written_with_their_months():
    from consortium.core.formatting import quarter

    assert quarter("2026-Q2") == "2026-Q2 (Jul to Sep 2026)"
    assert quarter("2026-Q4") == "2026-Q4 (Jan to Mar 2027)"
    assert quarter("not a quarter") == "not a quarter"


def test_pages_offer_the_first_the_last_and_those_around_this_one():
    from consortium.core.pagination import Page

    assert Page([], 1, 50, 50 * 9).numbers() == [1, 2, None, 9]
    assert Page([], 5, 50, 50 * 9).numbers() == [1, None, 4, 5, 6, None, 9]
    assert Page([], 2, 50, 100).numbers() == [1, 2]


def test_pounds_in_a_figures_table_read_as_money_and_counts_have_separators():
    html = str(figures_table("Blocks", ["Block contract", "Beds", "Void cost (£)"], [["EM-BLOCK", 1200, "278500.00"]]))
    assert ">Void cost<" in html and ">£278,500.00<" in html and ">1,200<" in html and "278500.00" not in html
