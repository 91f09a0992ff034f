"""Page furniture: the GOV.UK look, error pages, pagination, rollback on a server error."""

from sqlalchemy import func, select

from config import Testing
from consortium.app import create_app
from consortium.core.access import public
from consortium.core.extensions import db
from consortium.core.models import Authority
from tests.conftest import sign_in
from tests.factories import AuthorityFactory, UserFactory, lead


def test_pages_use_the_service_name_and_no_crown(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert "Manage placement contracts" in page
    assert "govuk-template" in page and "/static/app.css" in page
    assert "crown" not in page.lower() and "favicon" not in page
    assert 'name="email"' in page and "govuk-input" in page


def test_the_built_stylesheet_uses_an_ordinary_font_stack(app):
    from pathlib import Path

    css = (Path(app.static_folder) / "app.css").read_text()
    assert "system-ui" in css
    assert "GDS Transport" not in css


def test_not_found_and_forbidden_pages_are_in_the_service_style(client):
    sign_in(client, lead())
    missing = client.get("/authorities/E09999999")
    assert missing.status_code == 404
    assert "Page not found" in missing.get_data(as_text=True)
    assert "Manage placement contracts" in missing.get_data(as_text=True)
    forbidden = client.get("/users")
    assert forbidden.status_code == 403
    assert "You do not have permission to see this page" in forbidden.get_data(as_text=True)


def test_a_server_error_rolls_back_and_shows_the_500_page():
    app = create_app(Testing)

    @app.get("/explode")
    @public
    def explode():
        db.session.add(Authority(code="E06000099", name="Half-written"))
        db.session.flush()
        raise RuntimeError("boom")

    response = app.test_client().get("/explode")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(Authority.code == "E06000099")) == 0


def test_lists_paginate(client):
    sign_in(client, UserFactory())
    for n in range(55):
        AuthorityFactory(name=f"Borough {n:02d}")
    first = client.get("/authorities").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Borough 00" in first and "Borough 54" not in first
    second = client.get("/authorities?page=2").get_data(as_text=True)
    assert "Borough 54" in second


def test_each_role_has_a_home_page_and_navigation(client):
    for user in (UserFactory(role="admin"), lead()):
        sign_in(client, user)
        page = client.get("/").get_data(as_text=True)
        assert "Sign out" in page and "Providers" in page and "Flags" in page
        assert ("Users" in page) == ("Authorities" in page) == (user.role == "admin")
        assert ("Placements" in page) == (user.role == "lead")


def test_links_in_tables_are_real_links_not_escaped_markup(client):
    from tests.factories import ConsortiumFactory

    consortium = ConsortiumFactory(members=[AuthorityFactory(name="Derby & District")])
    sign_in(client, lead(consortium))
    page = client.get(f"/consortia/{consortium.id}").get_data(as_text=True)
    assert "&lt;a" not in page
    assert ">Derby &amp; District</a>" in page
    assert "membership of Derby &amp; District" in page
    home = client.get("/").get_data(as_text=True)
    assert "2 current members</a>" in home


def test_a_save_racing_another_is_refused_with_a_clear_page():
    from sqlalchemy.orm.exc import StaleDataError

    app = create_app(Testing)

    @app.get("/race")
    @public
    def race():
        db.session.add(Authority(code="E06000098", name="Half-written"))
        db.session.flush()
        raise StaleDataError("UPDATE statement on table 'contracts' expected to update 1 row(s); 0 were matched.")

    response = app.test_client().get("/race")
    assert response.status_code == 409
    assert "Someone else changed this at the same time" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(Authority.code == "E06000098")) == 0


def test_numbers_in_other_scripts_are_ignored_not_a_server_error(client):
    # "²" passes str.isdigit() but int() refuses it: filters and version fields use isdecimal().
    sign_in(client, lead())
    for url in ("/flags?provider=%C2%B2", "/homes?judgement=%C2%B2"):
        assert client.get(url).status_code == 200, url
