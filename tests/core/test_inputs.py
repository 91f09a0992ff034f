"""What no form, import or address may give the service, each refused with a message on the
field (or a clear page), never a 500 and never stored: control characters, numbers that are not
finite or are too large, dates out of range, text longer than its column, stale-less edits."""

import html
import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select, text

from consortium.core import services, uploads
from consortium.core.extensions import db
from consortium.core.inputs import control_character, parse_id, text_problem
from consortium.core.models import utcnow
from contracts import returns
from contracts.models import Placement, PlacementFee
from providers.models import Home, Provider
from tests.conftest import sign_in
from tests.contracts import test_contract_pages
from tests.contracts.test_contract_pages import TODAY, new_placement
from tests.contracts.test_return_pages import url
from tests.factories import (
    ContractFactory,
    HomeFactory,
    ProviderFactory,
    UploadFactory,
    UserFactory,
    lead,
    partner,
    provider_user,
)
from tests.ofsted_files import SAMPLE

world = test_contract_pages.world  # the fixture


def page_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_rules_of_what_is_accepted():
    assert control_character("plain text") is None
    assert control_character("a\x00b") == "a NUL byte" and control_character("a\x07b") == "a control character (U+0007)"
    assert (
        control_character("two\nlines") == "a tab or line break"
        and control_character("two\nlines", multiline=True) is None
    )
    assert text_problem("Name", "x" * 201, 200) == "Name must be 200 characters or fewer"
    assert (
        parse_id("2147483647") == 2147483647
        and parse_id("2147483648") is None
        and parse_id("²") is None
        and parse_id("-1") is None
    )


@pytest.mark.parametrize("fee", ["NaN", "sNaN", "Infinity", "-Infinity", "1e20", "99999999999999999999999"])
def test_a_fee_that_is_not_a_finite_sensible_number_is_refused_on_the_field(client, world, fee):
    sign_in(client, partner(world["nottingham"]))
    response = new_placement(client, contract_ref="", home_urn="SC100002", child_ref="NOT-9", weekly_fee=fee)
    page = page_of(response)
    assert response.status_code == 400 and "govuk-error-summary" in page
    assert (
        "Weekly fee (£) must be a number" in page
        or "Weekly fee (£) is too large" in page
        or "£1,000,000.00 or less" in page
    )
    assert db.session.scalar(select(Placement).where(Placement.child_ref == "NOT-9")) is None


def test_numbers_out_of_their_range_are_refused_with_their_limits(client, world):
    sign_in(client, partner(world["nottingham"]))
    response = new_placement(client, distance_miles="1e20")
    assert response.status_code == 400 and "too large" in page_of(response)
    response = new_placement(client, distance_miles="1500")
    assert response.status_code == 400 and "Distance must be between 0 and 1,000 miles" in page_of(response)
    response = client.post(
        f"/placements/{world['mine'].id}/fee",
        data={"weekly_fee": "1000000.01", "effective_from": [str(TODAY.day), str(TODAY.month), str(TODAY.year)]},
    )
    assert response.status_code == 400 and "New weekly fee (£) must be £1,000,000.00 or less" in page_of(response)
    assert db.session.scalar(select(PlacementFee).where(PlacementFee.placement_id == world["mine"].id)) is None
    sign_in(client, lead(world["ours"]))
    response = client.post(
        f"/contracts/{world['block'].id}/settings",
        data={
            "beds": "99999999999",
            "underuse_threshold_percent": "80",
            "underuse_window_nights": "28",
            "notice_days": "365",
            "version": world["block"].version,
        },
    )
    assert response.status_code == 400 and "Beds is too large" in page_of(response)
    assert (
        client.post("/value-for-money/threshold", data={"threshold": "NaN"}, follow_redirects=True).status_code == 200
    )
    assert (
        client.post("/value-for-money/threshold", data={"threshold": "1e20"}, follow_redirects=True).status_code == 200
    )
    db.session.refresh(world["ours"])
    assert world["ours"].high_cost_weekly_pence == 600000
    sign_in(client, partner(world["nottingham"]))
    response = client.post("/budgets", data={"weeks-residential": "Infinity", "unit-residential": "4000"})
    assert response.status_code == 200 and "enter weeks, a weekly unit cost and contributions of 0 or more" in page_of(
        response
    )
    assert client.get("/budgets?year=99999999999999999999").status_code == 200


@pytest.mark.parametrize("year", ["1", "0001", "1999", "9999", "2101"])
def test_a_date_outside_its_range_is_refused_on_the_field(client, world, year):
    sign_in(client, partner(world["nottingham"]))
    response = new_placement(client, start_date=["1", "1", year])
    assert response.status_code == 400
    page = page_of(response)
    assert "Start date must be between 1 January 2000 and 31 December 2100" in page or "must be a real date" in page


def test_beds_out_of_use_go_back_a_year_at_most_and_never_before_the_term(client, world):
    sign_in(client, provider_user(world["oak"]))
    long_ago = TODAY - timedelta(days=380)
    response = client.post(
        f"/contracts/{world['block'].id}/outages",
        data={
            "beds": "1",
            "start_date": [str(long_ago.day), str(long_ago.month), str(long_ago.year)],
            "reason": "Backdated",
        },
    )
    assert response.status_code == 400 and "can be no earlier than" in page_of(response)
    assert world["block"].outages == []


def test_dates_in_filters_outside_the_calendar_are_left_out_with_a_message(client, world):
    sign_in(client, lead(world["ours"]))
    for address in (
        "/dashboard?from=0001-01-01&to=9999-12-31",
        "/audit?from=0001-01-01&to=9999-12-31",
        "/placements?from=9999-12-31",
        "/value-for-money?from=0001-01-01",
        "/audit/export.csv?to=9999-12-31",
    ):
        response = client.get(address, follow_redirects=True)
        assert response.status_code == 200, address
    page = page_of(client.get("/audit?to=9999-12-31"))
    assert "between 1 January 2000 and 31 December 2100: left out" in page


def test_a_line_break_in_next_at_sign_in_never_fails(client):
    from tests.factories import PASSWORD

    user = lead(email="next@example.test")
    response = client.post(
        "/sign-in?next=/flags%0D%0ALocation:%20http://evil.test", data={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 400  # refused before anything is done
    response = client.post("/sign-in?next=/flags\\evil", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/"


def test_an_end_placement_without_the_version_seen_is_refused_as_stale(client, world):
    sign_in(client, partner(world["nottingham"]))
    end = TODAY + timedelta(days=5)
    for version in ("", "-1", "0", "99999999999999999999"):
        data = {"end_date": [str(end.day), str(end.month), str(end.year)], "end_reason_code": "CARPL"}
        data |= {"version": version} if version else {}
        response = client.post(f"/placements/{world['mine'].id}/end", data=data)
        assert response.status_code == 400 and "changed by someone else" in page_of(response), version
    db.session.refresh(world["mine"])
    assert world["mine"].end_date is None


def test_text_longer_than_its_field_is_refused_and_never_stored(client, world):
    sign_in(client, lead(world["ours"]))
    response = client.post(
        f"/contracts/{world['framework'].id}/lots", data={"name": "L" * 100_000}, follow_redirects=True
    )
    assert response.status_code == 200 and "L" * 200 not in page_of(response)
    assert all(len(lot.name) <= 120 for lot in world["framework"].lots)
    sign_in(client, partner(world["nottingham"]))
    response = new_placement(client, child_ref="C" * 100_000)
    assert response.status_code == 400 and "Field cannot be longer than 40 characters" in page_of(response)


def test_control_characters_are_refused_in_forms_with_a_message(client, world):
    sign_in(client, partner(world["nottingham"]))
    response = new_placement(client, child_ref="NOT\x00-3")
    assert response.status_code == 400 and "Child reference must not contain a NUL byte" in page_of(response)
    end = TODAY + timedelta(days=5)
    response = client.post(
        f"/placements/{world['mine'].id}/end",
        data={
            "end_date": [str(end.day), str(end.month), str(end.year)],
            "end_reason_code": "CARPL",
            "end_reason": "Moved\x07",
            "version": world["mine"].version,
        },
    )
    assert response.status_code == 400 and "Note must not contain a control character (U+0007)" in page_of(response)
    assert not [p for p in db.session.scalars(select(Placement)) if control_character(p.child_ref)]


def test_the_last_guard_refuses_overlong_or_control_text_whatever_the_way_in():
    provider = ProviderFactory()
    for model, values, message in (
        (Provider, {"name": "P" * 201}, "Name must be 200 characters or fewer"),
        (
            Home,
            {
                "name": "Bad\x00name",
                "urn": "SC100088",
                "provider_id": provider.id,
                "provision_type": "Children's home",
                "local_authority": "Derby",
                "registration_status": "Active",
            },
            "Name must not contain a NUL byte",
        ),
    ):
        nested = db.session.begin_nested()
        obj = model(**values)
        db.session.add(obj)
        with pytest.raises(services.ValueRefused, match=message):
            db.session.flush()
        nested.rollback()


def xlsx_of(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def ofsted_upload(client, data: bytes, name="ofsted.csv"):
    return client.post("/ofsted/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_an_ofsted_file_with_nul_huge_places_or_overlong_names_is_refused_by_line(client):
    sign_in(client, lead())
    header, good = SAMPLE.splitlines()[0], SAMPLE.splitlines()[1]
    cells = good.split(",")
    columns = [c.strip().lower() for c in header.split(",")]
    name_at, places_at = (
        columns.index("setting name") if "setting name" in columns else columns.index("name"),
        columns.index("places"),
    )
    named = list(cells)
    named[name_at] = "N" * 300
    nul = list(cells)
    nul[name_at] = "Moor\x00view"
    response = ofsted_upload(client, "\n".join([header, ",".join(named)]).encode())
    assert response.status_code == 400 and "line 2: Name is 300 characters long; at most 200 fit" in page_of(response)
    response = ofsted_upload(client, "\n".join([header, good, ",".join(nul)]).encode())
    assert response.status_code == 400 and "line 3: Setting name contains a NUL byte" in page_of(response)
    workbook = [
        header.split(","),
        [1e23 if i == places_at else (int(v) if v.isdigit() else v) for i, v in enumerate(cells)],
    ]
    response = ofsted_upload(client, xlsx_of(workbook), "ofsted.xlsx")
    assert response.status_code == 400 and "is not a whole number from 0 to 10,000" in page_of(response)
    assert db.session.scalar(select(Home)) is None


def test_a_nul_stored_before_it_was_refused_never_breaks_an_export(client):
    home = HomeFactory(urn="SC100077")
    db.session.execute(text("UPDATE homes SET name = :name WHERE id = :id"), {"name": "Old\x01name", "id": home.id})
    sign_in(client, lead())
    response = client.get("/homes/export.xlsx")
    assert response.status_code == 200
    names = [row[1] for row in load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True)]
    assert "Oldname" in names


def test_an_ofsted_preview_is_kept_a_day_at_most_and_can_be_cancelled(client):
    user = lead()
    stale = UploadFactory(user_id=user.id, content=SAMPLE.encode(), created_at=utcnow() - timedelta(hours=23))
    sign_in(client, user)
    response = ofsted_upload(client, SAMPLE.encode())
    assert response.status_code == 200 and "kept for a day at most" in page_of(response)
    upload = db.session.scalar(
        select(uploads.Upload).where(uploads.Upload.user_id == user.id, uploads.Upload.id != stale.id)
    )
    assert client.post(f"/ofsted/import/{upload.id}/cancel").status_code == 302
    assert db.session.scalar(select(uploads.Upload.id).where(uploads.Upload.id == upload.id)) is None
    stale.created_at = utcnow() - timedelta(days=1, minutes=1)  # the day has gone by since its preview
    db.session.flush()
    response = client.post(f"/ofsted/import/{stale.id}", follow_redirects=True)
    assert "more than a day old" in page_of(response) and db.session.scalar(select(Provider)) is None
    db.session.expunge(stale)  # the request deleted it
    # Anyone's uploads older than a day are forgotten by the daily checks (and at the next upload).
    UploadFactory(user_id=UserFactory().id, created_at=utcnow() - timedelta(days=2))
    assert uploads.forget_expired() == 1


def test_a_return_value_too_large_or_a_comment_too_long_is_refused(client):
    block = ContractFactory(start_date=date(2024, 4, 1), end_date=date(2030, 3, 31), max_end_date=date(2032, 3, 31))
    returns.attach(block, returns.starter_template())
    sign_in(client, provider_user(block.provider))
    response = client.post(url(block), data={"action": "draft", "value-EET": "1e20"})
    assert response.status_code == 400 and "EET: '1e20' is too large" in page_of(response)
    response = client.post(url(block), data={"action": "draft", "value-EET": "90", "comment-EET": "c" * 5000})
    assert response.status_code == 400 and "the comment must be 1,000 characters or fewer" in page_of(response)


def test_a_dashboard_period_is_asked_for_in_the_gov_uk_date_boxes(client, world):
    sign_in(client, lead(world["ours"]))
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'name="from_day"' in page and 'name="to_year"' in page and 'type="date"' not in page
    chosen = client.get("/dashboard?from_day=1&from_month=4&from_year=2025&to_day=30&to_month=6&to_year=2025").get_data(
        as_text=True
    )
    assert re.search(r'name="from_month"[^>]*value="4"', chosen) and re.search(r'name="to_day"[^>]*value="30"', chosen)
    wrong = client.get("/dashboard?from_day=31&from_month=2&from_year=2025").get_data(as_text=True)
    assert "left out" in html.unescape(wrong)
