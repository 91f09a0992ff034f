"""The Placements Data Standard template: out exactly as the template, in again by its rules."""

import csv
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from consortium.core.extensions import db
from consortium.core.tabular import ImportFailed, read_table
from contracts import pds
from contracts.models import Placement
from tests.conftest import sign_in
from tests.factories import (
    AuthorityFactory,
    BlockPriceFactory,
    ConsortiumFactory,
    ContractFactory,
    HomeFactory,
    PlacementFactory,
    PlacementFeeFactory,
    lead,
    partner,
)

# The column names of the template spreadsheet of 24 June 2026 (Data Collection, row 2), in order.
TEMPLATE = (
    "child_ID,when_placement_is_needed_by,number_of_siblings_to_place_with,is_preferred_location_local,"
    "out_of_LA_reason,communication_language_learning_needs,specific_communication_and_language_requirements,"
    "adaptation_to_the_home,cultural_needs,who_can_the_child_be_cared_for_alongside,can_child_live_with_pets,"
    "additional_support,additional_support_other,dol,foster_care_suitability,residential_care_suitability,"
    "supported_accommodation,risk_to_child_self_harm,risk_to_child_criminal_exploitation,"
    "risk_to_child_drug_and_alcohol_use,risk_to_child_eating_disorder,risk_to_child_going_missing,"
    "risk_to_others_physical_harm,risk_to_others_sexual_harm,risk_to_others_fire_setting,"
    "risk_to_others_harm_to_animals,risk_to_others_criminal_exploitation,cost_core_weekly,"
    "cost_additional_support_weekly,cost_education_weekly,cost_other_weekly,cost_total_weekly,placement_location,"
    "preferrability_of_placement_location,education_continuity,provider_URN,how_many_siblings_were_placed_together,"
    "placement_type,name_of_officer_referral,Date_entry_referral,name_of_officer_placement,date_entry_placement,"
    "name_of_officer_placement_cost,date_entry_placement_cost"
)


@pytest.fixture
def placed():
    nottingham = AuthorityFactory(code="E06000018")
    consortium = ConsortiumFactory(members=[nottingham])
    home = HomeFactory(urn="SC100001", postcode="NG5 1AA")
    block = ContractFactory(consortium=consortium, beds=2, start_date=date(2024, 4, 1))
    block.homes.append(home)
    BlockPriceFactory(contract=block, weekly_pence=350000, effective_from=block.start_date)
    spot = PlacementFactory(
        authority=nottingham,
        child_ref="NOT-1",
        contract=None,
        home=home,
        start_date=date(2025, 5, 1),
        placement_type="ifa_fostering",
    )
    PlacementFeeFactory(placement=spot, weekly_pence=120000, effective_from=spot.start_date)
    PlacementFeeFactory(placement=spot, weekly_pence=130000, effective_from=date(2025, 9, 1))
    PlacementFactory(
        authority=nottingham,
        child_ref="NOT-2",
        contract=block,
        home=home,
        start_date=date(2025, 6, 1),
        end_date=date(2025, 8, 1),
        placement_type="residential_education",
    )
    PlacementFactory(
        authority=nottingham,
        child_ref="NOT-OLD",
        contract=None,
        home=home,
        start_date=date(2023, 1, 1),
        end_date=date(2024, 1, 1),
    )
    return nottingham


def lines(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def export(authority, first=date(2025, 4, 1), last=date(2026, 3, 31)) -> str:
    query = select(Placement).where(Placement.authority_code == authority.code)
    return pds.csv_text(pds.rows(pds.placements_of(query, first, last), last))


def test_the_export_is_the_template_line_for_line(placed):
    text = export(placed)
    assert text.splitlines()[0] == TEMPLATE  # line 1 exactly: no heading row, no BOM
    rows = lines(text)
    assert [r["child_ID"] for r in rows] == ["NOT-1", "NOT-2"]  # open in the period only
    spot, block = rows
    # The fee on the period's last day; a block placement costs the block's price per bed-week.
    assert (spot["cost_total_weekly"], spot["placement_type"], spot["provider_URN"]) == (
        "1300.00",
        "Foster",
        "SC100001",
    )
    assert (block["cost_total_weekly"], block["placement_type"]) == ("3500.00", "Residential")
    assert spot["placement_location"] == "NG5" and spot["date_entry_placement"] == "2025-05-01"
    assert spot["risk_to_child_going_missing"] == "" and spot["cost_core_weekly"] == ""  # not held: empty


def test_the_export_round_trips_through_the_import_into_an_empty_authority(placed):
    original = export(placed)
    empty = AuthorityFactory(code="E06000099")
    result = pds.import_pds(read_table(original.encode(), "pds.csv", required=pds.COLUMNS), empty.code)
    assert (result.added, result.details["warnings"]) == (2, [])
    again = export(empty)
    assert lines(again) == lines(original)
    unchanged = pds.import_pds(read_table(original.encode(), "pds.csv", required=pds.COLUMNS), empty.code)
    assert (unchanged.added, unchanged.unchanged) == (0, 2)


def _file(*changes: dict) -> bytes:
    base = dict.fromkeys(pds.COLUMNS, "")
    base.update(
        child_ID="NOT-9",
        cost_total_weekly="4500.00",
        provider_URN="SC100001",
        placement_type="Residential",
        date_entry_placement="2025-05-01",
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=pds.COLUMNS)
    writer.writeheader()
    for change in changes:
        writer.writerow({**base, **change})
    return out.getvalue().encode()


def test_the_import_names_each_bad_line_and_imports_nothing(placed):
    data = _file(
        {"child_ID": "A-1", "cost_core_weekly": "-5"},
        {"child_ID": "A-2", "placement_location": "NG5 1AA"},
        {"child_ID": "A-3", "additional_support": "Other"},
        {"child_ID": "A-3"},
        {"child_ID": "A-5", "placement_type": "Castle"},
        {"child_ID": "A-6", "provider_URN": "SC999999"},
    )
    with pytest.raises(ImportFailed) as failed:
        pds.import_pds(read_table(data, "pds.csv", required=pds.COLUMNS), placed.code)
    text = "\n".join(failed.value.lines())
    assert "line 2: cost_core_weekly must be an amount in pounds of 0 or more, not '-5'" in text
    assert "line 3: placement_location 'NG5 1AA' is not the first part of a postcode" in text
    assert "line 4: additional_support is Other: say what in additional_support_other" in text
    assert "line 5: child_ID A-3 appears again (first on line 4)" in text
    assert "line 6: placement_type 'Castle' is not one of Residential, Foster, Supported Accommodation" in text
    assert "line 7: unknown home 'SC999999'" in text
    assert db.session.scalar(select(func.count()).where(Placement.child_ref.like("A-%"))) == 0


def test_an_unlikely_total_is_a_warning_and_a_missing_column_a_refusal(placed):
    result = pds.import_pds(
        read_table(_file({"cost_total_weekly": "99.00"}), "pds.csv", required=pds.COLUMNS), placed.code
    )
    assert result.added == 1 and result.details["warnings"] == [
        "line 2: cost_total_weekly £99.00 is outside £100 to £100,000"
    ]
    short = _file({}).replace(b"dol,", b"", 1)
    with pytest.raises(ImportFailed) as failed:
        read_table(short, "pds.csv", required=pds.COLUMNS)
    assert "dol" in " ".join(failed.value.lines())


def test_the_commands_export_and_import(runner, placed, tmp_path):
    db.session.commit()
    out = runner.invoke(
        args=["export", "pds", "--authority", "E06000018", "--from", "2025-04-01", "--to", "2026-03-31"]
    )
    assert out.exit_code == 0 and out.output.splitlines()[0] == TEMPLATE
    AuthorityFactory(code="E06000098")
    db.session.commit()
    path = tmp_path / "pds.csv"
    path.write_text(out.output)
    imported = runner.invoke(args=["import", "pds", str(path), "--authority", "E06000098"])
    assert imported.exit_code == 0 and "2 added" in imported.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_file({"placement_location": "nowhere"}))
    refused = runner.invoke(args=["import", "pds", str(bad), "--authority", "E06000098"])
    assert refused.exit_code == 1 and "line 2: placement_location 'nowhere'" in refused.output


def test_the_download_and_the_api_give_what_the_user_sees(client, placed):
    sign_in(client, partner(placed))
    page = client.get("/placements/pds.csv?from=2025-04-01&to=2026-03-31")
    assert page.status_code == 200 and [r["child_ID"] for r in lines(page.get_data(as_text=True))] == ["NOT-1", "NOT-2"]
    sign_in(client, partner(AuthorityFactory()))
    assert lines(client.get("/placements/pds.csv?from=2025-04-01&to=2026-03-31").get_data(as_text=True)) == []
    sign_in(client, lead(ConsortiumFactory()))
    assert lines(client.get("/placements/pds.csv?from=2025-04-01&to=2026-03-31").get_data(as_text=True)) == []


def test_a_partner_imports_a_file_on_the_upload_page(client, placed):
    import io as bytes_io

    sign_in(client, partner(placed))
    assert "Import a Placements Data Standard file" in client.get("/placements").get_data(as_text=True)
    bad = client.post(
        "/placements/pds/import",
        data={"file": (bytes_io.BytesIO(_file({"placement_location": "nowhere"})), "pds.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400 and "line 2: placement_location" in bad.get_data(as_text=True)
    good = client.post(
        "/placements/pds/import",
        data={"file": (bytes_io.BytesIO(_file({"cost_total_weekly": "50"})), "pds.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    text = good.get_data(as_text=True)
    assert "pds.csv: 1 added" in text and "cost_total_weekly £50.00 is outside" in text
    assert db.session.scalar(select(func.count()).where(Placement.child_ref == "NOT-9")) == 1
