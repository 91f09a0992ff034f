"""Renamed providers and new owners (DESIGN §2, Provider): the Ofsted import lists each home whose
owner's name changed and a lead decides; two providers can be merged afterwards, on the
provider's page or with `flask providers merge`."""

import io
import re

import pytest
from sqlalchemy import func, select

from consortium.core.audit import AuditEvent
from consortium.core.extensions import db
from consortium.core.models import User
from consortium.core.services import RuleBroken
from consortium.core.tabular import read_table
from contracts.models import Admission, Contract
from providers import merge, ofsted
from providers.models import Home, Provider, ProviderAlias
from tests.conftest import sign_in
from tests.factories import (
    AdmissionFactory,
    ContractFactory,
    LotFactory,
    ProviderFactory,
    lead,
    provider_user,
)
from tests.ofsted_files import rows

OLD, NEW = "Oak Children's Homes Ltd", "Oak Care Group Ltd"


def _table(text: str):
    return read_table(text.encode(), "ofsted.csv", **ofsted.COLUMNS)


@pytest.fixture
def oak():
    """Oak with two homes, admitted to a framework lot, holding a block, with a returns account."""
    ofsted.import_file(
        _table(rows(f"SC100001,Acorn House,{OLD},2024-01-10,Good", f"SC100002,Beech House,{OLD},2024-02-10,Good"))
    )
    provider = db.session.scalar(select(Provider).where(Provider.name == OLD))
    consortium = lead().consortium
    admission = AdmissionFactory(
        lot=LotFactory(contract=ContractFactory(consortium=consortium, kind="framework")), provider=provider
    )
    block = ContractFactory(consortium=consortium, provider=provider)
    staff = provider_user(provider)
    return {"provider": provider, "admission": admission, "block": block, "staff": staff, "consortium": consortium}


# The next month's file: Ofsted names the owner as it is today.
RENAMED = rows(f"SC100001,Acorn House,{NEW},2024-01-10,Good", f"SC100002,Beech House,{NEW},2024-02-10,Good")


def _renamed_file():
    return _table(RENAMED)


def test_the_plan_lists_each_provider_whose_homes_changed_owner(oak):
    plan = ofsted.plan(_renamed_file())
    (change,) = plan.owner_changes
    assert (change.was, change.now, change.homes) == (OLD, NEW, ["SC100001", "SC100002"])
    assert plan.new_providers == [NEW]


def test_a_rename_keeps_admissions_contracts_returns_and_accounts(oak):
    plan = ofsted.plan(_renamed_file())
    result = ofsted.apply(plan, {plan.owner_changes[0].key})
    assert result.details["owners_renamed"] == 1
    (provider,) = db.session.scalars(select(Provider)).all()
    assert provider.name == NEW and [a.name for a in provider.aliases] == [OLD]
    assert {h.provider_id for h in db.session.scalars(select(Home))} == {provider.id}
    assert db.session.get(Admission, oak["admission"].id).provider_id == provider.id
    assert db.session.get(Contract, oak["block"].id).provider_id == provider.id
    assert db.session.get(User, oak["staff"].id).provider_id == provider.id
    # A file that still names the old owner matches the one provider.
    again = ofsted.plan(_table(rows(f"SC100001,Acorn House,{OLD},2024-01-10,Good")))
    assert again.new_providers == [] and again.owner_changes == []


def test_a_new_owner_moves_the_homes_and_leaves_the_admissions(oak):
    plan = ofsted.plan(_renamed_file())
    assert ofsted.apply(plan).details["owners_new"] == 1
    new = db.session.scalar(select(Provider).where(Provider.name == NEW))
    assert {h.provider_id for h in db.session.scalars(select(Home))} == {new.id}
    assert db.session.get(Admission, oak["admission"].id).provider_id == oak["provider"].id


def test_two_providers_admitted_to_the_same_lot_are_not_merged(oak):
    other = ProviderFactory(name="Oak Care (duplicate)")
    AdmissionFactory(lot=oak["admission"].lot, provider=other)
    with pytest.raises(RuleBroken, match="cannot be merged: both have admissions to the same lot"):
        merge.merge(oak["provider"], other)


def test_a_lead_decides_on_the_preview_and_is_asked_when_they_have_not(client, oak):
    sign_in(client, lead(oak["consortium"]))
    preview = client.post(
        "/ofsted/import",
        data={"file": (io.BytesIO(RENAMED.encode()), "ofsted.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "Homes whose owner has changed" in preview and f"{OLD} is now called {NEW}" in preview.replace("&#39;", "'")
    upload_id = re.search(r'/ofsted/import/(\d+)"', preview).group(1)
    key = re.search(r'name="owner-0-key" value="([^"]+)"', preview).group(1)
    undecided = client.post(f"/ofsted/import/{upload_id}", data={"owner-0-key": key})
    page = undecided.get_data(as_text=True).replace("&#39;", "'")
    assert undecided.status_code == 400 and "<title>Error: " in page
    assert (
        f'href="#owner-0">Choose whether {NEW} is {OLD} renamed or a new owner' in page and 'id="owner-0-error"' in page
    )
    assert db.session.scalar(select(func.count()).select_from(Provider)) == 1  # nothing imported
    done = client.post(f"/ofsted/import/{upload_id}", data={"owner-0-key": key, "owner-0": "rename"})
    assert done.status_code == 302
    db.session.expire_all()
    (provider,) = db.session.scalars(select(Provider)).all()
    assert provider.name == NEW and db.session.get(Admission, oak["admission"].id).provider_id == provider.id


def test_a_lead_merges_two_providers_on_the_providers_page_after_checking(client, oak):
    other = ProviderFactory(name=NEW)
    home = db.session.scalar(select(Home).where(Home.urn == "SC100002"))
    home.provider = other  # moved as a new owner by an earlier import
    db.session.flush()
    sign_in(client, lead(oak["consortium"]))
    form = client.get(f"/providers/{oak['provider'].id}/merge").get_data(as_text=True)
    assert f'<option value="{other.id}">{NEW}</option>' in form
    check = client.post(f"/providers/{oak['provider'].id}/merge", data={"other": str(other.id)}).get_data(as_text=True)
    assert f"Merge {NEW} into {OLD}?" in check.replace("&#39;", "'") and "Homes" in check
    assert db.session.get(Provider, other.id) is not None  # nothing merged yet
    done = client.post(f"/providers/{oak['provider'].id}/merge", data={"other": str(other.id), "confirmed": "yes"})
    assert done.status_code == 302
    other_id = other.id
    db.session.expire_all()
    assert db.session.get(Provider, other_id) is None and home.provider_id == oak["provider"].id
    assert db.session.scalar(select(ProviderAlias.provider_id).where(ProviderAlias.name == NEW)) == oak["provider"].id
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "merge")) == 1


def test_the_command_line_lists_owner_changes_and_merges(runner, oak, tmp_path):
    path = tmp_path / "ofsted.csv"
    path.write_text(rows(f"SC100001,Acorn House,{NEW},2024-01-10,Good"))
    listed = runner.invoke(args=["import", "ofsted", str(path)])
    assert listed.exit_code == 0, listed.output
    assert f"owner changed: SC100001 from {OLD} to {NEW}, applied as a new owner" in listed.output
    assert f'flask providers merge --keep "{NEW}" --alias "{OLD}"' in listed.output
    merged = runner.invoke(args=["providers", "merge", "--keep", NEW, "--alias", OLD])
    assert merged.exit_code == 0, merged.output
    db.session.expire_all()
    (provider,) = db.session.scalars(select(Provider)).all()
    assert provider.name == NEW and db.session.get(Admission, oak["admission"].id).provider_id == provider.id
    refused = runner.invoke(args=["providers", "merge", "--keep", NEW, "--alias", "Nobody Ltd"])
    assert refused.exit_code == 1 and "No provider is named 'Nobody Ltd'" in refused.output
