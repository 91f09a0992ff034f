"""The OpenAPI 3.1 document, written from the endpoints as they are declared (`core.api.OPERATIONS`)
and their pydantic schemas: JSON Schema 2020-12 is OpenAPI 3.1's own dialect, so a schema goes
into the document as pydantic writes it."""

from __future__ import annotations

import re

from pydantic.json_schema import models_json_schema

from consortium.core import api, tokens

ROLES_WORDS = {
    "admin": "administrators",
    "lead": "leads",
    "partner": "partners",
    "provider": "providers' staff",
    "cofunder": "co-funders' staff",
}
PATH_WORDS = {"code": "The authority's ONS code", "urn": "The home's URN", "period": "The quarter, like 2026-Q2"}
ERRORS = {
    400: "The request is not right (a token in the address, a bad cursor or Idempotency-Key)",
    401: "No token, or one that is not right, has expired or has been revoked",
    403: "The token's user or scope may not do this",
    404: "Not found, or not the token's user's to see",
    412: "If-Match names a version the record no longer has",
    413: "The body is larger than a megabyte",
    415: "The body is not JSON",
    422: "The body or parameters are not right, or a rule refused the change: the same words as the forms",
    429: f"More than {tokens.REQUESTS_A_MINUTE} requests a minute with the token",
}


def path_of(rule: str) -> str:
    """`/api/v1/placements/<int:placement_id>` as OpenAPI writes it: `/api/v1/placements/{placement_id}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _path_parameters(rule: str) -> list[dict]:
    found = []
    for converter, name in re.findall(r"<(?:([^:<>]+):)?([^<>]+)>", rule):
        schema = {"type": "integer", "minimum": 1} if converter == "int" else {"type": "string", "maxLength": 100}
        what = PATH_WORDS.get(name, f"The {name.removesuffix('_id').replace('_', ' ')}'s id")
        found.append({"name": name, "in": "path", "required": True, "schema": schema, "description": what})
    return found


def _query_parameters(operation: api.Operation, schemas: dict) -> list[dict]:
    if operation.query is None:
        return []
    found = []
    schema = operation.query.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    for name, field in schema.get("properties", {}).items():
        parameter = {"name": name, "in": "query", "required": name in schema.get("required", []), "schema": field}
        if "description" in field:
            parameter["description"] = field["description"]
        found.append(parameter)
    if operation.response is not None and "next" in operation.response.model_fields:
        found.append(
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": "From the list's next link: leave it as it is",
                "schema": {"type": "string", "maxLength": 100},
            }
        )
    return found


def document() -> dict:
    models = {op.body for op in api.OPERATIONS if op.body} | {op.response for op in api.OPERATIONS if op.response}
    keyed = [
        (model, "validation" if any(op.body is model for op in api.OPERATIONS) else "serialization") for model in models
    ]
    _, definitions = models_json_schema(
        sorted(keyed, key=lambda pair: pair[0].__name__), by_alias=True, ref_template="#/components/schemas/{model}"
    )
    schemas = definitions.get("$defs", {})
    schemas["Problem"] = {
        "type": "object",
        "description": "An error, as RFC 9457 writes it",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"detail": {"type": "string"}, "pointer": {"type": "string"}},
                },
            },
        },
        "required": ["type", "title", "status"],
    }
    paths: dict[str, dict] = {}
    for operation in sorted(api.OPERATIONS, key=lambda op: (op.rule, op.method)):
        paths.setdefault(path_of(operation.rule), {})[operation.method.lower()] = _operation(operation, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Manage placement contracts API",
            "version": "1",
            "description": (
                "The service's objects under the same access rules as its pages: a token acts as the "
                "user who made it and sees exactly what they see. Make a token on Your account. "
                "Send it as Authorization: Bearer TOKEN. Lists page by cursor; money is in pence."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer", "description": "An API token"}},
        },
    }


def _operation(operation: api.Operation, schemas: dict) -> dict:
    parameters = _path_parameters(operation.rule) + _query_parameters(operation, schemas)
    if operation.method == "POST":
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "The same key and body within 24 hours gives the first answer and makes nothing new",
                "schema": {"type": "string", "maxLength": 200},
            }
        )
        if "{" in path_of(operation.rule):
            parameters.append(
                {
                    "name": "If-Match",
                    "in": "header",
                    "required": False,
                    "description": "The ETag read: refused with 412 if the record has changed since",
                    "schema": {"type": "string"},
                }
            )
    described = {
        "operationId": operation.endpoint.replace(".", "_"),
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": parameters,
        "responses": {},
    }
    if operation.description:
        described["description"] = operation.description
    if operation.roles:
        described["security"] = [{"token": []}]
        described["description"] = (
            described.get("description", "")
            + f" For {', '.join(ROLES_WORDS[r] for r in sorted(operation.roles))}; a {operation.scope} token."
        ).strip()
    else:
        described["security"] = []
    if operation.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{operation.body.__name__}"}}},
        }
    ok = {"description": "OK" if operation.status == 200 else "Created"}
    if operation.response is not None:
        ok["content"] = {
            operation.content_type: {"schema": {"$ref": f"#/components/schemas/{operation.response.__name__}"}}
        }
    elif operation.content_type != "application/json":
        ok["content"] = {operation.content_type: {"schema": {"type": "string", "format": "binary"}}}
    described["responses"][str(operation.status)] = ok
    codes = [400, 401, 403, 404, 422, 429] if operation.roles else [404]
    if operation.method == "POST":
        codes += [413, 415] + ([412] if "{" in path_of(operation.rule) else [])
    for code in sorted(set(codes)):
        described["responses"][str(code)] = {
            "description": ERRORS[code],
            "content": {api.PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return described
