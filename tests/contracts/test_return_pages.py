"""Monitoring returns through the pages: template, upload, review, results, and who may do what."""

import html
import io
import zipfile
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from consortium.core.extensions import db
from contracts import returns
from contracts.models import MonitoringReturn
from tests.conftest import sign_in
from tests.core.test_tabular import xlsx
from tests.factories import (
    ContractFactory,
    ProviderFactory,
    lead,
    partner,
    provider_user,
)

VALUES = {
    "EET": "96",
    "HEALTH": "100",
    "MFC": "0",
    "UNPLANNED": "0",
    "VIEWS": "100",
    "L3": "85",
    "NOTIFIABLE": "1",
    "COMPLAINTS": "0",
}


@pytest.fixture
def block():
    contract = ContractFactory(
        ref="BLOCK", start_date=date(2024, 4, 1), end_date=date(2030, 3, 31), max_end_date=date(2032, 3, 31)
    )
    returns.attach(contract, returns.starter_template())
    return contract


def url(block, period="2024-Q1", provider_id=None):
    return f"/contracts/{block.id}/returns/{provider_id or block.provider_id}/{period}"


def upload(client, block, rows, name="return.xlsx", period="2024-Q1"):
    data = rows if isinstance(rows, bytes) else xlsx([["indicator_code", "value", "comment"], *rows])
    return client.post(
        f"{url(block, period)}/upload", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def test_a_provider_downloads_the_template_uploads_it_and_the_lead_accepts(client, block):
    staff = provider_user(block.provider)
    sign_in(client, staff)
    schedule = client.get("/returns").get_data(as_text=True)
    assert "2024-Q1" in schedule and "BLOCK" in schedule and "Overdue" in schedule
    template = client.get(f"{url(block)}/template.xlsx")
    sheet = load_workbook(io.BytesIO(template.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["indicator_code", "value", "comment", "name", "unit"]
    assert [row[0] for row in rows[1:]] == list(VALUES)
    filled = [[code, VALUES[code], "fine" if code == "EET" else None] for code in VALUES]
    response = upload(client, block, filled)
    assert response.status_code == 302 and response.location.endswith("/check")
    check = client.get(response.location).get_data(as_text=True)
    assert "Check your 2024-Q1 (Apr to Jun 2024) return before you submit it" in check and "fine" in check
    assert db.session.scalar(select(MonitoringReturn.status)) == "draft"  # nothing is locked until confirmed
    response = client.post(f"{url(block)}/check", data={"version": db.session.scalar(select(MonitoringReturn.version))})
    assert response.status_code == 302
    page = client.get(url(block)).get_data(as_text=True)
    assert "Return submitted" in page and "Submitted" in page and "submitted late" in page
    monitoring_return = db.session.scalar(select(MonitoringReturn))
    assert (monitoring_return.status, monitoring_return.late) == ("submitted", True)
    # Submitted returns are locked for the provider.
    again = client.post(url(block), data={"action": "submit", **{f"value-{k}": v for k, v in VALUES.items()}})
    assert again.status_code == 403
    sign_in(client, lead(block.consortium))
    response = client.post(
        f"/returns/{monitoring_return.id}/review", data={"decision": "accept", "version": monitoring_return.version}
    )
    assert response.status_code == 302
    results = client.get(f"/contracts/{block.id}/returns").get_data(as_text=True)
    assert "govuk-tag--green" in results and "2024-Q1" in results and "<svg" in results


def test_the_form_saves_a_draft_then_submits(client, block):
    sign_in(client, provider_user(block.provider))
    draft = client.post(url(block), data={"action": "draft", "value-EET": "91"})
    assert draft.status_code == 302
    page = client.get(url(block)).get_data(as_text=True)
    assert 'value="91"' in page and "Draft saved" in page
    version = db.session.scalar(select(MonitoringReturn.version))  # as the page carries it
    missing = client.post(url(block), data={"action": "submit", "value-EET": "91", "version": version})
    page = missing.get_data(as_text=True)
    assert missing.status_code == 400 and "HEALTH: enter a value" in page
    # Every problem in its place: one linked entry each in the summary, the message above its field.
    assert page.count('href="#value-') >= 7 and 'id="value-HEALTH-error"' in page and "<title>Error: " in page
    checking = client.post(
        url(block), data={"action": "submit", "version": version, **{f"value-{k}": v for k, v in VALUES.items()}}
    )
    assert checking.status_code == 302 and checking.location.endswith("/check")
    done = client.post(checking.location, data={"version": db.session.scalar(select(MonitoringReturn.version))})
    assert done.status_code == 302
    assert db.session.scalar(select(MonitoringReturn.status)) == "submitted"


def full(**changes):
    """Every indicator's row, with some values changed (None leaves a row out)."""
    rows = []
    for code, value in VALUES.items():
        value = changes.get(code, value)
        if value is not None:
            rows.append([code, value, None])
    return rows


@pytest.mark.parametrize(
    "rows, message",
    [
        (full() + [["NOPE", "1", None]], "unknown indicator code: NOPE"),
        (full(EET=None, HEALTH=None), "no line for EET, HEALTH"),
        (full(EET="ninety"), "EET: &#39;ninety&#39; is not a number"),
        (full(EET="120"), "EET: a percentage is from 0 to 100, not 120"),
        (full(MFC="-1"), "MFC: a count is a whole number of 0 or more, not -1"),
        (full(EET="=1+1"), "formulas are not accepted"),
        (full() + [["EET", "96", None]], "EET appears twice"),
    ],
)
def test_bad_uploads_save_nothing(client, block, rows, message):
    sign_in(client, provider_user(block.provider))
    response = upload(client, block, rows)
    page = client.get(response.location).get_data(as_text=True)
    assert "Nothing was saved" in page and message in page
    assert db.session.scalar(select(MonitoringReturn.id)) is None


def test_a_zip_bomb_and_an_oversize_upload_are_refused(client, app, block):
    sign_in(client, provider_user(block.provider))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "0" * (20 * 1024 * 1024))
    response = upload(client, block, bomb.getvalue(), name="bomb.xlsx")
    assert "too large to read safely" in client.get(response.location).get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = 500
    try:
        assert upload(client, block, b"indicator_code,value\n" + b"EET,1\n" * 200, name="big.csv").status_code == 413
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 10 * 1024 * 1024
    assert db.session.scalar(select(MonitoringReturn.id)) is None


def test_a_provider_can_never_submit_for_another_providers_contract(client, block):
    other = ProviderFactory()
    sign_in(client, provider_user(other))
    assert client.get(url(block)).status_code == 404
    assert (
        client.post(url(block), data={"action": "submit", **{f"value-{k}": v for k, v in VALUES.items()}}).status_code
        == 404
    )
    assert client.get(f"{url(block)}/template.csv").status_code == 404
    assert upload(client, block, [[c, VALUES[c], None] for c in VALUES]).status_code == 404
    # Nor under their own id on a contract they do not hold.
    assert client.get(url(block, provider_id=other.id)).status_code == 404
    assert db.session.scalar(select(MonitoringReturn.id)) is None


def test_leads_review_partners_see_results(client, block):
    staff = provider_user(block.provider)
    returns.save(
        returns.outcomes_of(block), block.provider, "2024-Q1", VALUES, {}, staff, date(2024, 7, 20), submit=True
    )
    monitoring_return = db.session.scalar(select(MonitoringReturn))
    sign_in(client, lead(block.consortium))
    response = client.post(
        f"/returns/{monitoring_return.id}/review",
        data={"decision": "return", "comment": "", "version": monitoring_return.version},
    )
    assert "Say what needs correcting" in html.unescape(client.get(response.location).get_data(as_text=True))
    stale = client.post(
        f"/returns/{monitoring_return.id}/review", data={"decision": "accept", "version": monitoring_return.version - 1}
    )
    assert "changed by someone else" in client.get(stale.location).get_data(as_text=True)
    client.post(
        f"/returns/{monitoring_return.id}/review",
        data={"decision": "return", "comment": "Check L3", "version": monitoring_return.version},
    )
    db.session.refresh(monitoring_return)
    assert (monitoring_return.status, monitoring_return.review_comment) == ("returned", "Check L3")
    member = block.consortium.memberships[0].authority
    sign_in(client, partner(member))
    assert client.get(f"/contracts/{block.id}/returns").status_code == 200
    assert client.post(f"/returns/{monitoring_return.id}/review", data={"decision": "accept"}).status_code == 403
    sign_in(client, partner())
    assert client.get(f"/contracts/{block.id}/returns").status_code == 404
    sign_in(client, lead())
    assert client.post(f"/returns/{monitoring_return.id}/review", data={"decision": "accept"}).status_code == 404


def test_a_lead_attaches_the_starter_framework_and_changes_a_threshold(client):
    contract = ContractFactory(ref="NEW")
    sign_in(client, lead(contract.consortium))
    assert "no outcomes framework" in client.get(f"/contracts/{contract.id}/returns").get_data(as_text=True)
    client.post(f"/contracts/{contract.id}/outcomes")
    outcomes = returns.outcomes_of(contract)
    eet = outcomes.indicators[0]
    response = client.post(f"/indicators/{eet.id}", data={"target": "95", "amber": "85", "red": "90"})
    assert response.status_code == 400 and "at or below the amber one" in response.get_data(as_text=True)
    assert client.post(f"/indicators/{eet.id}", data={"target": "95", "amber": "85", "red": "75"}).status_code == 302
    db.session.refresh(eet)
    assert (eet.amber, eet.red) == (85, 75)
    template_eet = returns.starter_template().indicators[0]
    assert (template_eet.amber, template_eet.red) == (90, 80)  # the template is untouched
    assert client.get(f"/indicators/{template_eet.id}").status_code == 404


def test_submitting_an_overdue_return_resolves_its_flag_at_once(client, block):
    from audits import checks
    from audits.models import Flag

    checks.run(date(2024, 9, 1), ["overdue_return"])  # 2024-Q1 was due on 30 July
    flag = db.session.scalar(select(Flag).where(Flag.kind == "overdue_return"))
    assert flag.status == "open" and flag.period == "2024-Q1"
    sign_in(client, provider_user(block.provider))
    response = client.post(url(block), data={"action": "submit", **{f"value-{k}": v for k, v in VALUES.items()}})
    response = client.post(response.location, data={"version": db.session.scalar(select(MonitoringReturn.version))})
    assert response.status_code == 302
    db.session.refresh(flag)
    assert flag.status == "resolved" and flag.resolution_note == "The return has been submitted"


def test_a_return_for_a_quarter_still_running_offers_only_a_draft_and_says_when_it_can_be_submitted(client, block):
    from consortium.core.formatting import long_day

    today = date.today()
    period = returns.period_label(today)
    first, last = returns.parse_period(period)
    sign_in(client, provider_user(block.provider))
    page = client.get(url(block, period)).get_data(as_text=True)
    assert f"You can submit this return from {long_day(last + timedelta(days=1))}" in page
    assert "Continue to check and submit" not in page and "Save as draft" in page
    saved = client.post(url(block, period), data={"action": "draft", **{f"value-{k}": v for k, v in VALUES.items()}})
    assert saved.status_code == 302
    assert client.post(f"{url(block, period)}/check", data={"version": "1"}, follow_redirects=True).status_code == 200
    assert db.session.scalar(select(MonitoringReturn.status)) == "draft"
