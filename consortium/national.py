"""`flask demo seed --scale national`: a whole country's worth of fictional data, for benchmarks.

153 authorities in 12 consortia, 2,500 providers, 4,000 homes with 12,000 inspections, 60
frameworks, 400 block contracts, 250,000 placements over ten years (about 80,000 open at the
end), outcomes frameworks on every contract with their quarterly returns, yearly cost pools
with issued statements, a year of 40,000 referrals with their invitations and offers, and 2,000
vacancies on the board. Deterministic for a given seed. Written with bulk inserts into an empty
database; the authorities, providers and homes are made up.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, insert, select, text

from consortium.core import audit
from consortium.core.dates import financial_year_start
from consortium.core.extensions import db
from consortium.core.models import (
    Authority,
    Consortium,
    Membership,
    User,
    new_session_token,
)
from consortium.core.passwords import hash_password
from consortium.core.sql import quarter_of
from consortium.recharges.apportion import Member, apportion, share_percent
from consortium.recharges.models import CostPool, Statement, StatementCounter
from contracts.models import (
    Admission,
    BlockPrice,
    Contract,
    HighCostReview,
    Indicator,
    Lot,
    MonitoringReturn,
    OutcomesFramework,
    Placement,
    PlacementFee,
    Price,
    ReturnValue,
    ReturnVersion,
    contract_homes,
)
from contracts.referrals.models import Offer, Referral, ReferralInvitation, Vacancy
from contracts.returns import STARTER_INDICATORS, period_label
from contracts.summaries import refresh_all
from providers.models import Home, Inspection, Judgement, Provider

AUTHORITIES, CONSORTIA, PROVIDERS, HOMES = 153, 12, 2500, 4000
FRAMEWORKS_PER_CONSORTIUM, BLOCKS, PLACEMENTS, YEARS = 5, 400, 250_000, 10
REFERRALS, VACANCIES = 40_000, 2_000
HIGH_COST_PENCE = 750_000
PASSWORD = "national-password"
CHUNK = 20_000


class NotEmpty(Exception):
    pass


def _bulk(model, rows: list[dict]) -> None:
    table = model.__table__ if hasattr(model, "__table__") else model
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(table), rows[start : start + CHUNK])


def seed(today: date, seed_value: int = 1) -> dict[str, int]:
    if db.session.scalar(select(func.count()).select_from(Placement)) or db.session.scalar(
        select(func.count()).select_from(Authority)
    ):
        raise NotEmpty("National-scale data is made in an empty database (flask db upgrade on a new one first)")
    rng = random.Random(seed_value)
    first_day = date(today.year - YEARS, 4, 1)
    counts = {}

    # Authorities and consortia.
    authorities = [
        {
            "code": f"E{9_100_000 + n:08d}",
            "name": f"Shire {n:03d}",
            "region": f"Region {n % CONSORTIA + 1}",
            "latitude": Decimal("52.0") + Decimal(n % 40) / 20,
            "longitude": Decimal("-2.0") + Decimal(n % 30) / 15,
        }
        for n in range(AUTHORITIES)
    ]
    _bulk(Authority, authorities)
    codes = [a["code"] for a in authorities]
    members_of = {c: codes[c::CONSORTIA] for c in range(CONSORTIA)}
    _bulk(
        Consortium,
        [
            {
                "id": c + 1,
                "ref": f"C{c + 1:02d}",
                "name": f"Consortium {c + 1:02d}",
                "lead_code": members_of[c][0],
                "high_cost_weekly_pence": HIGH_COST_PENCE,
            }
            for c in range(CONSORTIA)
        ],
    )
    _bulk(
        Membership,
        [
            {"consortium_id": c + 1, "authority_code": code, "joined": first_day}
            for c in range(CONSORTIA)
            for code in members_of[c]
        ],
    )
    consortium_of = {code: c + 1 for c in range(CONSORTIA) for code in members_of[c]}

    # Providers, homes and inspections.
    _bulk(Provider, [{"id": p + 1, "name": f"Provider {p + 1:04d} Ltd"} for p in range(PROVIDERS)])
    homes = []
    for h in range(HOMES):
        homes.append(
            {
                "id": h + 1,
                "urn": f"SC{500000 + h:06d}",
                "name": f"Home {h + 1:04d}",
                "provider_id": rng.randint(1, PROVIDERS),
                "provision_type": "Children's home",
                "local_authority": f"Shire {h % AUTHORITIES:03d}",
                "registered_places": rng.randint(2, 6),
                "registration_status": "Active" if rng.random() > 0.01 else "Suspended",
            }
        )
    _bulk(Home, homes)
    judgements = {j.name: j.id for j in db.session.scalars(select(Judgement))}
    scale = ["Outstanding", "Good", "Good", "Good", "Requires improvement to be good", "Inadequate"]
    inspections = []
    for home in homes:
        for visit in range(3):
            inspections.append(
                {
                    "home_id": home["id"],
                    "inspection_date": first_day + timedelta(days=400 * visit + rng.randint(0, 360) + 600),
                    "event_type": "Full inspection",
                    "judgement_id": judgements[rng.choice(scale)],
                }
            )
    _bulk(Inspection, inspections)
    homes_of = defaultdict(list)
    for home in homes:
        homes_of[home["provider_id"]].append(home["id"])
    provider_of_home = {home["id"]: home["provider_id"] for home in homes}

    # Frameworks with lots, admissions and prices; block contracts.
    contracts, lots, admissions, prices, blocks, block_prices, links = [], [], [], [], [], [], []
    framework_lots: dict[int, dict[int, int]] = {}
    contract_id = lot_id = admission_id = 0
    providers_with_homes = [p for p in homes_of]
    for c in range(CONSORTIA):
        for f in range(FRAMEWORKS_PER_CONSORTIUM):
            contract_id += 1
            start = first_day + timedelta(days=730 * f)
            contracts.append(
                {
                    "id": contract_id,
                    "ref": f"C{c + 1:02d}-FW{f + 1}",
                    "kind": "framework",
                    "title": f"Framework {f + 1}",
                    "consortium_id": c + 1,
                    "start_date": start,
                    "end_date": start + timedelta(days=4 * 365),
                    "max_end_date": start + timedelta(days=6 * 365),
                    "notice_days": 365,
                    "underuse_window_nights": 28,
                    "underuse_threshold_percent": 80,
                    "version": 1,
                }
            )
            admitted = {}
            for lot_name in ("Residential", "Residential with education", "Solo/crisis"):
                lot_id += 1
                lots.append({"id": lot_id, "contract_id": contract_id, "name": lot_name})
                for provider_id in rng.sample(providers_with_homes, 10):
                    if provider_id in admitted:
                        continue
                    admission_id += 1
                    admitted[provider_id] = lot_id
                    admissions.append(
                        {
                            "id": admission_id,
                            "lot_id": lot_id,
                            "provider_id": provider_id,
                            "tier": rng.choice(["Preferred", "Reserve", "Other"]),
                            "status": "active",
                            "version": 1,
                        }
                    )
                    base = rng.randint(3800, 6200) * 100
                    for level, factor in (("standard", 100), ("complex", 122), ("high", 150)):
                        prices.append(
                            {
                                "admission_id": admission_id,
                                "need_level": level,
                                "weekly_pence": base * factor // 100,
                                "effective_from": start,
                                "version": 1,
                            }
                        )
            framework_lots[contract_id] = admitted
    for b in range(BLOCKS):
        contract_id += 1
        provider_id = rng.choice(providers_with_homes)
        start = first_day + timedelta(days=rng.randint(0, 3000))
        consortium_id = b % CONSORTIA + 1
        blocks.append(
            {
                "id": contract_id,
                "ref": f"C{consortium_id:02d}-BLK{b + 1:03d}",
                "kind": "block",
                "title": f"Block contract {b + 1}",
                "consortium_id": consortium_id,
                "owner_code": None if b % 3 == 0 else members_of[consortium_id - 1][1],
                "start_date": start,
                "end_date": start + timedelta(days=5 * 365),
                "max_end_date": start + timedelta(days=10 * 365),
                "notice_days": 365,
                "provider_id": provider_id,
                "beds": rng.randint(4, 8),
                "underuse_window_nights": 28,
                "underuse_threshold_percent": 80,
                "version": 1,
            }
        )
        block_prices.append(
            {
                "contract_id": contract_id,
                "weekly_pence": rng.randint(3200, 4200) * 100,
                "effective_from": start,
                "version": 1,
            }
        )
        links += [{"contract_id": contract_id, "home_id": h} for h in homes_of[provider_id][:2]]
    _bulk(Contract, contracts)
    _bulk(Contract, blocks)  # apart: a bulk insert takes its columns from its first row
    _bulk(Lot, lots)
    _bulk(Admission, admissions)
    _bulk(Price, prices)
    _bulk(BlockPrice, block_prices)
    _bulk(contract_homes, links)

    # Placements: block beds filled slot by slot, then framework, spot and fostering placements.
    placements, fees = [], []
    horizon = (today - first_day).days
    # Why placements ended, drawn apart from the rest so the placements stay as they were.
    reasons = random.Random(seed_value + 903)
    ending = ["CARPL"] * 7 + ["E4A"] * 3 + ["E5"] * 2 + ["LAREQ", "E13", "CREQO", "CHILD", "STAND"] + ["CREQB"] * 2

    def add(code, contract, lot, home, start, end, kind, fee):
        placement_id = len(placements) + 1
        placements.append(
            {
                "id": placement_id,
                "authority_code": code,
                "child_ref": f"{code[-3:]}-{placement_id:07d}",
                "contract_id": contract,
                "lot_id": lot,
                "home_id": home,
                "start_date": start,
                "end_date": end if end and end <= today else None,
                "end_reason_code": reasons.choice(ending) if end and end <= today else None,
                "placement_type": kind,
                "age_at_start": rng.randint(16, 17) if kind == "supported_accommodation" else rng.randint(8, 17),
                "distance_miles": Decimal(rng.randint(5, 600)) / 10,
                "version": 1,
            }
        )
        if fee:
            fees.append({"placement_id": placement_id, "weekly_pence": fee, "effective_from": start})

    for block in blocks:
        block_homes = homes_of[block["provider_id"]][:2]
        for _ in range(block["beds"] - 1):
            start = block["start_date"] + timedelta(days=rng.randint(0, 30))
            while start < min(today, block["end_date"]):
                end = start + timedelta(days=rng.randint(120, 700))
                end = min(end, block["end_date"])
                add(
                    rng.choice(members_of[block["consortium_id"] - 1]),
                    block["id"],
                    None,
                    rng.choice(block_homes),
                    start,
                    end,
                    "residential",
                    None,
                )
                start = end + timedelta(days=rng.randint(0, 20))
    frameworks_of = defaultdict(list)
    for contract in contracts:
        frameworks_of[contract["consortium_id"]].append(contract)
    while len(placements) < PLACEMENTS:
        code = rng.choice(codes)
        start = first_day + timedelta(days=rng.randint(0, horizon - 1))
        end = start + timedelta(days=int(rng.expovariate(1 / 1250)) + 7)
        roll = rng.random()
        if roll < 0.6:
            live = [f for f in frameworks_of[consortium_of[code]] if f["start_date"] <= start <= f["end_date"]]
            if not live:
                continue
            framework = live[0]
            provider_id, lot = rng.choice(list(framework_lots[framework["id"]].items()))
            add(
                code,
                framework["id"],
                lot,
                rng.choice(homes_of[provider_id]),
                start,
                end,
                "residential",
                rng.randint(3900, 6500) * 100,
            )
        elif roll < 0.9:
            add(code, None, None, rng.randint(1, HOMES), start, end, "residential", rng.randint(4500, 9000) * 100)
        else:
            add(
                code,
                None,
                None,
                None,
                start,
                end,
                rng.choice(["in_house_fostering", "kinship"]),
                rng.randint(400, 700) * 100,
            )
    _bulk(Placement, placements)
    _bulk(PlacementFee, fees)
    # Most high-cost placements open now were reviewed in the last six months; the rest are due.
    high_cost = {f["placement_id"] for f in fees if f["weekly_pence"] >= HIGH_COST_PENCE}
    reviews = [
        {
            "placement_id": p["id"],
            "reviewed_on": max(p["start_date"], today - timedelta(days=reasons.randint(0, 170))),
            "outcome": reasons.choice(["continue", "continue", "step_down", "move"]),
            "recorded_at": datetime.now(timezone.utc),
        }
        for p in placements
        if p["id"] in high_cost and p["end_date"] is None and reasons.random() < 0.9
    ]
    _bulk(HighCostReview, reviews)
    refresh_all()  # the bulk inserts bypass the flush that keeps the summaries current
    counts.update(placements=len(placements), open=sum(p["end_date"] is None for p in placements))

    # Outcomes frameworks on every contract, and their returns where due.
    indicator_rows, outcome_rows = [], []
    indicator_ids: dict[int, list[int]] = {}
    indicator_id = 0
    for n, contract in enumerate(contracts + blocks, start=1):
        outcome_rows.append(
            {"id": n, "name": f"{contract['ref']} outcomes", "contract_id": contract["id"], "due_days": 30}
        )
        indicator_ids[contract["id"]] = []
        for position, (code, name, unit, higher, target, amber, red, guidance) in enumerate(STARTER_INDICATORS):
            indicator_id += 1
            indicator_ids[contract["id"]].append(indicator_id)
            indicator_rows.append(
                {
                    "id": indicator_id,
                    "outcomes_framework_id": n,
                    "code": code,
                    "name": name,
                    "unit": unit,
                    "higher_is_better": higher,
                    "target": target,
                    "amber": amber,
                    "red": red,
                    "position": position,
                }
            )
    _bulk(OutcomesFramework, outcome_rows)
    _bulk(Indicator, indicator_rows)
    owed: set[tuple[int, int, date]] = set()
    by_id = {c["id"]: c for c in contracts + blocks}
    for placement in placements:
        contract = by_id.get(placement["contract_id"])
        if contract is None or placement["home_id"] is None:
            continue
        provider_id = contract["provider_id"] if contract["kind"] == "block" else provider_of_home[placement["home_id"]]
        quarter = quarter_of(max(placement["start_date"], contract["start_date"]))[0]
        last = min(placement["end_date"] or today, contract["end_date"], today)
        while quarter <= last:
            owed.add((contract["id"], provider_id, quarter))
            quarter = quarter_of(quarter_of(quarter)[1] + timedelta(days=1))[0]
    returns_rows, version_rows, value_rows = [], [], []
    for contract_id_, provider_id, quarter in sorted(owed):
        due = quarter_of(quarter)[1] + timedelta(days=30)
        if due >= today - timedelta(days=20) and rng.random() < 0.5:
            continue  # the newest ones not yet in
        return_id = len(returns_rows) + 1
        submitted = due - timedelta(days=rng.randint(-5, 25))
        returns_rows.append(
            {
                "id": return_id,
                "contract_id": contract_id_,
                "provider_id": provider_id,
                "period": period_label(quarter),
                "quarter_start": quarter,
                "due_date": due,
                "status": "accepted",
                "submitted_on": submitted,
                "late": submitted > due,
                "version": 1,
            }
        )
        version_rows.append({"id": return_id, "return_id": return_id, "number": 1, "submitted_on": submitted})
        for iid, (_, _, unit, higher, target, amber, red, _) in zip(indicator_ids[contract_id_], STARTER_INDICATORS):
            value = rng.randint(75, 100) if unit == "percent" else rng.randint(0, 4)
            value_rows.append({"version_id": return_id, "indicator_id": iid, "value": value})
    _bulk(MonitoringReturn, returns_rows)
    _bulk(ReturnVersion, version_rows)
    _bulk(ReturnValue, value_rows)
    counts.update(returns=len(returns_rows), return_values=len(value_rows))

    # Cost pools per consortium per year, shared by placements started, statements issued.
    started = defaultdict(int)
    for placement in placements:
        if placement["contract_id"]:
            year = financial_year_start(placement["start_date"]).year
            started[(by_id[placement["contract_id"]]["consortium_id"], year, placement["authority_code"])] += 1
    pools, statements, counters = [], [], []
    for c in range(1, CONSORTIA + 1):
        for year in range(first_day.year, financial_year_start(today).year):
            pool_id = len(pools) + 1
            amount = rng.randint(150_000, 250_000) * 100
            pools.append(
                {
                    "id": pool_id,
                    "consortium_id": c,
                    "name": f"Contract management {year} to {year + 1}",
                    "first_day": date(year, 4, 1),
                    "last_day": date(year + 1, 3, 31),
                    "amount_pence": amount,
                    "basis": "placements",
                    "base_percent": Decimal(0),
                    "created_at": datetime.now(timezone.utc),
                }
            )
            members = [Member(code, 365, started[(c, year, code)]) for code in members_of[c - 1]]
            shares = apportion(amount, members, "placements")
            total = sum(m.usage for m in members)
            for n, share in enumerate(shares, start=1):
                statements.append(
                    {
                        "pool_id": pool_id,
                        "consortium_id": c,
                        "authority_code": share.code,
                        "number": f"C{c:02d}-{year + 1}-{n:04d}",
                        "status": "paid",
                        "amount_pence": share.amount,
                        "usage": share.usage,
                        "consortium_usage": total,
                        "share_percent": share_percent(share, amount),
                        "membership_days": 365,
                        "issued_on": date(year + 1, 4, 20),
                        "paid_on": date(year + 1, 5, 20),
                        "version": 1,
                    }
                )
            counters.append({"consortium_id": c, "year": year + 1, "last_number": len(shares)})
    _bulk(CostPool, pools)
    _bulk(Statement, statements)
    _bulk(StatementCounter, counters)

    counts.update(_referrals(rng, today, contracts, lots, blocks, admissions, homes_of, placements, members_of))

    # Accounts: an administrator, a lead per consortium, a partner per authority, staff of 50 providers.
    secret = hash_password(PASSWORD)
    users = [{"email": "admin@national.test", "name": "Admin", "role": "admin"}]
    users += [
        {"email": f"lead{c + 1:02d}@national.test", "name": f"Lead {c + 1}", "role": "lead", "consortium_id": c + 1}
        for c in range(CONSORTIA)
    ]
    users += [
        {
            "email": f"partner-{code.lower()}@national.test",
            "name": f"Partner {code}",
            "role": "partner",
            "authority_code": code,
        }
        for code in codes
    ]
    users += [
        {"email": f"provider{p:04d}@national.test", "name": f"Provider staff {p}", "role": "provider", "provider_id": p}
        for p in providers_with_homes[:50]
    ]
    _bulk(
        User,
        [
            {
                "password_hash": secret,
                "session_token": new_session_token(),
                "active": True,
                "wants_digest": True,
                "created_at": datetime.now(timezone.utc),
                "consortium_id": None,
                "authority_code": None,
                "provider_id": None,
                **u,
            }
            for u in users
        ],
    )
    _reset_sequences()
    audit.record(db.session, "seed", "National data", None, {k: v for k, v in counts.items()})
    counts.update(
        homes=HOMES, inspections=len(inspections), contracts=len(contracts) + len(blocks), statements=len(statements)
    )
    db.session.flush()
    return counts


def _referrals(rng, today, frameworks, lots, blocks, admissions, homes_of, placements, members_of) -> dict[str, int]:
    """A year of referrals (DESIGN §4a): each asked of a block of its consortium and of the live
    framework's Preferred tier; most placed (each linked to a placement its authority started
    then), some unmet or withdrawn, those of the last three days still open with offers standing.
    And the vacancy board's published vacancies."""
    now = datetime.combine(today, datetime.min.time(), timezone.utc) + timedelta(hours=9)
    framework_of_lot = {lot["id"]: lot["contract_id"] for lot in lots}
    preferred = defaultdict(list)  # framework -> its Preferred admissions
    for admission in admissions:
        if admission["tier"] == "Preferred":
            preferred[framework_of_lot[admission["lot_id"]]].append(admission)
    started_by = defaultdict(list)  # authority -> placements it started in the year, to link
    for placement in placements:
        if placement["start_date"] > today - timedelta(days=365) and placement["home_id"]:
            started_by[placement["authority_code"]].append(placement)
    blocks_of = defaultdict(list)
    for block in blocks:
        blocks_of[block["consortium_id"]].append(block)
    moments = sorted(now - timedelta(seconds=rng.randint(0, 365 * 86400)) for _ in range(REFERRALS))
    referrals, invitations, offers, sequences = [], [], [], defaultdict(int)
    for referral_id, opened_at in enumerate(moments, start=1):
        c = rng.randrange(CONSORTIA)
        code = rng.choice(members_of[c])
        needed_by = opened_at.date() + timedelta(days=rng.choice((0, 0, 2, 3, 7, 10, 14, 21)))
        days = (needed_by - opened_at.date()).days
        urgency = "Today" if days <= 0 else "< 5 days" if days <= 4 else "> 5 days"
        window = timedelta(hours={"Today": 4, "< 5 days": 24, "> 5 days": 72}[urgency])
        is_open = opened_at > now - window  # still in the first stage's window: older ones have closed
        pool = started_by[code]
        status = "open" if is_open else rng.choices(("placed", "unmet", "withdrawn"), (80, 12, 8))[0]
        placement = pool.pop(rng.randrange(len(pool))) if status == "placed" and pool else None
        if status == "placed" and placement is None:
            status = "unmet"
        sequences[(c, opened_at.year)] += 1
        closed_at = None if is_open else opened_at + timedelta(hours=rng.randint(2, 96))
        referrals.append(
            {
                "id": referral_id,
                "consortium_id": c + 1,
                "authority_code": code,
                "number": f"C{c + 1:02d}-R-{opened_at.year}-{sequences[(c, opened_at.year)]:04d}",
                "year": opened_at.year,
                "sequence": sequences[(c, opened_at.year)],
                "status": status,
                "child_ref": f"{code[-3:]}-R{referral_id:06d}",
                "age_in_years": rng.randint(8, 17),
                "needed_by": needed_by,
                "urgency": urgency,
                "stage": "Preferred",
                "next_stage_at": opened_at + window if is_open else None,
                "residential_suitability": "Preferred",
                "risk_missing": rng.random() < 0.3,
                "risk_self_harm": rng.random() < 0.2,
                "created_at": opened_at,
                "opened_at": opened_at,
                "closed_at": closed_at,
                "close_reason": "No suitable offer" if status == "unmet" else None,
                "placement_id": placement["id"] if placement else None,
                "version": 1,
            }
        )
        live_blocks = [b for b in blocks_of[c + 1] if b["start_date"] <= needed_by <= b["end_date"]]
        live = [f for f in frameworks if f["consortium_id"] == c + 1 and f["start_date"] <= needed_by <= f["end_date"]]
        asked = [("Block", b["id"], None, b["provider_id"]) for b in rng.sample(live_blocks, min(1, len(live_blocks)))]
        if live:
            tier = preferred[live[0]["id"]]
            asked += [
                ("Preferred", live[0]["id"], a["id"], a["provider_id"]) for a in rng.sample(tier, min(4, len(tier)))
            ]
        accepted = False
        for stage, contract_id, admission_id, provider_id in asked:
            answered = opened_at + window * rng.random()
            roll = rng.random()
            state = (
                "offered" if roll < 0.45 else "declined" if roll < 0.8 else "no_response" if not is_open else "invited"
            )
            invitations.append(
                {
                    "id": len(invitations) + 1,
                    "referral_id": referral_id,
                    "provider_id": provider_id,
                    "contract_id": contract_id,
                    "admission_id": admission_id,
                    "stage": stage,
                    "sent_at": opened_at,
                    "deadline": opened_at + window,
                    "status": state,
                    "answered_at": answered if state in ("offered", "declined") else None,
                    "decline_reason": rng.choice(("No vacancy", "Cannot meet needs", "Risks"))
                    if state == "declined"
                    else None,
                }
            )
            if state != "offered":
                continue
            core = 0 if stage == "Block" else rng.randint(3900, 6500) * 100
            if is_open:
                offer_status = "standing"
            elif status == "placed" and not accepted:
                offer_status, accepted = "accepted", True
            else:
                offer_status = "not_selected"
            offers.append(
                {
                    "referral_id": referral_id,
                    "invitation_id": len(invitations),
                    "provider_id": provider_id,
                    "contract_id": contract_id,
                    "home_id": rng.choice(homes_of[provider_id]),
                    "is_block": stage == "Block",
                    "start_date": needed_by,
                    "need_level": "standard",
                    "core_pence": core,
                    "total_pence": core,
                    "framework_price_pence": None if stage == "Block" else core,
                    "valid_until": answered + timedelta(hours=48),
                    "status": offer_status,
                    "made_at": answered,
                    "closed_at": closed_at,
                }
            )
    _bulk(Referral, referrals)
    _bulk(ReferralInvitation, invitations)
    _bulk(Offer, offers)
    providers_with_homes = list(homes_of)
    vacancies = []
    for _ in range(VACANCIES):
        provider_id = rng.choice(providers_with_homes)
        vacancies.append(
            {
                "provider_id": provider_id,
                "home_id": rng.choice(homes_of[provider_id]),
                "beds": rng.randint(1, 2),
                "available_from": today - timedelta(days=rng.randint(0, 10)),
                "care_types": "residential",
                "min_age": 10,
                "max_age": 17,
                "confirmed_on": today - timedelta(days=rng.randint(0, 13)),
                "version": 1,
            }
        )
    _bulk(Vacancy, vacancies)
    return {"referrals": len(referrals), "invitations": len(invitations), "offers": len(offers)}


def _reset_sequences() -> None:
    """After inserting explicit ids, PostgreSQL's sequences must start past them."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        if "id" in table.c and table.c.id.autoincrement and table.c.id.primary_key:
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"coalesce((SELECT max(id) FROM {table.name}), 1))"
                )
            )
