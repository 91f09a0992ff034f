"""The Transparency Code contracts register, and the details it needs from contracts and suppliers."""

import csv
import io
from datetime import date

import pytest

from consortium.core.extensions import db
from consortium.core.tabular import read_table
from contracts import imports, transparency
from tests.conftest import sign_in
from tests.factories import (
    AdmissionFactory,
    AuthorityFactory,
    BlockPriceFactory,
    ConsortiumFactory,
    ContractFactory,
    HomeFactory,
    LotFactory,
    ProviderFactory,
    lead,
    partner,
)


@pytest.fixture
def consortium():
    nottingham = AuthorityFactory(code="E06000018")
    ours = ConsortiumFactory(ref="EMRF", members=[nottingham])
    oak = ProviderFactory(name="Oak Ltd", companies_house_number="01234567", sme=True, voluntary=False)
    elm = ProviderFactory(name="Elm CIC", voluntary=True)
    ash = ProviderFactory(name="Ash Homes")
    framework = ContractFactory(
        ref="FW",
        kind="framework",
        consortium=ours,
        value_pence=2_500_000_000,
        procurement_route="Light touch regime",
        description="Residential placements",
    )
    lot = LotFactory(contract=framework)
    AdmissionFactory(lot=lot, provider=oak)
    AdmissionFactory(lot=lot, provider=elm)
    AdmissionFactory(lot=lot, provider=ash, status="withdrawn")
    # Two beds at £3,500 a week for 14 nights: £14,000, worked out from the block's own nights.
    block = ContractFactory(
        ref="BLOCK",
        consortium=ours,
        provider=oak,
        beds=2,
        owner_code="E06000018",
        start_date=date(2025, 4, 1),
        end_date=date(2025, 4, 14),
        max_end_date=date(2025, 4, 14),
    )
    block.homes.append(HomeFactory(provider=oak))
    BlockPriceFactory(contract=block, weekly_pence=350000, effective_from=block.start_date)
    ContractFactory(ref="SMALL", kind="framework", consortium=ours, value_pence=400_000)  # £4,000: not listed
    return ours


def register(consortium, owner=None) -> list[dict]:
    text = transparency.csv_text(transparency.rows(transparency.contracts_of(consortium.id, owner)))
    return list(csv.DictReader(io.StringIO(text)))


def test_the_register_lists_each_contract_over_5000_pounds_with_each_supplier(consortium):
    lines = register(consortium)
    assert [(line["Reference"], line["Supplier name"]) for line in lines] == [
        ("BLOCK", "Oak Ltd"),
        ("FW", "Elm CIC"),
        ("FW", "Oak Ltd"),
    ]
    block, elm, oak = lines
    assert block["Value (£)"] == "14000.00" and block["Start date"] == "2025-04-01"
    assert (oak["Value (£)"], oak["Procurement route"], oak["Description"]) == (
        "25000000.00",
        "Light touch regime",
        "Residential placements",
    )
    assert (oak["Supplier registration number"], oak["SME"], oak["Voluntary or community sector"]) == (
        "01234567",
        "Yes",
        "No",
    )
    assert (elm["SME"], elm["Voluntary or community sector"]) == ("", "Yes")
    assert [line["Reference"] for line in register(consortium, "E06000018")] == ["BLOCK"]  # an owner's own


def test_the_command_and_the_download(client, runner, consortium):
    db.session.commit()
    out = runner.invoke(args=["export", "transparency", "--consortium", "EMRF"])
    assert out.exit_code == 0 and out.output.splitlines()[0].startswith("Reference,Title,Description")
    sign_in(client, lead(consortium))
    download = client.get("/contracts/transparency.csv")
    assert download.status_code == 200 and "BLOCK" in download.get_data(as_text=True)
    sign_in(client, partner(consortium.memberships[0].authority))
    assert client.get("/contracts/transparency.csv").status_code == 403


def test_a_lead_records_the_register_details_and_a_suppliers(client, consortium):
    sign_in(client, lead(consortium))
    block = next(c for c in transparency.contracts_of(consortium.id) if c.ref == "BLOCK")
    saved = client.post(
        f"/contracts/{block.id}/register",
        data={
            "description": "Two beds for children in crisis",
            "department": "Children's Services",
            "value": "20000",
            "procurement_route": "Direct award",
            "review_date": ["1", "10", "2025"],
            "version": str(block.version),
        },
    )
    assert saved.status_code == 302
    db.session.refresh(block)
    assert (block.value_pence, block.procurement_route, block.review_date) == (
        2_000_000,
        "Direct award",
        date(2025, 10, 1),
    )
    refused = client.post(
        f"/contracts/{block.id}/register", data={"procurement_route": "Handshake", "version": str(block.version)}
    )
    assert refused.status_code == 400 and "Not a valid choice" in refused.get_data(as_text=True)
    oak = block.provider
    client.post(
        f"/providers/{oak.id}/supplier", data={"companies_house_number": "sc123456", "sme": "no", "voluntary": ""}
    )
    db.session.refresh(oak)
    assert (oak.companies_house_number, oak.sme, oak.voluntary) == ("SC123456", False, None)
    bad = client.post(f"/providers/{oak.id}/supplier", data={"companies_house_number": "123"})
    assert bad.status_code == 400 and "8 letters and digits" in bad.get_data(as_text=True)


def test_the_contracts_import_takes_the_register_columns(consortium):
    header = ",".join(imports.CONTRACT_COLUMNS["required"] + imports.CONTRACT_COLUMNS["optional"])
    good = (
        "NEW,framework,New framework,EMRF,,2026-04-01,2030-03-31,2032-03-31,,,,"
        "Foster care,Commissioning,1500000,Open procedure,2027-04-01"
    )
    bad = "BAD,framework,Bad,EMRF,,2026-04-01,2030-03-31,2032-03-31,,,,,,-5,Handshake,"
    result = imports.import_contracts(read_table(f"{header}\n{good}\n".encode(), "c.csv", **imports.CONTRACT_COLUMNS))
    assert result.added == 1
    made = next(c for c in transparency.contracts_of(consortium.id) if c.ref == "NEW")
    assert (made.value_pence, made.procurement_route, made.review_date) == (
        150_000_000,
        "Open procedure",
        date(2027, 4, 1),
    )
    from consortium.core.tabular import ImportFailed

    with pytest.raises(ImportFailed) as failed:
        imports.import_contracts(read_table(f"{header}\n{bad}\n".encode(), "c.csv", **imports.CONTRACT_COLUMNS))
    text = " ".join(failed.value.lines())
    assert "line 2: value cannot be negative" in text and "procurement_route 'Handshake' is not one of" in text
