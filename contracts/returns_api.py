"""The API's monitoring returns: what is owed, and a provider's submission of one."""

from __future__ import annotations

from datetime import date

from flask_login import current_user
from pydantic import Field

from consortium.core import api
from consortium.core.access import scoped
from contracts import returns
from contracts.models import Contract, OutcomesFramework

bp = api.blueprint("returns_api", __name__)


class ReturnOut(api.Schema):
    contract_ref: str
    provider_id: int
    provider_name: str
    period: str = Field(examples=["2026-Q2"])
    due_date: date
    status: str = Field(description="in progress, due, overdue, submitted, accepted or returned")
    version: int | None = Field(description="The return's version, once one is saved")


class ReturnList(api.Schema):
    items: list[ReturnOut]
    next: None = None


class ReturnIn(api.Schema):
    values: dict[str, str] = Field(description='Each indicator\'s value by its code, as typed: {"EET": "92.5"}')
    comments: dict[str, str] = Field(default_factory=dict, description="A comment by indicator code")
    submit: bool = Field(True, description="False saves a draft to finish later")


def _entry(e: returns.Owed, today: date) -> dict:
    current = e.monitoring_return
    return ReturnOut(
        contract_ref=e.contract.ref,
        provider_id=e.provider.id,
        provider_name=e.provider.name,
        period=e.period,
        due_date=e.due_date,
        status=e.status(today),
        version=current.version if current else None,
    ).model_dump(by_alias=True, mode="json")


@api.endpoint(bp, "GET", "/returns", summary="Returns owed", roles=("lead", "partner", "provider"), response=ReturnList)
def list_returns():
    """The returns the token's user sees on the Returns page: each quarter's, for each contract and provider."""
    today = date.today()
    provider_id = current_user.provider_id if current_user.role == "provider" else None
    owed = returns.owed_many(
        OutcomesFramework.contract_id.in_(scoped(Contract).select(Contract.id)), today, provider_id
    )
    return {"items": [_entry(e, today) for e in owed], "next": None}


@api.endpoint(
    bp,
    "POST",
    "/contracts/<int:contract_id>/returns/<period>",
    summary="Submit a monitoring return",
    roles=("provider",),
    body=ReturnIn,
    response=ReturnOut,
)
def submit_return(contract_id: int, period: str, body: ReturnIn):
    """A provider's values for a quarter, checked as the return form checks them (submitted once it has ended)."""
    outcomes, owed = _owed(contract_id, period)
    today = date.today()
    version = api.expected_version(owed.monitoring_return.version) if owed.monitoring_return else None
    try:
        returns.save(
            outcomes,
            owed.provider,
            period,
            body.values,
            body.comments,
            current_user,
            today,
            submit=body.submit,
            seen_version=version,
        )
    except returns.ReturnProblems as problems:
        raise _problems(problems) from None
    return _entry(_owed(contract_id, period)[1], today)


def _owed(contract_id: int, period: str) -> tuple[OutcomesFramework, returns.Owed]:
    """The return the token's provider owes on a contract for a quarter, or a 404 saying why not."""
    contract = scoped(Contract).get_or_404(contract_id)
    outcomes = returns.outcomes_of(contract)
    if outcomes is None:
        raise api.Problem(404, "No outcomes framework", f"{contract.ref} has no returns.")
    found = next(
        (e for e in returns.owed(outcomes, date.today(), current_user.provider_id) if e.period == period), None
    )
    if found is None:
        raise api.Problem(404, "No such return", f"{contract.ref} owes no return for {period} from your organisation.")
    return outcomes, found


def _problems(problems: returns.ReturnProblems) -> api.Problem:
    errors = [{"detail": message, "pointer": _pointer(field)} for field, message in problems.problems]
    return api.Problem(422, "The return was refused", str(problems), errors=errors)


def _pointer(field: str | None) -> str:
    """The return form's field (`value-EET`, `comment-EET`) as a pointer into the body."""
    if not field:
        return ""
    kind, _, code = field.partition("-")
    return f"/{'values' if kind == 'value' else 'comments'}/{code}"
