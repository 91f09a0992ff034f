"""Every importer, fed generated files: it imports or refuses with reasons, never raises
anything else, and a refused file leaves nothing behind. (`HYPOTHESIS_PROFILE=fuzz` for more.)"""

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import func, select

from consortium.core import services as core
from consortium.core.extensions import db
from consortium.core.tabular import ImportFailed, read_table
from contracts import imports
from contracts.models import Contract, MonitoringReturn, Placement
from providers import ofsted
from providers.models import Home
from tests.core.test_tabular import xlsx

IMPORTERS = {
    "authorities": (core.AUTHORITY_COLUMNS, core.import_authorities),
    "consortia": (core.CONSORTIUM_COLUMNS, core.import_consortia),
    "ofsted": (ofsted.COLUMNS, ofsted.import_file),
    "contracts": (imports.CONTRACT_COLUMNS, imports.import_contracts),
    "placements": (imports.PLACEMENT_COLUMNS, imports.import_placements),
    "outcomes": (imports.OUTCOME_COLUMNS, imports.import_outcomes),
    "returns": (imports.RETURN_COLUMNS, imports.import_returns),
}
# Cells near the formats the files expect, and some far from them.
cells = st.one_of(
    st.sampled_from(
        [
            "",
            "E06000018",
            "SC900101",
            "2024-04-01",
            "31/02/2024",
            "01/04/2024",
            "3850.00",
            "-1",
            "0",
            "12.345",
            "residential",
            "framework",
            "block",
            "true",
            "percent",
            "Good",
            "Inadequate",
            "2024-Q1",
            "REDACTED",
            "EMRF",
            "E06000018;E06000015",
            "Riverbank Care Ltd",
            "=1+1",
            "@x",
            "NaN",
            "1e9",
            "\u00e9",
            "a,b",
            '"quoted"',
        ]
    ),
    st.text(max_size=12),
)


def headers(columns):
    aliases = columns.get("aliases", {})
    return [aliases.get(c, [c])[0] for c in [*columns["required"], *columns.get("optional", [])]]


def as_csv(rows):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


def spoiled(data, draw):
    """A workbook cut short, or with bytes changed somewhere inside its zip."""

    # Places are drawn as fractions of the length: a saved workbook's size varies with its timestamp.
    def place():
        return int(draw(st.floats(0, 1, exclude_max=True)) * len(data))

    if draw(st.booleans()):
        return data[: place()]
    spoilt = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        spoilt[place()] = draw(st.integers(0, 255))
    return bytes(spoilt)


def counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Home, Contract, Placement, MonitoringReturn)
    )


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
@given(kind=st.sampled_from(sorted(IMPORTERS)), data=st.data())
def test_importers_import_or_refuse_cleanly(app, kind, data):
    columns, importer = IMPORTERS[kind]
    header = headers(columns)
    rows = data.draw(st.lists(st.lists(cells, min_size=len(header), max_size=len(header)), max_size=6))
    shape = data.draw(st.sampled_from(["csv", "bytes", "xlsx", "spoilt xlsx"]))
    if shape == "csv":
        content = as_csv([header, *rows])
    elif shape == "bytes":
        content = data.draw(st.binary(max_size=200))
    else:
        # Spreadsheet cells hold text only: XML cannot carry every control character.
        content = xlsx([header, *[[ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in row] for row in rows]])
        if shape == "spoilt xlsx":
            content = spoiled(content, data.draw)
    before = counts()
    savepoint = db.session.begin_nested()
    try:
        importer(read_table(content, f"{kind}.{'csv' if shape in ('csv', 'bytes') else 'xlsx'}", **columns))
    except ImportFailed as failed:
        assert failed.errors and all(isinstance(message, str) and message for _, message in failed.errors)
        assert counts() == before  # nothing half-written, before any rollback of ours
        savepoint.rollback()
    else:
        savepoint.rollback()
