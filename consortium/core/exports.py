"""CSV and XLSX downloads of the lists people see.

Every cell that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
return) is prefixed with a quote, so an export never carries someone's formula to its reader.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from flask import Response, abort
from openpyxl import Workbook

from consortium.core.inputs import strip_control_characters

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def guard(value):
    """A cell's value made safe to open in a spreadsheet. Control characters are left out too: a
    workbook cannot hold them, and one stored before they were refused must not break a download."""
    if isinstance(value, str):
        value = strip_control_characters(value, multiline=True)
        if value.startswith(FORMULA_STARTS):
            return "'" + value
    return value


def export(filename: str, fmt: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    if fmt not in FORMATS:
        abort(404)
    safe_rows = ([guard(cell) for cell in row] for row in rows)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(safe_rows)
        body = out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8
    else:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(filename[:31])
        sheet.append(list(header))
        for row in safe_rows:
            sheet.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        body = buffer.getvalue()
    return Response(
        body,
        mimetype=FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )
