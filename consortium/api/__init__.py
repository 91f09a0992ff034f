"""The JSON API's wiring: every domain's endpoints, the OpenAPI document and its readable page.

Each domain declares its endpoints beside its views (`contracts/api.py` and the like) with the
conventions of `consortium.core.api`; this package, above every domain, puts them together.
"""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

import audits.api
import contracts.api
import contracts.referrals.api
import contracts.returns_api
import providers.api
from consortium.api import openapi
from consortium.core import api, api_views
from consortium.core.access import public
from consortium.core.extensions import csrf
from consortium.recharges import api as recharges_api

BLUEPRINTS = [
    api_views.bp,
    providers.api.bp,
    contracts.api.bp,
    contracts.returns_api.bp,
    contracts.referrals.api.bp,
    audits.api.bp,
    recharges_api.bp,
]

documents = api.blueprint("api", __name__)
docs = Blueprint("api_docs", __name__, template_folder="templates")


@api.endpoint(documents, "GET", "/openapi.json", summary="This document")
def openapi_document():
    """The OpenAPI 3.1 document of every endpoint: public, no token needed."""
    return openapi.document()


@docs.get("/api/docs")
@public
def api_docs():
    """The API described for people, from the same document."""
    return render_template("api/docs.html", document=openapi.document(), problem=api.PROBLEM)


def register(app: Flask) -> None:
    """Every API blueprint, without CSRF (a token is no cookie), and the token before anything else."""
    app.before_request_funcs.setdefault(None, []).insert(0, api.authenticate)
    for blueprint in [*BLUEPRINTS, documents]:
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    app.register_blueprint(docs)
