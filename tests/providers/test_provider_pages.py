"""Provider and home pages, exports, the Ofsted upload, and who sees what."""

import io
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from audits import checks
from consortium.core import services
from consortium.core.exports import guard
from consortium.core.extensions import db
from consortium.core.messages import OutboxMessage
from consortium.core.models import Invitation, User, utcnow
from consortium.core.tabular import read_table
from consortium.core.uploads import Upload
from providers import ofsted
from providers.models import Home, Provider
from tests.conftest import sign_in
from tests.core.test_tabular import HEADER_ROW, handmade_xlsx
from tests.factories import ContractFactory, UserFactory, lead, partner, provider_user
from tests.ofsted_files import SAMPLE, rows


def load(text):
    ofsted.import_file(read_table(text.encode(), "ofsted.csv", **ofsted.COLUMNS))
    db.session.flush()


def provider_named(name) -> Provider:
    return db.session.scalar(select(Provider).where(Provider.name == name))


def test_the_lists_show_homes_by_current_judgement_and_filter(client):
    load(SAMPLE)
    sign_in(client, partner())
    page = client.get("/providers").get_data(as_text=True)
    assert "Riverbank Care Ltd" in page and "Levels Care Partnership" in page
    filtered = client.get("/providers?local_authority=Cornwall").get_data(as_text=True)
    assert "Westward Homes for Children CIC" in filtered and "Riverbank Care Ltd" not in filtered
    assert "Riverbank" in client.get("/providers?q=river").get_data(as_text=True)
    homes = client.get("/homes").get_data(as_text=True)
    assert "Moorview House" in homes and "Requires improvement to be good" in homes and "Not yet graded" in homes
    inadequate = db.session.scalar(select(Home.id).where(Home.urn == "SC900105"))
    assert inadequate
    only_inadequate = client.get("/homes?judgement=5").get_data(as_text=True)
    assert "Quantock View" in only_inadequate and "Moorview House" not in only_inadequate
    not_graded = client.get("/homes?judgement=not-graded").get_data(as_text=True)
    assert "Dartside" in not_graded and "Exe Steps" in not_graded and "Harbour Lodge" not in not_graded


def test_the_providers_list_counts_homes_by_judgement(client):
    load(SAMPLE)
    sign_in(client, lead())
    response = client.get("/providers/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "Provider,Homes,Outstanding,Good,Requires improvement to be good,Inadequate,Not yet graded"
    assert "Riverbank Care Ltd,2,1,0,1,0,0" in lines
    assert "Levels Care Partnership,2,0,0,0,1,1" in lines
    # Filtered by a judgement, providers keep the homes so judged (the filter once failed the page).
    lines = client.get("/providers/export.csv?judgement=5").get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[1:] == ["Levels Care Partnership,1,0,0,0,1,0"]
    lines = client.get("/providers/export.csv?judgement=not-graded").get_data(as_text=True).splitlines()
    assert "Levels Care Partnership,1,0,0,0,0,1" in lines and not any(line.startswith("Riverbank") for line in lines)
    assert client.get("/providers?judgement=2").status_code == 200


def test_the_home_page_shows_history_drops_chart_and_flags(client):
    load(SAMPLE)
    checks.run(date(2024, 1, 1))
    sign_in(client, partner())
    page = client.get("/homes/SC900101").get_data(as_text=True)
    assert "Moorview House" in page and "Riverbank Care Ltd" in page
    table = page[page.index("Inspection history, newest first") :]
    assert table.index("20 Feb 2020") < table.index("12 Mar 2019")
    assert 'govuk-tag--red govuk-!-margin-left-1">\n  Drop' in page
    assert "<svg" in page and "Judgements from 12 Mar 2019 to 20 Feb 2020" in page
    assert "fell from Good to Requires improvement to be good" in page
    assert client.get("/homes/SC999999").status_code == 404


def test_exports_guard_against_formulas(client):
    load(rows("SC100001,A home,P Ltd,2024-01-01,Good"))
    db.session.scalar(select(Home)).name = '=HYPERLINK("http://x")'
    db.session.flush()
    sign_in(client, lead())
    csv_text = client.get("/homes/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in csv_text
    workbook = load_workbook(io.BytesIO(client.get("/homes/export.xlsx").data))
    values = [cell.value for row in workbook.active.iter_rows() for cell in row]
    assert '\'=HYPERLINK("http://x")' in values
    assert (
        guard("+44 115") == "'+44 115" and guard("@x") == "'@x" and guard("\tx") == "'\tx" and guard("plain") == "plain"
    )
    assert guard(-3) == -3
    assert client.get("/homes/export.pdf").status_code == 404


def test_a_provider_user_sees_only_their_own_organisation(client):
    load(SAMPLE)
    checks.run(date(2024, 1, 1))
    riverbank, levels = provider_named("Riverbank Care Ltd"), provider_named("Levels Care Partnership")
    sign_in(client, provider_user(riverbank))
    assert client.get(f"/providers/{riverbank.id}").status_code == 200
    assert client.get(f"/providers/{levels.id}").status_code == 404
    assert client.get("/homes/SC900101").status_code == 200
    assert client.get("/homes/SC900105").status_code == 404  # Levels' home
    listing = client.get("/providers").get_data(as_text=True)
    assert "Riverbank Care Ltd" in listing and "Levels Care Partnership" not in listing
    homes = client.get("/homes").get_data(as_text=True)
    assert "Moorview House" in homes and "Quantock View" not in homes
    exported = client.get("/homes/export.csv").get_data(as_text=True)
    assert "SC900101" in exported and "SC900105" not in exported
    flags = client.get("/flags").get_data(as_text=True)
    assert "SC900101" in flags and "SC900105" not in flags
    # Not the account manager: Riverbank's first account is.
    assert client.get(f"/providers/{riverbank.id}/invitations/new").status_code == 403
    assert client.get("/ofsted/import").status_code == 403


def test_a_lead_with_a_contract_invites_a_providers_first_account_who_sets_their_own_password(app, client):
    load(SAMPLE)
    riverbank = provider_named("Riverbank Care Ltd")
    stranger = lead()
    sign_in(client, stranger)  # a consortium with no dealings with Riverbank may not invite its staff
    refused = client.get(f"/providers/{riverbank.id}/invitations/new")
    assert refused.status_code == 403 and "no contract with Riverbank" in refused.get_data(as_text=True)
    assert client.post(f"/providers/{riverbank.id}/aliases", data={"name": "Anything"}).status_code == 404
    contracting = lead(ContractFactory(provider=riverbank).consortium)
    sign_in(client, contracting)
    form = client.get(f"/providers/{riverbank.id}/invitations/new").get_data(as_text=True)
    assert 'name="password"' not in form  # nobody but the person sets their password
    response = client.post(
        f"/providers/{riverbank.id}/invitations/new", data={"email": "Staff@Riverbank.test", "name": "Sam Staff"}
    )
    assert response.status_code == 302
    assert (
        db.session.scalar(select(User).where(User.email == "staff@riverbank.test")) is None
    )  # no account until the link is used
    (message,) = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_address == "staff@riverbank.test")
    ).all()
    token = message.body.split("/invitations/")[1].split()[0]
    invitation = db.session.scalar(select(Invitation))
    assert token not in (invitation.token_hash, str(invitation.__dict__))  # kept only as a hash
    # The invitation is in the inviting consortium's audit log.
    assert "staff@riverbank.test" in client.get("/audit?type=Invitation").get_data(as_text=True)
    client.post("/sign-out")
    page = client.get(f"/invitations/{token}")
    assert page.status_code == 200 and "staff@riverbank.test" in page.get_data(as_text=True)
    mismatch = client.post(
        f"/invitations/{token}", data={"password": "long enough password", "confirm": "something else"}
    )
    assert mismatch.status_code == 400 and "do not match" in mismatch.get_data(as_text=True)
    done = client.post(
        f"/invitations/{token}",
        data={"name": "Sam Staff", "password": "long enough password", "confirm": "long enough password"},
    )
    assert done.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "staff@riverbank.test"))
    assert (user.role, user.provider_id, user.account_manager) == ("provider", riverbank.id, True)
    assert client.get(f"/invitations/{token}").status_code == 404  # a link works once
    signing_in = app.test_client()
    assert (
        signing_in.post(
            "/sign-in", data={"email": "staff@riverbank.test", "password": "long enough password"}
        ).status_code
        == 302
    )
    # Now Riverbank has an account: its account manager invites the others, not a lead.
    db.session.refresh(contracting)  # signing out gave it a new session token
    sign_in(client, contracting)
    again = client.post(f"/providers/{riverbank.id}/invitations/new", data={"email": "other@riverbank.test"})
    assert again.status_code == 403 and "its account manager invites" in again.get_data(as_text=True)
    sign_in(client, user)
    colleague = client.post(f"/providers/{riverbank.id}/invitations/new", data={"email": "colleague@riverbank.test"})
    assert colleague.status_code == 302
    assert (
        db.session.scalar(select(Invitation).where(Invitation.email == "colleague@riverbank.test")).account_manager
        is False
    )
    duplicate = client.post(f"/providers/{riverbank.id}/invitations/new", data={"email": "colleague@riverbank.test"})
    assert duplicate.status_code == 400 and b"already been invited" in duplicate.data
    sign_in(client, contracting)
    client.post(f"/providers/{riverbank.id}/aliases", data={"name": "Riverbank Homes (South West) Ltd"})
    db.session.refresh(riverbank)
    assert [a.name for a in riverbank.aliases] == ["Riverbank Homes (South West) Ltd"]
    page = client.get(f"/providers/{riverbank.id}").get_data(as_text=True)
    assert "Riverbank Homes (South West) Ltd" in page
    client.post(f"/providers/{riverbank.id}/aliases", data={"name": "Levels Care Partnership"})
    assert "already names Levels Care Partnership" in client.get(f"/providers/{riverbank.id}").get_data(as_text=True)


def test_partners_cannot_change_providers(client):
    load(SAMPLE)
    riverbank = provider_named("Riverbank Care Ltd")
    sign_in(client, partner())
    assert client.get(f"/providers/{riverbank.id}").status_code == 200
    assert client.post(f"/providers/{riverbank.id}/aliases", data={"name": "X"}).status_code == 403
    assert client.get(f"/providers/{riverbank.id}/invitations/new").status_code == 403


def test_an_expired_or_unknown_invitation_link_makes_no_account(client):
    load(SAMPLE)
    riverbank = provider_named("Riverbank Care Ltd")
    invitation = services.invite(riverbank, "late@riverbank.test", "", UserFactory(role="admin"), False, "http://test")
    token = db.session.scalar(select(OutboxMessage.body)).split("/invitations/")[1].split()[0]
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    page = client.post(
        f"/invitations/{token}", data={"password": "long enough password", "confirm": "long enough password"}
    )
    assert page.status_code == 404 and "expired" in page.get_data(as_text=True)
    assert client.get("/invitations/made-up").status_code == 404
    assert db.session.scalar(select(User).where(User.email == "late@riverbank.test")) is None


def upload(client, text, name="ofsted.csv"):
    return client.post(
        "/ofsted/import", data={"file": (io.BytesIO(text.encode()), name)}, content_type="multipart/form-data"
    )


def test_the_upload_previews_and_imports_only_when_confirmed(client):
    user = lead()
    sign_in(client, user)
    preview = upload(client, SAMPLE)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "3 new providers, 6 new homes, 0 homes changed, 6 new inspections, 2 judgements worse than before" in page
    assert db.session.scalar(select(Home.id)) is None  # nothing yet
    upload_id = db.session.scalar(select(Upload.id).where(Upload.user_id == user.id))
    # Someone else cannot confirm this person's upload.
    other = lead()
    other_client = client.application.test_client()
    sign_in(other_client, other)
    assert other_client.post(f"/ofsted/import/{upload_id}").status_code == 404
    confirmed = client.post(f"/ofsted/import/{upload_id}")
    assert confirmed.status_code == 302
    assert "6 new homes" in client.get(confirmed.location).get_data(as_text=True)
    assert db.session.scalar(select(Upload.id).where(Upload.id == upload_id)) is None
    again = upload(client, SAMPLE).get_data(as_text=True)
    assert "already holds everything in this file" in again


def test_a_bad_upload_lists_its_lines_and_imports_nothing(client):
    sign_in(client, lead())
    response = upload(client, rows("SC1,A,P Ltd,2024-01-01,Good", "SC100002,B,P Ltd,31/02/2024,Good"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was imported: the file has 2 problems" in page
    assert "line 2: URN &#39;SC1&#39;" in page and "line 3: Inspection date" in page
    missing = client.post("/ofsted/import", data={}, content_type="multipart/form-data")
    assert missing.status_code == 400 and b"Choose a file to upload" in missing.data
    assert db.session.scalar(select(Upload.id)) is None


def test_an_upload_over_the_request_cap_is_refused(client, app):
    sign_in(client, lead())
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        response = upload(client, SAMPLE * 5)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 10 * 1024 * 1024
    assert response.status_code == 413
    assert b"The file is too large" in response.data


def test_admins_see_everything_but_the_provider_lists_need_no_special_case(client):
    load(SAMPLE)
    sign_in(client, UserFactory(role="admin"))
    assert "Riverbank Care Ltd" in client.get("/providers").get_data(as_text=True)


def upload_bytes(client, content, name):
    return client.post("/ofsted/import", data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def test_an_upload_that_is_a_broken_workbook_is_refused_with_the_error_summary(client):
    sign_in(client, lead())
    for content in (handmade_xlsx(HEADER_ROW, "A1:B1", workbook=False), handmade_xlsx("<row r='1'><c", "A1:B2")):
        response = upload_bytes(client, content, "ofsted.xlsx")
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "govuk-error-summary" in page and "ofsted.xlsx is not a readable XLSX workbook" in page
    assert db.session.scalar(select(Upload.id)) is None and db.session.scalar(select(Home.id)) is None


def test_an_upload_with_a_very_long_file_name_keeps_a_shortened_name_and_its_extension(client):
    user = lead()
    sign_in(client, user)
    response = upload(client, SAMPLE, name="a" * 400 + ".csv")
    assert response.status_code == 200
    stored = db.session.scalar(select(Upload.filename).where(Upload.user_id == user.id))
    assert len(stored) == 255 and stored.endswith("aaa.csv")
