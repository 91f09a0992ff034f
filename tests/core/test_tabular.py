import io
import time
import tracemalloc
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from consortium.core.tabular import ImportFailed, parse_date, parse_pence, read_table

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
    data = xlsx(
        [
            ["Code", "Name", "Region"],
            ["E06000018", "Nottingham", datetime(2024, 4, 1)],
            [None, None, None],
            ["E1", 42.0, 1.5],
        ]
    )
    table = read_table(data, "a.xlsx", **COLUMNS)
    assert [(row.line, row.values) for row in table.rows] == [
        (2, {"code": "E06000018", "name": "Nottingham", "region": "2024-04-01"}),
        (4, {"code": "E1", "name": "42", "region": "1.5"}),
    ]


@pytest.mark.parametrize(
    "text, expected",
    [("2024-04-01", date(2024, 4, 1)), ("01/04/2024", date(2024, 4, 1)), (" 29/02/2024 ", date(2024, 2, 29))],
)
def test_dates_are_iso_or_day_month_year(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["2024-02-30", "04/01/24", "yesterday", ""])
def test_bad_dates_are_refused(text):
    with pytest.raises(ValueError, match="is not a date"):
        parse_date(text)


@pytest.mark.parametrize(
    "text, pence", [("3850.00", 385000), ("£3,850", 385000), ("0.01", 1), ("-12.5", -1250), ("1234.56", 123456)]
)
def test_pounds_become_integer_pence_exactly(text, pence):
    assert parse_pence(text) == pence


@pytest.mark.parametrize(
    "text, message",
    [("12.345", "more than two decimal places"), ("abc", "is not a number"), ("NaN", "is not a number")],
)
def test_bad_amounts_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_pence(text)


def handmade_xlsx(sheet_xml: str, dimension: str | None = None, workbook: bool = True) -> bytes:
    """A workbook written part by part, so a sheet can claim any size and stay a few KB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/worksheets/sheet1.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                "</Types>"
            ),
        )
        archive.writestr(
            "_rels/.rels",
            (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                '<Relationship Id="rId1" Target="xl/workbook.xml" '
                'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
                "</Relationships>"
            ),
        )
        if workbook:
            archive.writestr(
                "xl/workbook.xml",
                (
                    '<?xml version="1.0" encoding="UTF-8"?>'
                    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
                ),
            )
            archive.writestr(
                "xl/_rels/workbook.xml.rels",
                (
                    '<?xml version="1.0" encoding="UTF-8"?>'
                    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
                    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
                    "</Relationships>"
                ),
            )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                + (f'<dimension ref="{dimension}"/>' if dimension else "")
                + f"<sheetData>{sheet_xml}</sheetData></worksheet>"
            ),
        )
    return out.getvalue()


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


HEADER_ROW = f'<row r="1">{inline("A1", "code")}{inline("B1", "name")}</row>'
FAR_ROW = f'<row r="300000">{inline("A300000", "E06000018")}</row>'
WIDE_ROW = f'<row r="2">{inline("A2", "E06000018")}{inline("WQJ2", "x")}</row>'  # column 16,000


def test_a_handmade_workbook_reads_like_any_other():
    data = handmade_xlsx(
        HEADER_ROW + f'<row r="2">{inline("A2", "E06000018")}{inline("B2", "Nottingham")}</row>', "A1:B2"
    )
    assert [row.values for row in read_table(data, "a.xlsx", **COLUMNS).rows] == [
        {"code": "E06000018", "name": "Nottingham"}
    ]


@pytest.mark.parametrize(
    "sheet, dimension, message",
    [
        (
            HEADER_ROW + FAR_ROW + WIDE_ROW.replace('r="2"', 'r="3"').replace("A2", "A3").replace("WQJ2", "WQJ3"),
            "A1:WQJ300000",
            "more than 100 columns",
        ),
        (HEADER_ROW + FAR_ROW, "A1:B300000", "more than 200,000 rows"),
        (HEADER_ROW + FAR_ROW, None, "more than 200,000 rows"),  # no declared size: stops while reading
        (HEADER_ROW + WIDE_ROW, None, "line 2: a.xlsx has more than 100 columns"),
    ],
)
def test_a_tiny_workbook_claiming_huge_rows_or_columns_is_refused_in_bounded_memory(sheet, dimension, message):
    data = handmade_xlsx(sheet, dimension)
    assert len(data) < 5_000
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ImportFailed, match=message):
            read_table(data, "a.xlsx", **COLUMNS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 1024 * 1024
    assert time.monotonic() - started < 10


def test_a_csv_of_blank_lines_or_too_many_columns_is_refused_in_bounded_memory():
    blank = b"code,name\n" + b"\n" * (10 * 1024 * 1024 - 20)
    wide = b"code,name\nE06000018,Nottingham" + b",x" * 200 + b"\n"
    tracemalloc.start()
    try:
        with pytest.raises(ImportFailed, match="more than 200,000 rows"):
            read_table(blank, "a.csv", **COLUMNS)
        with pytest.raises(ImportFailed, match="line 2: a.csv has more than 100 columns"):
            read_table(wide, "a.csv", **COLUMNS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 1024 * 1024


def encrypted(data: bytes) -> bytes:
    """The workbook with each part marked as encrypted (bit 0 of its flags in the central directory)."""
    spoilt = bytearray(data)
    at = spoilt.find(b"PK\x01\x02")
    while at != -1:
        spoilt[at + 8] |= 0x1
        at = spoilt.find(b"PK\x01\x02", at + 4)
    return bytes(spoilt)


@pytest.mark.parametrize(
    "content",
    [
        handmade_xlsx(HEADER_ROW, "A1:B1", workbook=False),  # a zip without a workbook in it
        handmade_xlsx(HEADER_ROW + "<row r='2'><c r='A2'", "A1:B2"),  # a sheet of broken XML
        xlsx([["code", "name"], ["E06000018", "Nottingham"]])[:300],  # cut short
        encrypted(xlsx([["code", "name"]])),
    ],
)
def test_a_zip_that_is_not_a_readable_workbook_is_a_clear_error(content):
    with pytest.raises(ImportFailed, match="is not a readable XLSX workbook"):
        read_table(content, "a.xlsx", **COLUMNS)


@pytest.mark.parametrize("cell", [' =HYPERLINK("http://x")', "  @SUM(A1)", "\t+1+1", " -A1"])
def test_a_formula_after_leading_spaces_is_still_refused(cell):
    with pytest.raises(ImportFailed, match="formulas are not accepted"):
        read_table(f'code,name\nE06000018,"{cell}"\n'.encode(), "a.csv", **COLUMNS)


def test_negative_numbers_with_spaces_around_them_are_not_formulas():
    table = read_table(b"code,name\nE06000018, -1.5 \n", "a.csv", **COLUMNS)
    assert table.rows[0]["name"] == "-1.5"
