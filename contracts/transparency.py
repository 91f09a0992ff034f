"""The Local Government Transparency Code's contracts register: every framework and block contract
worth more than £5,000, with the Code's fields, as CSV.

A line per contract and supplier: a framework's admitted providers (not withdrawn) each have
one; a block has its provider. The value is the one recorded for the contract, else for a block
its cost over the term (its beds at its price, every night, used or not). A contract whose value
is not known is listed too, with the value left empty: better listed than missed.
"""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consortium.core.extensions import db
from contracts import usage
from contracts.models import Admission, Contract, Lot

THRESHOLD_PENCE = 500_000  # the Code lists contracts over £5,000
COLUMNS = [
    "Reference",
    "Title",
    "Description",
    "Responsible department",
    "Supplier name",
    "Supplier registration number",
    "SME",
    "Voluntary or community sector",
    "Value (£)",
    "Irrecoverable VAT (£)",
    "Start date",
    "End date",
    "Review date",
    "Procurement route",
]
ROUTES = [
    "Open procedure",
    "Restricted procedure",
    "Competitive flexible procedure",
    "Light touch regime",
    "Dynamic purchasing system",
    "Direct award",
    "Call-off from a framework",
    "Other",
]


def contracts_of(consortium_id: int, owner_code: str | None = None) -> list[Contract]:
    """A consortium's contracts (or one owning authority's among them), with their suppliers."""
    query = (
        select(Contract)
        .where(Contract.consortium_id == consortium_id)
        .options(
            selectinload(Contract.provider),
            selectinload(Contract.lots).selectinload(Lot.admissions).selectinload(Admission.provider),
        )
        .order_by(Contract.ref)
    )
    if owner_code:
        query = query.where(Contract.owner_code == owner_code)
    return db.session.scalars(query).all()


def values_of(contracts: list[Contract]) -> dict[int, int | None]:
    """Each contract's value in pence: as recorded, else a block's cost over its term (every
    block's in one query), else None."""
    unvalued = [c.id for c in contracts if c.value_pence is None and c.is_block]
    terms = usage.occupancies(Contract.id.in_(unvalued), Contract.start_date, Contract.end_date) if unvalued else {}
    return {
        c.id: c.value_pence if c.value_pence is not None else (terms[c.id].cost_pence if c.id in terms else None)
        for c in contracts
    }


def rows(contracts: list[Contract]) -> list[list[str]]:
    lines = []
    values = values_of(contracts)
    for contract in contracts:
        value = values[contract.id]
        if value is not None and value <= THRESHOLD_PENCE:
            continue
        for supplier in _suppliers(contract):
            lines.append(
                [
                    contract.ref,
                    contract.title,
                    contract.description or "",
                    contract.department or "",
                    supplier.name,
                    supplier.companies_house_number or "",
                    _yes_no(supplier.sme),
                    _yes_no(supplier.voluntary),
                    f"{value / 100:.2f}" if value is not None else "",
                    "",  # the service holds no VAT: children's social care is exempt
                    contract.start_date.isoformat(),
                    contract.end_date.isoformat(),
                    contract.review_date.isoformat() if contract.review_date else "",
                    contract.procurement_route or "",
                ]
            )
    return lines


def csv_text(lines: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(lines)
    return out.getvalue()


def _suppliers(contract: Contract) -> list:
    if contract.is_block:
        return [contract.provider] if contract.provider else []
    found = {a.provider_id: a.provider for lot in contract.lots for a in lot.admissions if a.status != "withdrawn"}
    return sorted(found.values(), key=lambda provider: provider.name)


def _yes_no(flag: bool | None) -> str:
    return "" if flag is None else ("Yes" if flag else "No")
