"""Reading import files (CSV or XLSX) into rows, and parsing their values.

Every importer works the same way: read the whole file, check every row, and either write all
of it or nothing, reporting each bad line by its number (the header is line 1).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from consortium.core.inputs import (
    EARLIEST,
    LATEST,
    MAX_DECIMAL,
    MAX_WEEKLY_PENCE,
    control_character,
)

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 200_000
# The widest import has 11 columns; a real export may carry a few dozen more that are ignored.
MAX_COLUMNS = 100
# An XLSX is a zip: refuse one that would unpack to far more than it weighs (a zip bomb).
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_ZIP_MEMBERS = 500
MAX_COMPRESSION_RATIO = 100
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What openpyxl raises on a zip that is not a workbook or a part that is not well-formed XML
# (SyntaxError covers ElementTree's ParseError; zipfile raises RuntimeError for an encrypted part or
# NotImplementedError for an unknown compression).
UNREADABLE_XLSX = (
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    OverflowError,
    SyntaxError,
    EOFError,
    OSError,
    RuntimeError,
    zipfile.BadZipFile,
    zlib.error,
    InvalidFileException,
)


class ImportFailed(Exception):
    """A file that imports nothing, with every reason why."""

    def __init__(self, errors: list[tuple[int | None, str]]):
        self.errors = errors
        super().__init__("; ".join(self.lines()))

    def lines(self) -> list[str]:
        return [f"line {line}: {message}" if line else message for line, message in self.errors]


@dataclass
class Row:
    line: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass
class Table:
    name: str
    sha256: str
    rows: list[Row]
    columns: frozenset[str] = frozenset()  # the canonical columns the file has


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    details: dict = field(default_factory=dict)

    def summary(self) -> str:
        return f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged"


def _header_key(text: object) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip().lower()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _check_zip(data: bytes, name: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except UNREADABLE_XLSX:  # not a zip, or one of a version or kind zipfile cannot read
        raise ImportFailed([(None, f"{name} is not a readable XLSX workbook")]) from None
    unpacked = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members) or 1
    if len(members) > MAX_ZIP_MEMBERS or unpacked > MAX_UNPACKED_BYTES or unpacked / packed > MAX_COMPRESSION_RATIO:
        raise ImportFailed(
            [(None, f"{name} unpacks to {unpacked:,} bytes in {len(members)} parts: too large to read safely")]
        )


def _looks_like_formula(raw: str) -> bool:
    text = raw.strip()  # a space before "=" still makes a formula once the value is trimmed
    if not text.startswith(FORMULA_STARTS) or text == "-":
        return False
    try:
        float(text)
        return False  # a negative number, such as a longitude
    except ValueError:
        return True


def _too_many_rows(name: str) -> ImportFailed:
    return ImportFailed(
        [(None, f"{name} has more than {MAX_ROWS:,} rows; at most {MAX_ROWS:,} can be imported at once")]
    )


def _too_many_columns(name: str, line: int | None = None) -> ImportFailed:
    return ImportFailed(
        [(line, f"{name} has more than {MAX_COLUMNS} columns; import files have at most {MAX_COLUMNS}")]
    )


def _unreadable_xlsx(name: str) -> ImportFailed:
    return ImportFailed([(None, f"{name} is not a readable XLSX workbook")])


def _xlsx_rows(data: bytes, name: str) -> Iterator[list[str]]:
    _check_zip(data, name)
    try:
        # Formulas are read as written (not as their cached results) so they are refused like CSV ones.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except UNREADABLE_XLSX:
        raise _unreadable_xlsx(name) from None
    try:
        sheet = workbook.worksheets[0]
        # Refuse a declared size past the caps before reading: openpyxl pads every row to it.
        if (sheet.max_column or 0) > MAX_COLUMNS:
            raise _too_many_columns(name)
        if (sheet.max_row or 0) > MAX_ROWS + 1:
            raise _too_many_rows(name)
        # Then read the cells as they are, not as the declared size says (some writers get it wrong).
        sheet.reset_dimensions()
        for row in sheet.iter_rows(values_only=True):
            yield [_cell_text(value) for value in row]
    except ImportFailed:
        raise
    except UNREADABLE_XLSX:
        raise _unreadable_xlsx(name) from None
    finally:
        workbook.close()


def _rows_from_bytes(data: bytes, name: str) -> Iterator[list[str]]:
    """The file's rows as lists of text, one at a time: a file is never unpacked whole."""
    if len(data) > MAX_BYTES:
        raise ImportFailed(
            [(None, f"{name} is {len(data):,} bytes; files can be at most {MAX_BYTES // (1024 * 1024)} MB")]
        )
    if data[:4] == b"PK\x03\x04":
        return _xlsx_rows(data, name)
    return _csv_rows(data, name)


def _csv_rows(data: bytes, name: str) -> Iterator[list[str]]:
    # Decoded as it is read, not copied whole into a string first.
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""))
    try:
        yield from reader
    except UnicodeDecodeError:
        raise ImportFailed([(None, f"{name} is neither UTF-8 CSV nor an XLSX workbook")]) from None
    except csv.Error as error:
        raise ImportFailed([(reader.line_num or None, f"{name} is not a readable CSV file: {error}")]) from None


def read_table(
    data: bytes,
    name: str,
    required: list[str],
    optional: list[str] = (),
    aliases: dict[str, list[str]] | None = None,
) -> Table:
    """Read a CSV or XLSX file into rows keyed by canonical column names.

    Headers match case-insensitively with spaces trimmed; `aliases` gives other spellings of a
    column; columns not asked for are ignored; blank lines are skipped.
    """
    aliases = aliases or {}
    raw = iter(_rows_from_bytes(data, name))
    header = next(raw, None)
    if not header or not any(header):
        raise ImportFailed([(1, "the file is empty: expected a header line")])
    if len(header) > MAX_COLUMNS:
        raise _too_many_columns(name, 1)
    spellings = {}
    for column in [*required, *optional]:
        for spelling in [column, *aliases.get(column, [])]:
            spellings[_header_key(spelling)] = column
    positions: dict[str, int] = {}
    for index, heading in enumerate(header):
        column = spellings.get(_header_key(heading))
        if column and column not in positions:
            positions[column] = index
    # Name a missing column as files spell it (its first alias), not by our internal key.
    missing = [aliases.get(column, [column])[0] for column in required if column not in positions]
    if missing:
        raise ImportFailed([(1, f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")])
    rows, errors = [], RowErrors()
    headings = {index: str(header[index]).strip() for index in positions.values()}
    # Rows are checked as they are read, so a file past the caps stops at the first row over;
    # blank lines are skipped but count toward the row cap.
    for number, cells in enumerate(raw, start=2):
        if number - 1 > MAX_ROWS:
            raise _too_many_rows(name)
        if len(cells) > MAX_COLUMNS:
            raise _too_many_columns(name, number)
        if not any(cell.strip() for cell in cells):
            continue
        for column, i in positions.items():
            if i >= len(cells):
                continue
            if _looks_like_formula(cells[i]):
                errors.add(number, f"{headings[i]} starts with {cells[i].strip()[:1]!r}: formulas are not accepted")
            elif bad := control_character(cells[i].strip()):
                errors.add(number, f"{headings[i]} contains {bad}, which is not accepted")
        values = {column: (cells[i].strip() if i < len(cells) else "") for column, i in positions.items()}
        rows.append(Row(number, values))
    errors.raise_if_any()
    return Table(name=name, sha256=hashlib.sha256(data).hexdigest(), rows=rows, columns=frozenset(positions))


def read_file(path: str | Path, **columns) -> Table:
    path = Path(path)
    return read_table(path.read_bytes(), path.name, **columns)


class RowErrors:
    """Collects the reasons rows are bad; raises them all at the end."""

    def __init__(self):
        self.errors: list[tuple[int | None, str]] = []

    def add(self, line: int | None, message: str) -> None:
        self.errors.append((line, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ImportFailed(sorted(self.errors, key=lambda error: error[0] or 0))


def parse_date(text: str, earliest: date = EARLIEST, latest: date = LATEST) -> date:
    """ISO `YYYY-MM-DD`, or `DD/MM/YYYY` as Ofsted writes dates, within a range (by default
    2000 to 2100)."""
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            parsed = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if not earliest <= parsed <= latest:
            raise ValueError(f"{text!r} is not between {earliest.isoformat()} and {latest.isoformat()}")
        return parsed
    raise ValueError(f"{_shown(text)!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)")


def parse_decimal(text: str, what: str = "value") -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{what} {_shown(text)!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{what} {_shown(text)!r} is not a number")
    if abs(value) >= MAX_DECIMAL:
        raise ValueError(f"{what} {_shown(text)!r} is too large")
    return value


def parse_pence(text: str, what: str = "amount", maximum_pence: int = MAX_WEEKLY_PENCE) -> int:
    """An amount in pounds (`3850.00`, `£3,850`) as integer pence, at most the maximum (by
    default £1,000,000.00, above any weekly fee or price); more than 2 decimals is an error."""
    value = parse_decimal(text.strip().lstrip("£"), what)
    pence = value * 100
    if pence != pence.to_integral_value():
        raise ValueError(f"{what} {text!r} has more than two decimal places")
    if abs(pence) > maximum_pence:
        raise ValueError(f"{what} {text!r} is more than {maximum_pence // 100:,}.00")
    return int(pence)


def too_long(model, values: dict, names: dict[str, str] | None = None) -> list[str]:
    """A message for each text value longer than its model's column holds (SQLite would keep
    it; PostgreSQL would refuse the whole file), naming the column as the file does."""
    problems = []
    for key, value in values.items():
        column = model.__table__.columns.get(key)
        length = getattr(column.type, "length", None) if column is not None else None
        if isinstance(value, str) and length and len(value) > length:
            problems.append(f"{(names or {}).get(key, key)} is {len(value):,} characters long; at most {length:,} fit")
    return problems


def _shown(text: str) -> str:
    """A value as an error message quotes it: a long one cut short."""
    return text if len(text) <= 40 else text[:40] + "…"
