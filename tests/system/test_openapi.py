"""The OpenAPI document: valid OpenAPI 3.1, public, and listing every API route the app has."""

import re

from openapi_spec_validator import validate

from consortium.api.openapi import path_of


def test_the_document_is_valid_and_lists_every_api_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    validate(document)  # raises on anything OpenAPI 3.1 does not allow
    assert document["openapi"] == "3.1.0"
    routes = {
        (path_of(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, methods in document["paths"].items() for method in methods}
    assert routes == documented
    assert len(routes) >= 20
    assert all(path.startswith("/api/v1/") for path, _ in documented)  # every path written in full
    placements = document["paths"]["/api/v1/placements"]["post"]
    body = placements["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    fields = document["components"]["schemas"][body]["properties"]
    assert {"authorityCode", "childRef", "contractRef", "homeUrn", "startDate", "weeklyFeePence"} <= set(fields)
    assert placements["security"] == [{"token": []}] and "422" in placements["responses"]


def test_the_docs_page_describes_every_operation_without_inline_script(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    document = client.get("/api/v1/openapi.json").get_json()
    for path, methods in document["paths"].items():
        for operation in methods.values():
            assert f'id="{operation["operationId"]}"' in html and path in html
    # It adds no script of its own: only the layout's, as every page has (its one inline line carries the nonce).
    assert _scripts(html) == _scripts(client.get("/sign-in").get_data(as_text=True))
    policy = page.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline and all(f'nonce="{nonce}"' in attributes for attributes in inline)
    assert "unsafe-inline" not in policy


def _scripts(html: str) -> list[str]:
    return [re.sub(r'nonce="[^"]*"', "", tag) for tag in re.findall(r"<script[^>]*>", html)]
