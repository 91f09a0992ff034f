"""Every route says who may use it; a route that does not is refused."""

from config import Testing
from consortium.app import create_app
from consortium.core.access import PUBLIC
from consortium.core.models import ROLES

# The only routes anyone may use without signing in: the password, then a two-factor code; and
# the API's description (its OpenAPI document and the page people read), which holds no data.
PUBLIC_ENDPOINTS = {
    "auth.accept_invitation",
    "auth.sign_in",
    "auth.sign_in_code",
    "api.openapi_document",
    "api_docs.api_docs",
}


def test_every_route_declares_who_may_use_it(app):
    undeclared, public = [], set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        roles = getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
        if roles is None:
            undeclared.append(rule.rule)
        elif roles == PUBLIC:
            public.add(rule.endpoint)
        else:
            assert roles <= set(ROLES), rule.rule
    assert undeclared == []
    assert public == PUBLIC_ENDPOINTS


def test_a_route_without_a_declaration_is_refused():
    app = create_app(Testing)

    @app.get("/forgot-to-declare")
    def forgot():
        return "secret"

    response = app.test_client().get("/forgot-to-declare")
    assert response.status_code == 403
    assert b"secret" not in response.data


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/consortia")
    assert response.status_code == 302
    assert response.location.startswith("/sign-in?next=")
