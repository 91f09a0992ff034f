"""The OCDS 1.1 release package of a consortium's contracts: valid offline, and no child-level data."""

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from contracts import ocds
from tests.factories import (
    AdmissionFactory,
    AuthorityFactory,
    BlockPriceFactory,
    ConsortiumFactory,
    ContractFactory,
    HomeFactory,
    LotFactory,
    PlacementFactory,
    ProviderFactory,
)

# Written by this project from the OCDS 1.1.5 schemas and codelists and the two extensions'
# schemas (its $comment names them); the test never downloads anything.
SCHEMA = json.loads((Path(ocds.__file__).parent / "schema" / "ocds-release-package.json").read_text())
TODAY = date(2026, 12, 1)


@pytest.fixture
def consortium():
    derby, nottingham = AuthorityFactory(code="E06000015", name="Derby"), AuthorityFactory(code="E06000018")
    ours = ConsortiumFactory(ref="EMRF", lead=derby, members=[nottingham])
    oak, elm = ProviderFactory(name="Oak Ltd"), ProviderFactory(name="Elm CIC")
    framework = ContractFactory(
        ref="FW",
        kind="framework",
        consortium=ours,
        start_date=date(2024, 4, 1),
        end_date=date(2028, 3, 31),
        max_end_date=date(2030, 3, 31),
    )
    residential, solo = LotFactory(contract=framework, name="Residential"), LotFactory(contract=framework, name="Solo")
    AdmissionFactory(lot=residential, provider=oak, tier="Preferred")
    AdmissionFactory(lot=solo, provider=elm, status="withdrawn")
    block = ContractFactory(
        ref="BLOCK",
        consortium=ours,
        provider=oak,
        owner_code="E06000018",
        beds=4,
        start_date=date(2025, 4, 1),
        end_date=date(2027, 3, 31),
        max_end_date=date(2029, 3, 31),
    )
    home = HomeFactory(provider=oak)
    block.homes.append(home)
    BlockPriceFactory(contract=block)
    PlacementFactory(
        authority=nottingham, child_ref="NOT-SECRET-1", contract=block, home=home, start_date=date(2025, 5, 1)
    )
    return ours


def test_the_package_validates_against_the_schema_offline(app, consortium):
    package = ocds.package(consortium, TODAY)
    jsonschema.validate(package, SCHEMA)
    assert package["version"] == "1.1" and len(package["extensions"]) == 2
    framework, block = (
        {r["tender"]["id"]: r for r in package["releases"]}["FW"],
        {r["tender"]["id"]: r for r in package["releases"]}["BLOCK"],
    )
    assert framework["tender"]["techniques"] == {"hasFrameworkAgreement": True}
    lots = {lot["title"]: lot["id"] for lot in framework["tender"]["lots"]}
    assert sorted(lots) == ["Residential", "Solo"]
    awards = {(a["suppliers"][0]["name"], a["relatedLots"][0], a["status"]) for a in framework["awards"]}
    assert awards == {("Oak Ltd", lots["Residential"], "active"), ("Elm CIC", lots["Solo"], "cancelled")}
    assert "contracts" not in framework  # call-offs are placements: never published
    buyers = {p["id"] for p in framework["parties"] if "buyer" in p["roles"]}
    assert buyers == {"GB-ONS-E06000015", "GB-ONS-E06000018"}
    assert block["contracts"][0]["awardID"] == block["awards"][0]["id"]
    assert [p["id"] for p in block["parties"] if "buyer" in p["roles"]] == ["GB-ONS-E06000018"]  # its owner alone


def test_every_reference_in_the_package_resolves_and_no_child_is_named(app, consortium):
    package = ocds.package(consortium, TODAY)
    for release in package["releases"]:
        parties = {party["id"] for party in release["parties"]}
        lots = {lot["id"] for lot in release["tender"].get("lots", [])}
        assert release["buyer"]["id"] in parties
        for award in release["awards"]:
            assert {s["id"] for s in award["suppliers"]} <= parties
            assert set(award.get("relatedLots", [])) <= lots
    assert "NOT-SECRET-1" not in json.dumps(package)


def test_the_schema_refuses_what_ocds_does_not_allow(app, consortium):
    package = ocds.package(consortium, TODAY)
    package["releases"][0]["tender"]["status"] = "open"  # not in the tenderStatus codelist
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(package, SCHEMA)


def test_the_command_prints_the_package(runner, consortium):
    from consortium.core.extensions import db

    db.session.commit()
    result = runner.invoke(args=["export", "ocds", "--consortium", "EMRF"])
    assert result.exit_code == 0
    jsonschema.validate(json.loads(result.output), SCHEMA)
    assert runner.invoke(args=["export", "ocds", "--consortium", "NOPE"]).exit_code == 1
