"""The Ofsted import: upserts, history and latest-only files, idempotence, and bad input."""

import io
import zipfile

import pytest
from sqlalchemy import func, select

from consortium.core import tabular
from consortium.core.audit import AuditEvent
from consortium.core.extensions import db
from consortium.core.tabular import ImportFailed, read_table
from providers import ofsted
from providers.models import Home, Inspection, Provider
from providers.services import add_alias
from tests.core.test_tabular import xlsx
from tests.factories import ProviderFactory
from tests.ofsted_files import HEADER, SAMPLE, rows


def table(text: str | bytes, name="ofsted.csv"):
    data = text.encode() if isinstance(text, str) else text
    return read_table(data, name, **ofsted.COLUMNS)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def home(urn) -> Home:
    return db.session.scalar(select(Home).where(Home.urn == urn))


def test_the_sample_file_imports_providers_homes_and_inspections():
    result = ofsted.import_file(table(SAMPLE))
    assert result.details == {
        "providers_added": 3,
        "homes_added": 6,
        "homes_updated": 0,
        "inspections_added": 6,
        "judgements_worse": 2,
        "owners_renamed": 0,
        "owners_new": 0,
    }
    assert (count(Provider), count(Home), count(Inspection)) == (3, 6, 6)
    moorview = home("SC900101")
    assert (moorview.name, moorview.provider.name, moorview.postcode, moorview.registered_places) == (
        "Moorview House",
        "Riverbank Care Ltd",
        "EX4 6AB",
        4,
    )
    assert [(i.inspection_date.isoformat(), i.judgement.name) for i in moorview.inspections] == [
        ("2019-03-12", "Good"),
        ("2020-02-20", "Requires improvement to be good"),
    ]
    assert home("SC900104").inspections == []  # not yet inspected: a home without inspections
    assert home("2591234").provision_type == "Supported accommodation"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.object_type == "Ofsted file"))
    assert event.after["file"] == "ofsted.csv" and event.after["inspections_added"] == 6


def test_importing_the_same_file_again_changes_nothing():
    ofsted.import_file(table(SAMPLE))
    again = ofsted.plan(table(SAMPLE))
    assert not again.changes_anything
    assert (
        again.summary()
        == "0 new providers, 0 new homes, 0 homes changed, 0 new inspections, 0 judgements worse than before"
    )
    result = ofsted.apply(again)
    assert (result.added, result.updated, result.unchanged) == (0, 0, 12)
    assert (count(Provider), count(Home), count(Inspection)) == (3, 6, 6)


def test_a_latest_only_file_adds_the_newest_inspection_and_updates_the_home():
    ofsted.import_file(table(SAMPLE))
    latest = HEADER + (
        "\nSC900101,Children's home,Moorview House,Riverbank Care Ltd,Devon,EX4 6AB,6,Active,Full inspection,"
        "2021-03-01,Good"
        "\nSC900102,Children's home,Harbour Lodge,Riverbank Care Ltd,Plymouth,PL1 2CD,3,Active,Full inspection,"
        "05/06/2019,Outstanding\n"
    )
    plan = ofsted.plan(table(latest))
    assert (
        plan.summary()
        == "0 new providers, 0 new homes, 1 home changed, 1 new inspection, 0 judgements worse than before"
    )
    ofsted.apply(plan)
    moorview = home("SC900101")
    assert moorview.registered_places == 6
    assert [i.judgement.name for i in moorview.inspections] == ["Good", "Requires improvement to be good", "Good"]


def test_the_preview_counts_worse_judgements_against_the_register():
    ofsted.import_file(
        table(rows("SC100001,A,P Ltd,2020-01-01,Good", "SC100002,B,P Ltd,2020-01-01,Requires improvement to be good"))
    )
    plan = ofsted.plan(
        table(
            rows(
                "SC100001,A,P Ltd,2021-01-01,Inadequate",  # worse than Good
                "SC100002,B,P Ltd,2021-01-01,Good",  # better
                "SC100003,C,Q Ltd,2021-01-01,Good",  # a new home's first inspection is not "worse"
                "SC100003,C,Q Ltd,2022-01-01,Requires improvement to be good",  # worse within the file
                "SC100004,D,Q Ltd,2021-01-01,Adequate",
                "SC100004,D,Q Ltd,2022-01-01,Requires improvement to be good",  # the same level: not worse
            )
        )
    )
    assert (
        plan.summary()
        == "1 new provider, 2 new homes, 0 homes changed, 6 new inspections, 2 judgements worse than before"
    )


def test_redacted_names_never_overwrite_a_real_name():
    ofsted.import_file(table(rows("SC100001,REDACTED,P Ltd,2020-01-01,Good")))
    assert home("SC100001").name is None
    assert home("SC100001").display_name == "SC100001 (Derby)"
    home("SC100001").name = "Given a name"
    db.session.flush()
    ofsted.import_file(table(rows("SC100001,REDACTED,P Ltd,2021-01-01,Good")))
    db.session.expire_all()
    assert home("SC100001").name == "Given a name"


def test_a_provider_matches_by_a_former_name():
    provider = ProviderFactory(name="Riverbank Children's Services Ltd")
    add_alias(provider, "Riverbank Care Ltd")
    ofsted.import_file(table(SAMPLE))
    assert home("SC900101").provider_id == provider.id
    assert count(Provider) == 3  # Riverbank (by its alias) and two new ones


def test_headers_aliases_and_extra_columns():
    text = (
        " urn ,PROVISION TYPE,Name,Organisation which owns the provider,Local authority,Places,Registration status,"
        "Event type,Inspection date,Overall experiences and progress of children and young people,Some new column\n"
        "SC100001,Children's home,A,P Ltd,Derby,3,Active,Full inspection,2020-01-01,Good,whatever\n"
    )
    ofsted.import_file(table(text))
    assert home("SC100001").inspections[0].event_type == "Full inspection"


def test_an_xlsx_file_imports():
    lines = [line.split(",") for line in rows("SC100001,A,P Ltd,01/04/2024,Good").strip().split("\n")]
    ofsted.import_file(table(xlsx(lines), "ofsted.xlsx"))
    assert home("SC100001").inspections[0].judgement.name == "Good"


def failure(text) -> list[str]:
    with pytest.raises(ImportFailed) as failed:
        ofsted.import_file(table(text) if not hasattr(text, "rows") else text)
    assert (count(Home), count(Inspection), count(Provider)) == (0, 0, 0)
    return failed.value.lines()


def test_the_same_inspection_with_two_judgements_names_both_lines():
    lines = failure(
        rows(
            "SC100001,A,P Ltd,2020-01-01,Good",
            "SC100002,B,P Ltd,2020-01-01,Good",
            "SC100001,A,P Ltd,01/01/2020,Inadequate",
        )
    )
    assert lines == ["line 4: the inspection of SC100001 on 01/01/2020 is 'Inadequate' here but 'Good' on line 2"]


def test_a_judgement_that_contradicts_the_register_is_refused():
    ofsted.import_file(table(rows("SC100001,A,P Ltd,2020-01-01,Good")))
    with pytest.raises(ImportFailed) as failed:
        ofsted.import_file(table(rows("SC100002,B,P Ltd,2020-01-01,Good", "SC100001,A,P Ltd,2020-01-01,Outstanding")))
    assert failed.value.lines() == [
        "line 3: SC100001 already has an inspection on 01/01/2020 judged 'Good'; this line says 'Outstanding'"
    ]
    assert count(Home) == 1


@pytest.mark.parametrize(
    "line, message",
    [
        ("SC100001,A,P Ltd,31/02/2024,Good", "line 3: Inspection date: '31/02/2024' is not a date"),
        ("SC12345,A,P Ltd,2024-01-01,Good", "line 3: URN 'SC12345' is not SC and six digits, nor six or seven digits"),
        ("12345,A,P Ltd,2024-01-01,Good", "line 3: URN '12345' is not SC and six digits"),
        ("SC100001,A,P Ltd,2024-01-01,Very good", "line 3: unknown judgement 'Very good'"),
        ("SC100001,A,,2024-01-01,Good", "line 3: Organisation which owns the provider is empty"),
        ("SC100001,A,P Ltd,,Good", "line 3: the judgement 'Good' has no inspection date"),
        ("SC100001,A,P Ltd,2024-01-01,", "line 3: there is an inspection date but no judgement"),
    ],
)
def test_bad_lines_are_named_and_nothing_is_imported(line, message):
    lines = failure(rows("SC100009,Fine,P Ltd,2024-01-01,Good", line))
    assert len(lines) == 1
    assert lines[0].startswith(message)


def test_a_missing_column_is_named_as_ofsted_spells_it():
    text = SAMPLE.replace(",Overall experiences and progress of children and young people", "")
    assert failure(text) == ["line 1: missing column: Overall experiences and progress of children and young people"]


def test_an_empty_file_is_refused():
    assert failure("") == ["line 1: the file is empty: expected a header line"]


def test_a_csv_with_formula_text_is_refused():
    lines = failure(
        rows('SC100001,=HYPERLINK("http://x"),P Ltd,2024-01-01,Good', "SC100002,@SUM(A1),P Ltd,2024-01-01,Good")
    )
    assert lines == [
        "line 2: Setting name starts with '=': formulas are not accepted",
        "line 3: Setting name starts with '@': formulas are not accepted",
    ]


def test_a_file_over_the_size_cap_is_refused(monkeypatch):
    monkeypatch.setattr(tabular, "MAX_BYTES", 100)
    with pytest.raises(ImportFailed, match="files can be at most"):
        table(SAMPLE)


def test_a_file_over_the_row_cap_is_refused(monkeypatch):
    monkeypatch.setattr(tabular, "MAX_ROWS", 3)
    with pytest.raises(ImportFailed, match="more than 3 rows; at most 3 can be imported at once"):
        table(SAMPLE)


def test_an_xlsx_that_unpacks_far_beyond_its_size_is_refused_before_parsing():
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "0" * (20 * 1024 * 1024))
    with pytest.raises(ImportFailed, match="too large to read safely"):
        table(bomb.getvalue(), "bomb.xlsx")


def test_a_file_that_is_not_a_workbook_or_text_is_refused():
    with pytest.raises(ImportFailed, match="not a readable XLSX"):
        table(b"PK\x03\x04 this is not really a zip", "fake.xlsx")


def test_the_cli_imports_and_reports(runner, tmp_path):
    path = tmp_path / "ofsted.csv"
    path.write_text(SAMPLE)
    result = runner.invoke(args=["import", "ofsted", str(path)])
    assert result.exit_code == 0, result.output
    assert "6 homes added" in result.output and "2 judgements worse" in result.output
    path.write_text(rows("SC1,A,P Ltd,2024-01-01,Good"))
    result = runner.invoke(args=["import", "ofsted", str(path)])
    assert result.exit_code == 1
    assert "line 2: URN 'SC1'" in result.output
