"""The API's recharge statements: list, get, and the PDF, as on the Statements pages."""

from __future__ import annotations

from datetime import date

from flask import Response
from pydantic import Field
from sqlalchemy.orm import selectinload

from consortium.core import api
from consortium.core.access import scoped
from consortium.recharges.models import Statement
from consortium.recharges.pdf import statement_pdf

bp = api.blueprint("recharges_api", __name__)


class StatementOut(api.Schema):
    id: int
    number: str | None = Field(description="None while a draft")
    status: str
    authority_code: str | None = Field(description="The member authority that pays; None for a co-funder")
    cofunder_ref: str | None = Field(description="The co-funder that pays; None for a member authority")
    pool_name: str | None = Field(description="None for a co-funder's contributions statement")
    period_first: date
    period_last: date
    amount: api.Money = Field(description="Negative for a credit note")
    usage: int
    consortium_usage: int
    share_percent: float
    issued_on: date | None
    paid_on: date | None
    credit_for: str | None = Field(description="The number of the statement a credit note corrects")


class StatementList(api.Schema):
    items: list[StatementOut]
    next: str | None


class ListQuery(api.Schema):
    limit: api.Limit = api.PAGE_SIZE


def _statement(s: Statement) -> dict:
    return StatementOut(
        id=s.id,
        number=s.number,
        status=s.status,
        authority_code=s.authority_code,
        cofunder_ref=s.cofunder.ref if s.cofunder_id else None,
        pool_name=s.pool.name if s.pool else None,
        period_first=s.pool.first_day if s.pool else s.first_day,
        period_last=s.pool.last_day if s.pool else s.last_day,
        amount=api.money(s.amount_pence),
        usage=s.usage,
        consortium_usage=s.consortium_usage,
        share_percent=s.share_percent,
        issued_on=s.issued_on,
        paid_on=s.paid_on,
        credit_for=s.credit_for.number if s.credit_for else None,
    ).model_dump(by_alias=True, mode="json")


@api.endpoint(
    bp,
    "GET",
    "/statements",
    summary="List statements",
    roles=("lead", "partner", "cofunder"),
    query=ListQuery,
    response=StatementList,
)
def list_statements(query: ListQuery):
    """A partner's or a co-funder's issued statements and credit notes; a lead's of every pool
    (drafts too) and the contributions statements to co-funders."""
    found = (
        scoped(Statement)
        .select()
        .options(selectinload(Statement.pool), selectinload(Statement.credit_for), selectinload(Statement.cofunder))
    )
    return api.page(found, _statement, Statement.id, query.limit)


@api.endpoint(
    bp,
    "GET",
    "/statements/<int:statement_id>",
    summary="Get a statement",
    roles=("lead", "partner", "cofunder"),
    response=StatementOut,
)
def get_statement(statement_id: int):
    return _statement(scoped(Statement).get_or_404(statement_id))


@api.endpoint(
    bp,
    "GET",
    "/statements/<int:statement_id>.pdf",
    summary="A statement as PDF",
    roles=("lead", "partner", "cofunder"),
    content_type="application/pdf",
)
def get_statement_pdf(statement_id: int):
    statement = scoped(Statement).get_or_404(statement_id)
    name = statement.number or f"draft-{statement.id}"
    return Response(
        statement_pdf(statement),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )
