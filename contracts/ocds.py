"""A consortium's frameworks and block contracts as an OCDS 1.1 release package.

One release per contract. A framework is a tender that sets up a framework agreement
(techniques extension), divided into its lots (lots extension); each provider admitted to a
lot is an award to that supplier. A block contract is a tender with one award and one contract.
The member authorities are the buyers, the lead authority the procuring entity. Placements are
call-offs of children: never published, so no child-level data is here.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consortium.core.extensions import db
from consortium.core.models import Consortium
from contracts.models import Admission, Contract, Lot

EXTENSIONS = [
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_techniques_extension/master/extension.json",
]


def _moment(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _authority(code: str) -> str:
    return f"GB-ONS-{code}"  # an authority by its ONS code


def _provider(provider_id: int) -> str:
    return f"provider-{provider_id}"


def package(consortium: Consortium, today: date) -> dict:
    contracts = db.session.scalars(
        select(Contract)
        .where(Contract.consortium_id == consortium.id)
        .options(
            selectinload(Contract.provider),
            selectinload(Contract.lots).selectinload(Lot.admissions).selectinload(Admission.provider),
        )
        .order_by(Contract.ref)
    ).all()
    published = _moment(today)
    return {
        "uri": f"{current_app.config['SERVICE_URL']}/consortia/{consortium.id}/ocds.json",
        "version": "1.1",
        "extensions": EXTENSIONS,
        "publishedDate": published,
        "publisher": {"name": f"{consortium.lead.name}, lead authority of {consortium.name}"},
        "releases": [_release(consortium, contract, today, published) for contract in contracts],
    }


def _parties(consortium: Consortium, contract: Contract, today: date, suppliers: dict[int, str]) -> list[dict]:
    """The buyers (a contract one member owns has that member alone; otherwise every current
    member), the lead authority as procuring entity, and the suppliers."""
    parties = []
    for membership in sorted(consortium.memberships, key=lambda m: m.authority_code):
        buys = membership.authority_code == contract.owner_code if contract.owner_code else membership.is_current(today)
        roles = (["buyer"] if buys else []) + (
            ["procuringEntity"] if membership.authority_code == consortium.lead_code else []
        )
        if roles:
            parties.append(
                {"id": _authority(membership.authority_code), "name": membership.authority.name, "roles": roles}
            )
    parties += [{"id": _provider(pid), "name": name, "roles": ["supplier"]} for pid, name in sorted(suppliers.items())]
    return parties


def _release(consortium: Consortium, contract: Contract, today: date, published: str) -> dict:
    ocid = f"{current_app.config['OCDS_PREFIX']}-{contract.ref}"
    lead = {"id": _authority(consortium.lead_code), "name": consortium.lead.name}
    ended = contract.end_date < today
    tender = {
        "id": contract.ref,
        "title": contract.title,
        "status": "complete" if ended else "active",
        "procuringEntity": lead,
        "mainProcurementCategory": "services",
        "contractPeriod": {
            "startDate": _moment(contract.start_date),
            "endDate": _moment(contract.end_date),
            "maxExtentDate": _moment(contract.max_end_date),
        },
    }
    suppliers: dict[int, str] = {}
    awards, contracts = [], []
    if contract.kind == "framework":
        tender["techniques"] = {"hasFrameworkAgreement": True}
        tender["lots"] = [
            {"id": f"lot-{lot.id}", "title": lot.name, "status": tender["status"]} for lot in contract.lots
        ]
        for lot in contract.lots:
            for admission in sorted(lot.admissions, key=lambda a: a.provider.name):
                suppliers[admission.provider_id] = admission.provider.name
                awards.append(
                    {
                        "id": f"admission-{admission.id}",
                        "title": f"{admission.provider.name}: {lot.name} ({admission.tier})",
                        "status": "cancelled" if admission.status == "withdrawn" else "active",
                        "suppliers": [{"id": _provider(admission.provider_id), "name": admission.provider.name}],
                        "relatedLots": [f"lot-{lot.id}"],
                    }
                )
    elif contract.provider is not None:
        suppliers[contract.provider_id] = contract.provider.name
        award_id = f"award-{contract.ref}"
        awards.append(
            {
                "id": award_id,
                "title": contract.title,
                "status": "active",
                "suppliers": [{"id": _provider(contract.provider_id), "name": contract.provider.name}],
            }
        )
        contracts.append(
            {
                "id": contract.ref,
                "awardID": award_id,
                "title": contract.title,
                "status": "terminated" if ended else "active",
                "period": {"startDate": _moment(contract.start_date), "endDate": _moment(contract.end_date)},
            }
        )
    release = {
        "ocid": ocid,
        "id": f"{ocid}-{today.isoformat()}",
        "date": published,
        "tag": ["tender", "award"] + (["contract"] if contracts else []),
        "initiationType": "tender",
        "language": "en",
        "parties": _parties(consortium, contract, today, suppliers),
        "buyer": {"id": _authority(contract.owner_code), "name": contract.owner.name} if contract.owner_code else lead,
        "tender": tender,
        "awards": awards,
    }
    if contracts:
        release["contracts"] = contracts
    return release
