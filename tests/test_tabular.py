import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from consortium.tabular import ImportFailed, parse_date, parse_pence, read_table

COLUMNS = {"required": ["code", "name"], "optional": ["region"], "aliases": {"name": ["Setting name"]}}


def xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_headers_match_loosely_and_extra_columns_are_ignored():
    data = b"\xef\xbb\xbf CODE ,Extra,Setting  Name\nE06000018,x,Nottingham\n\n E06000015 ,y,Derby\n"
    table = read_table(data, "a.csv", **COLUMNS)
    assert [(row.line, row.values) for row in table.rows] == [
        (2, {"code": "E06000018", "name": "Nottingham"}),
        (4, {"code": "E06000015", "name": "Derby"}),
    ]
    assert table.rows[0]["region"] == ""
    assert len(table.sha256) == 64


def test_a_missing_required_column_is_reported_on_line_1():
    with pytest.raises(ImportFailed) as failed:
        read_table(b"code,region\nE06000018,East Midlands\n", "a.csv", **COLUMNS)
    assert failed.value.lines() == ["line 1: missing column: Setting name"]


def test_an_empty_file_and_a_binary_file_are_clear_errors():
    with pytest.raises(ImportFailed, match="empty"):
        read_table(b"", "a.csv", **COLUMNS)
    with pytest.raises(ImportFailed, match="neither UTF-8 CSV nor an XLSX"):
        read_table(b"\xff\xfe\x00bad", "a.csv", **COLUMNS)


def test_xlsx_is_read_like_csv_with_dates_and_numbers_as_text():
    data = xlsx([["Code", "Name", "Region"], ["E06000018", "Nottingham", datetime(2024, 4, 1)], [None, None, None], ["E1", 42.0, 1.5]])
    table = read_table(data, "a.xlsx", **COLUMNS)
    assert [(row.line, row.values) for row in table.rows] == [
        (2, {"code": "E06000018", "name": "Nottingham", "region": "2024-04-01"}),
        (4, {"code": "E1", "name": "42", "region": "1.5"}),
    ]


@pytest.mark.parametrize("text, expected", [("2024-04-01", date(2024, 4, 1)), ("01/04/2024", date(2024, 4, 1)), (" 29/02/2024 ", date(2024, 2, 29))])
def test_dates_are_iso_or_day_month_year(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["2024-02-30", "04/01/24", "yesterday", ""])
def test_bad_dates_are_refused(text):
    with pytest.raises(ValueError, match="is not a date"):
        parse_date(text)


@pytest.mark.parametrize("text, pence", [("3850.00", 385000), ("£3,850", 385000), ("0.01", 1), ("-12.5", -1250), ("1234.56", 123456)])
def test_pounds_become_integer_pence_exactly(text, pence):
    assert parse_pence(text) == pence


@pytest.mark.parametrize("text, message", [("12.345", "more than two decimal places"), ("abc", "is not a number"), ("NaN", "is not a number")])
def test_bad_amounts_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_pence(text)
