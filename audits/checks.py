"""The checks, and the runner that runs them as of a date.

A check is one function registered with `@check("kind")`: it looks at the data as known on the
date, calls `raise_flag` for each subject that needs a person, and ends with `settle` (which
resolves the flags of checks that resolve themselves and tracks when a condition cleared).
Running a check twice on the same data changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import Date, and_, func, literal, select
from sqlalchemy.orm import aliased, selectinload

from audits.models import Flag, FlagEvent, FlagUse
from consortium.core.extensions import db
from consortium.core.formatting import day, money, number, quarter
from consortium.core.models import Consortium, Membership
from consortium.core.sql import days_between
from contracts import returns, services, usage
from contracts.models import (
    Admission,
    Contract,
    HighCostReview,
    Indicator,
    Lot,
    OutcomesFramework,
    Placement,
    PlacementFee,
    contract_homes,
)
from contracts.referrals import search
from contracts.referrals.models import Offer, Referral, ReferralInvitation
from providers.models import Home, Judgement, Provider
from providers.quality import current_graded, ranked_inspections

CHECKS: dict[str, Callable[[date], None]] = {}


def check(kind: str):
    def register(function: Callable[[date], None]):
        CHECKS[kind] = function
        return function

    return register


def run(as_of: date, kinds: list[str] | None = None) -> list[str]:
    """Run the checks (all, or those named) as of a date; returns the kinds run."""
    unknown = set(kinds or []) - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown check {', '.join(sorted(unknown))}: choose from {', '.join(CHECKS)}")
    chosen = kinds or list(CHECKS)
    for kind in chosen:
        CHECKS[kind](as_of)
    db.session.flush()
    return chosen


class FlagBook:
    """The flags of one kind, read in two queries, so a check raising hundreds of flags does not
    look each one up on its own."""

    def __init__(self, kind: str):
        self.kind = kind
        self.open = {
            f.subject_key: f
            for f in db.session.scalars(select(Flag).where(Flag.kind == kind, Flag.status != "resolved"))
        }
        newest = (
            select(Flag.subject_key, func.max(Flag.id).label("id"))
            .where(Flag.kind == kind)
            .group_by(Flag.subject_key)
            .subquery()
        )
        self.last = {f.subject_key: f for f in db.session.scalars(select(Flag).join(newest, newest.c.id == Flag.id))}

    def raise_flag(
        self,
        subject: str,
        as_of: date,
        severity: str,
        detail: str,
        key: str | None = None,
        reopen_guard: bool = True,
        **figures,
    ) -> Flag | None:
        """Open a flag for the subject (and key, where one subject has several), or bring the
        open one up to date. The reopen rule: if a person resolved the last one and the
        condition has gone on unbroken since, nothing opens (returns None)."""
        key = key or subject
        flag = self.open.get(key)
        if flag is None:
            last = self.last.get(key)
            if (
                reopen_guard
                and last is not None
                and last.resolved_by_id is not None
                and last.condition_cleared_on is None
            ):
                return None
            flag = Flag(kind=self.kind, subject=subject, subject_key=key, opened_on=as_of)
            db.session.add(flag)
            flag.events.append(FlagEvent(on=as_of, action="opened", note=detail))
            self.open[key] = self.last[key] = flag
        elif flag.detail != detail:
            flag.events.append(FlagEvent(on=as_of, action="updated", note=detail))
        if "inspection_id" in figures and flag.inspection_id not in (None, figures["inspection_id"]) and flag.responses:
            # A newer inspection is news to every consortium: what each did about the last one is history.
            flag.responses.clear()
            flag.status = "open"
        for name, value in {"severity": severity, "detail": detail, **figures}.items():
            if getattr(flag, name) != value:
                setattr(flag, name, value)
        return flag


def settle(kind: str, still: set[str], as_of: date, note: str, resolve: bool = True) -> None:
    """After a check: the keys in `still` meet its condition. Others' open flags resolve
    themselves (for kinds that do), and flags a person resolved learn that their condition has
    cleared, so they may open anew if it comes back."""
    others = (Flag.kind == kind) & (Flag.subject_key.not_in(still) if still else True)
    if resolve:
        for flag in db.session.scalars(select(Flag).where(others, Flag.status != "resolved")):
            flag.status, flag.resolved_on, flag.resolution_note = "resolved", as_of, note
            flag.events.append(FlagEvent(on=as_of, action="resolved", note=note))
    for flag in db.session.scalars(
        select(Flag).where(
            others, Flag.status == "resolved", Flag.resolved_by_id.is_not(None), Flag.condition_cleared_on.is_(None)
        )
    ):
        flag.condition_cleared_on = as_of
        flag.events.append(FlagEvent(on=as_of, action="cleared", note="The condition no longer holds"))


# ---------------------------------------------------------------- quality drops


def quality_drops(as_of: date) -> list[dict]:
    """Homes whose newest graded judgement is worse than the one before, or is the worst on the
    scale (even a first inspection), or whose newest inspection is an interim decline."""
    graded = ranked_inspections(as_of, graded_only=True)
    newest, previous = graded.alias("newest"), graded.alias("previous")
    worst = select(func.max(Judgement.rank)).where(Judgement.graded).scalar_subquery()
    drops = (
        select(
            newest.c.id,
            newest.c.home_id,
            newest.c.inspection_date,
            newest.c.name,
            newest.c.rank,
            previous.c.name.label("before"),
            worst.label("worst"),
        )
        .outerjoin(previous, and_(previous.c.home_id == newest.c.home_id, previous.c.position == 2))
        .where(newest.c.position == 1, (newest.c.rank == worst) | (previous.c.rank < newest.c.rank))
    )
    latest = ranked_inspections(as_of, graded_only=False).alias("latest")
    declines = (
        select(
            latest.c.id,
            latest.c.home_id,
            latest.c.inspection_date,
            latest.c.name,
            latest.c.rank,
            newest.c.name.label("before"),
            worst.label("worst"),
        )
        .outerjoin(newest, and_(newest.c.home_id == latest.c.home_id, newest.c.position == 1))
        .where(latest.c.position == 1, latest.c.declines)
    )
    found = []
    for query in (drops, declines):
        found += [row._asdict() for row in db.session.execute(query)]
    return found


def _severity(rank: int | None, worst: int) -> str:
    if rank is None:
        return "medium"  # an interim decline
    return "high" if rank >= worst else "medium" if rank == worst - 1 else "low"


def _drop_detail(home: Home, provider: Provider, drop: dict) -> str:
    where = f"{home.with_urn}, {provider.name}"
    on = day(drop["inspection_date"])
    if drop["rank"] is None:
        was = f" (last graded {drop['before']})" if drop["before"] else ""
        return f"{where}: {drop['name']} at the interim inspection on {on}{was}"
    if drop["before"] is None:
        return f"{where}: judged {drop['name']} at its first inspection on {on}"
    if drop["before"] == drop["name"]:
        return f"{where}: judged {drop['name']} again at the inspection on {on}"
    return f"{where}: fell from {drop['before']} to {drop['name']} at the inspection on {on}"


@check("quality_drop")
def check_quality_drops(as_of: date) -> None:
    """One flag per home; never a second flag for the same inspection; stays open until a
    person resolves it. Covers every home in the register, used or not."""
    # A home can show a graded drop and a later interim decline: the newest one speaks for it.
    newest: dict[int, dict] = {}
    for drop in quality_drops(as_of):
        if drop["home_id"] not in newest or drop["inspection_date"] > newest[drop["home_id"]]["inspection_date"]:
            newest[drop["home_id"]] = drop
    drops = list(newest.values())
    if not drops:
        return
    flagged = set(
        db.session.scalars(
            select(Flag.inspection_id).where(
                Flag.kind == "quality_drop", Flag.inspection_id.in_([d["id"] for d in drops])
            )
        )
    )
    fresh = [drop for drop in drops if drop["id"] not in flagged]
    book = FlagBook("quality_drop")
    homes = {
        home.id: home
        for home in db.session.scalars(
            select(Home).options(selectinload(Home.provider)).where(Home.id.in_([d["home_id"] for d in fresh]))
        )
    }
    uses = _uses_of(list(homes.values()), as_of)
    for drop in fresh:
        home = homes[drop["home_id"]]
        flag = book.raise_flag(
            home.urn,
            as_of,
            reopen_guard=False,  # each inspection is its own event: a new drop is never "unbroken"
            severity=_severity(drop["rank"], drop["worst"]),
            detail=_drop_detail(home, home.provider, drop),
            home_id=home.id,
            provider_id=home.provider_id,
            inspection_id=drop["id"],
            judgement_before=drop["before"],
            judgement_after=drop["name"],
            event_date=drop["inspection_date"],
        )
        flag.uses = [
            FlagUse(contract_id=contract_id, admission_id=admission_id)
            for contract_id, admission_id in uses.get(home.id, [])
        ]


def _uses_of(homes: list[Home], as_of: date) -> dict[int, list[tuple[int, int | None]]]:
    """For each home, the contracts in their term on the date that use it: block contracts it is a
    home of, and frameworks its provider is admitted to (active admissions): (contract, admission)."""
    if not homes:
        return {}
    live = (Contract.start_date <= as_of) & (Contract.end_date >= as_of)
    found: dict[int, list[tuple[int, int | None]]] = {}
    for home_id, contract_id in db.session.execute(
        select(contract_homes.c.home_id, Contract.id)
        .join(Contract, Contract.id == contract_homes.c.contract_id)
        .where(contract_homes.c.home_id.in_([h.id for h in homes]), Contract.kind == "block", live)
        .order_by(Contract.ref)
    ):
        found.setdefault(home_id, []).append((contract_id, None))
    homes_of = {}
    for home in homes:
        homes_of.setdefault(home.provider_id, []).append(home.id)
    for provider_id, contract_id, admission_id in db.session.execute(
        select(Admission.provider_id, Contract.id, Admission.id)
        .join(Admission.lot)
        .join(Lot.contract)
        .where(
            Admission.provider_id.in_(list(homes_of)), Admission.status == "active", Contract.kind == "framework", live
        )
        .order_by(Contract.ref, Admission.id)
    ):
        for home_id in homes_of[provider_id]:
            found.setdefault(home_id, []).append((contract_id, admission_id))
    return found


# ---------------------------------------------------------------- underused block beds


@check("underused_block_beds")
def check_underused_block_beds(as_of: date) -> None:
    """Each block's utilisation over its window (default the 28 nights before the date, clipped
    to the term); below its threshold (default 80%), one flag on the contract."""
    still, book = set(), FlagBook("underused_block_beds")
    live = (
        (Contract.kind == "block") & (Contract.start_date < as_of) & (Contract.end_date >= as_of - timedelta(days=366))
    )
    blocks = db.session.scalars(select(Contract).where(live)).all()
    used_by_block = usage.window_occupancies(blocks, as_of)
    for contract in blocks:
        used = used_by_block.get(contract.id)
        if used is None or used.utilisation is None or used.utilisation >= contract.underuse_threshold_percent:
            continue
        still.add(contract.ref)
        book.raise_flag(
            contract.ref,
            as_of,
            severity="high" if used.utilisation < contract.underuse_threshold_percent / 2 else "medium",
            detail=(
                f"Utilisation {used.utilisation}% over the {used.nights} nights to {day(used.last)}: "
                f"{used.void:,} void bed-nights, void cost {money(used.void_cost_pence)}"
            ),
            contract_id=contract.id,
            provider_id=contract.provider_id,
            window_start=used.first,
            window_end=used.last,
            utilisation=used.utilisation,
            bed_nights=used.capacity,
            void_bed_nights=used.void,
            pence=used.void_cost_pence,
        )
    settle("underused_block_beds", still, as_of, "Utilisation is back at or above the threshold")


# ---------------------------------------------------------------- expiring contracts


@check("contract_expiring")
def check_expiring_contracts(as_of: date) -> None:
    """A contract ending within its notice period: "extension decision due" while it can still
    be extended and no decision is recorded, else "re-procurement needed"."""
    still, book = set(), FlagBook("contract_expiring")
    ending = db.session.scalars(
        select(Contract)
        .options(selectinload(Contract.decisions))
        .where(
            Contract.end_date >= as_of, days_between(literal(as_of, Date), Contract.end_date) <= Contract.notice_days
        )
    )
    for contract in ending:
        decided = [d for d in contract.decisions if d.previous_end_date == contract.end_date]
        can_extend = contract.end_date < contract.max_end_date
        if can_extend and not decided:
            state, severity = f"extension decision due (it can be extended to {day(contract.max_end_date)})", "medium"
        else:
            state, severity = "re-procurement needed", "high"
        still.add(contract.ref)
        book.raise_flag(
            contract.ref,
            as_of,
            severity=severity,
            detail=f"{contract.title} ({contract.kind}) ends on {day(contract.end_date)}, "
            f"{(contract.end_date - as_of).days} days away: {state}",
            contract_id=contract.id,
            provider_id=contract.provider_id,
            event_date=contract.end_date,
        )
    settle("contract_expiring", still, as_of, "No longer ending within its notice period")


# ---------------------------------------------------------------- homes in use of concern


@check("home_in_use_concern")
def check_homes_in_use(as_of: date) -> None:
    """A home with a placement open on the date whose current graded judgement is below Good,
    whose newest inspection is an interim decline, or whose registration is not Active. The flag
    is shared by every consortium, so its words say that children are placed there, not how many
    of whose: each viewer's own count is on Homes in use."""
    current = current_graded(as_of)
    latest = ranked_inspections(as_of).alias("latest")
    good = db.session.scalar(select(Judgement.rank).where(Judgement.name == "Good"))
    placed = (
        select(Placement.home_id)
        .where(
            Placement.home_id.is_not(None),
            Placement.start_date <= as_of,
            (Placement.end_date.is_(None)) | (Placement.end_date > as_of),
        )
        .distinct()
        .subquery()
    )
    concerns = db.session.execute(
        select(
            Home,
            current.c.name,
            current.c.rank,
            current.c.inspection_date,
            latest.c.name.label("interim"),
            latest.c.inspection_date.label("interim_on"),
            latest.c.declines,
        )
        .join(placed, placed.c.home_id == Home.id)
        .outerjoin(current, current.c.home_id == Home.id)
        .outerjoin(latest, and_(latest.c.home_id == Home.id, latest.c.position == 1))
        .options(selectinload(Home.provider))
        .where((current.c.rank > good) | (Home.registration_status != "Active") | latest.c.declines.is_(True))
    ).all()
    worst = db.session.scalar(select(func.max(Judgement.rank)).where(Judgement.graded))
    still, book = set(), FlagBook("home_in_use_concern")
    for home, judgement, rank, judged_on, interim, interim_on, declined in concerns:
        reasons = []
        if rank is not None and rank > good:
            reasons.append(f"judged {judgement} on {day(judged_on)}")
        if declined:
            reasons.append(
                f"{interim} at the interim inspection on {day(interim_on)}"
                + (f" (last graded {judgement})" if judgement and not (rank is not None and rank > good) else "")
            )
        if home.registration_status != "Active":
            reasons.append(f"registration {home.registration_status}")
        still.add(home.urn)
        book.raise_flag(
            home.urn,
            as_of,
            severity="high" if rank == worst or home.registration_status != "Active" else "medium",
            detail=f"{home.with_urn}, {home.provider.name}: children placed there on {day(as_of)}; "
            + " and ".join(reasons),
            home_id=home.id,
            provider_id=home.provider_id,
            judgement_after=judgement,
            event_date=judged_on,
        )
    settle(
        "home_in_use_concern",
        still,
        as_of,
        "No placement there, or its judgement and registration are no longer of concern",
    )


# ---------------------------------------------------------------- monitoring returns


@check("overdue_return")
def check_overdue_returns(as_of: date) -> None:
    """One flag per contract, provider and quarter whose return was not submitted by its due
    date; resolved when it is submitted."""
    still, book = set(), FlagBook("overdue_return")
    for entry in returns.owed_many(OutcomesFramework.contract_id.is_not(None), as_of):
        submitted = entry.monitoring_return.submitted_on if entry.monitoring_return else None
        if as_of <= entry.due_date or (submitted is not None and submitted <= as_of):
            continue
        key = f"{entry.contract.ref}|{entry.provider.id}|{entry.period}"
        still.add(key)
        late = (as_of - entry.due_date).days
        book.raise_flag(
            entry.contract.ref,
            as_of,
            key=key,
            severity="high" if late > 60 else "medium",
            detail=f"{entry.provider.name} has not submitted the {quarter(entry.period)} return "
            f"for {entry.contract.title}, due on {day(entry.due_date)}: {late} day{'s' if late != 1 else ''} overdue",
            contract_id=entry.contract.id,
            provider_id=entry.provider.id,
            period=entry.period,
            event_date=entry.due_date,
        )
    settle("overdue_return", still, as_of, "The return has been submitted")


def resolve_overdue(monitoring_return, on: date) -> None:
    """A return just submitted: its overdue flag resolves now, in the same transaction, not at
    the next daily run."""
    key = f"{monitoring_return.contract.ref}|{monitoring_return.provider.id}|{monitoring_return.period}"
    note = "The return has been submitted"
    for flag in db.session.scalars(
        select(Flag).where(Flag.kind == "overdue_return", Flag.subject_key == key, Flag.status != "resolved")
    ):
        flag.status, flag.resolved_on, flag.resolution_note = "resolved", on, note
        flag.events.append(FlagEvent(on=on, action="resolved", note=note))


@check("kpi_red")
def check_kpi_reds(as_of: date) -> None:
    """An indicator red in the accepted returns of two consecutive quarters from the same
    provider under the same contract: one flag for that contract and provider."""
    reds: dict[tuple[int, int], dict[int, dict[str, object]]] = {}
    for contract_id, provider_id, indicator_id, period, value in db.session.execute(returns.red_values(as_of)):
        reds.setdefault((contract_id, provider_id), {}).setdefault(indicator_id, {})[period] = value
    still, book = set(), FlagBook("kpi_red")
    if reds:
        contracts = {c.id: c for c in db.session.scalars(select(Contract).where(Contract.id.in_({c for c, _ in reds})))}
        indicators = {
            i.id: i
            for i in db.session.scalars(
                select(Indicator).where(Indicator.id.in_({i for v in reds.values() for i in v}))
            )
        }
        providers = {p.id: p for p in db.session.scalars(select(Provider).where(Provider.id.in_({p for _, p in reds})))}
    for (contract_id, provider_id), by_indicator in reds.items():
        runs = []
        for indicator_id, periods in by_indicator.items():
            for period in periods:
                following = returns.period_label(returns.parse_period(period)[1] + timedelta(days=1))
                if following in periods:
                    runs.append((following, period, indicators[indicator_id]))
        if not runs:
            continue
        latest = max(run[0] for run in runs)
        current = sorted((run for run in runs if run[0] == latest), key=lambda run: run[2].position)
        contract, provider = contracts[contract_id], providers[provider_id]
        names = "; ".join(
            f"{i.name} ({number(by_indicator[i.id][earlier])} then {number(by_indicator[i.id][later])})"
            for later, earlier, i in current
        )
        key = f"{contract.ref}|{provider_id}"
        still.add(key)
        book.raise_flag(
            contract.ref,
            as_of,
            key=key,
            severity="high" if len(current) > 1 else "medium",
            detail=f"{provider.name}: red in {quarter(current[0][1])} and {quarter(latest)}: {names}",
            contract_id=contract_id,
            provider_id=provider_id,
            period=latest,
            indicators=",".join(i.code for _, _, i in current),
        )
    # A KPI red stays open until a person resolves it; the reopen rule still needs to know when it cleared.
    settle("kpi_red", still, as_of, "", resolve=False)


# ---------------------------------------------------------------- referrals


@check("referral_unanswered")
def check_unanswered_referrals(as_of: date) -> None:
    """An open referral past its needed-by date with no accepted offer (DESIGN §4a): one flag
    on the referral, high for a referral needed today; resolved once it is placed or closed."""
    standing = (
        select(func.count(Offer.id))
        .where(Offer.referral_id == Referral.id, Offer.status == "standing")
        .scalar_subquery()
    )
    waiting = (
        select(func.count(ReferralInvitation.id))
        .where(ReferralInvitation.referral_id == Referral.id, ReferralInvitation.status == "invited")
        .scalar_subquery()
    )
    asked = (
        select(func.count(ReferralInvitation.id)).where(ReferralInvitation.referral_id == Referral.id).scalar_subquery()
    )
    late = db.session.execute(
        select(Referral, standing, waiting, asked)
        .where(Referral.status == "open", Referral.needed_by < as_of, func.date(Referral.opened_at) <= as_of)
        .options(selectinload(Referral.authority))
        .order_by(Referral.id)
    ).all()
    still, book = set(), FlagBook("referral_unanswered")
    for referral, offers, unanswered, invitations in late:
        still.add(referral.number)
        book.raise_flag(
            referral.number,
            as_of,
            severity="high" if referral.urgency == "Today" else "medium",
            detail=(
                f"{referral.number} for {referral.authority.name} was needed by {day(referral.needed_by)} and is "
                f"still open: {offers} offer{'s' if offers != 1 else ''} standing, {unanswered} of {invitations} "
                f"invitation{'s' if invitations != 1 else ''} unanswered"
            ),
            referral_id=referral.id,
            event_date=referral.needed_by,
        )
    settle("referral_unanswered", still, as_of, "The referral is placed, withdrawn or closed")


@check("block_void_while_spot")
def check_block_void_while_spot(as_of: date) -> None:
    """A framework or spot placement started on the date for a child of a member authority while
    a block of the same consortium with a home of the same provision type had a bed free on each
    of the 7 nights from then, and its provider was not invited for that child (DESIGN §4a). One
    flag per block, kept until a person resolves it; a placement is never flagged twice."""
    nights = search.SPOT_CHECK_NIGHTS
    started = db.session.execute(
        select(Placement, Home.provision_type, Contract.consortium_id, Contract.kind)
        .join(Home, Home.id == Placement.home_id)
        .outerjoin(Contract, Contract.id == Placement.contract_id)
        .where(Placement.start_date == as_of, (Placement.contract_id.is_(None)) | (Contract.kind == "framework"))
        .options(selectinload(Placement.fees), selectinload(Placement.authority))
        .order_by(Placement.id)
    ).all()
    flagged = set(
        db.session.scalars(
            select(Flag.placement_id).where(
                Flag.kind == "block_void_while_spot", Flag.placement_id.in_([p.id for p, *_ in started])
            )
        )
    )
    book = FlagBook("block_void_while_spot")
    for placement, provision, consortium_id, kind in started:
        if placement.id in flagged:
            continue
        member_of = select(Membership.consortium_id).where(
            Membership.authority_code == placement.authority_code,
            Membership.joined <= as_of,
            (Membership.left.is_(None)) | (Membership.left >= as_of),
        )
        consortia = [consortium_id] if consortium_id is not None else member_of
        blocks = db.session.scalars(
            select(Contract)
            .where(
                Contract.kind == "block",
                Contract.consortium_id.in_(consortia),
                Contract.start_date <= as_of,
                Contract.end_date >= as_of + timedelta(days=nights - 1),
                Contract.id.in_(
                    select(contract_homes.c.contract_id)
                    .join(Home, Home.id == contract_homes.c.home_id)
                    .where(Home.provision_type == provision)
                ),
                ~Contract.id.in_(
                    select(ReferralInvitation.contract_id)
                    .join(ReferralInvitation.referral)
                    .where(
                        Referral.authority_code == placement.authority_code, Referral.child_ref == placement.child_ref
                    )
                ),
            )
            .order_by(Contract.ref)
        ).all()
        free = search.beds_free([b.id for b in blocks], as_of, nights)
        for block in (b for b in blocks if free.get(b.id, 0) >= 1):
            void = usage.occupancy(block, as_of, as_of + timedelta(days=nights - 1))
            fee = placement.fees[0].weekly_pence if placement.fees else None
            route = "a framework placement" if kind == "framework" else "a spot purchase"
            book.raise_flag(
                block.ref,
                as_of,
                reopen_guard=False,  # each placement is its own event
                severity="medium",
                detail=(
                    f"{placement.authority.name} placed a child through {route} at {money(fee)} a week from "
                    f"{day(as_of)} in a {provision.lower()}, while {block.ref} had a bed free on each of the "
                    f"{nights} nights from then (void cost {money(void.void_cost_pence)} over those nights); "
                    "its provider was not invited"
                ),
                contract_id=block.id,
                placement_id=placement.id,
                window_start=as_of,
                window_end=as_of + timedelta(days=nights - 1),
                void_bed_nights=void.void,
                pence=void.void_cost_pence,
            )
            break
    settle("block_void_while_spot", set(book.open), as_of, "", resolve=False)


@check("high_cost_review_due")
def check_high_cost_reviews(as_of: date) -> None:
    """An open placement whose weekly fee is at or above its consortium's high-cost threshold
    with no review in the 183 days before the date, nor since its start if it started later
    (DESIGN §4b). The threshold: the consortium of its contract; for a placement under no
    contract, the lowest among the consortia its authority is a member of. It resolves once a
    review is recorded, the fee falls below the threshold or the placement ends."""
    earlier = aliased(PlacementFee)
    since = (
        select(func.max(earlier.effective_from))
        .where(earlier.placement_id == Placement.id, earlier.effective_from <= as_of)
        .correlate(Placement)
        .scalar_subquery()
    )
    fee = (
        select(PlacementFee.weekly_pence)
        .where(PlacementFee.placement_id == Placement.id, PlacementFee.effective_from == since)
        .scalar_subquery()
    )
    member_threshold = (
        select(func.min(Consortium.high_cost_weekly_pence))
        .join(Membership, Membership.consortium_id == Consortium.id)
        .where(
            Membership.authority_code == Placement.authority_code,
            Membership.joined <= as_of,
            (Membership.left.is_(None)) | (Membership.left >= as_of),
        )
        .scalar_subquery()
    )
    contract_threshold = (
        select(Consortium.high_cost_weekly_pence)
        .join(Contract, Contract.consortium_id == Consortium.id)
        .where(Contract.id == Placement.contract_id)
        .scalar_subquery()
    )
    threshold = func.coalesce(contract_threshold, member_threshold)
    reviewed = (
        select(func.max(HighCostReview.reviewed_on))
        .where(HighCostReview.placement_id == Placement.id, HighCostReview.reviewed_on <= as_of)
        .scalar_subquery()
    )
    last = func.coalesce(reviewed, Placement.start_date)
    due = db.session.execute(
        select(Placement, fee, threshold, reviewed)
        .where(
            Placement.start_date <= as_of,
            (Placement.end_date.is_(None)) | (Placement.end_date > as_of),
            fee >= threshold,
            days_between(last, literal(as_of, Date)) > services.REVIEW_EVERY_DAYS,
        )
        .options(selectinload(Placement.authority), selectinload(Placement.home))
        .order_by(Placement.id)
    ).all()
    still, book = set(), FlagBook("high_cost_review_due")
    for placement, weekly, limit, last_review in due:
        key = f"placement-{placement.id}"
        still.add(key)
        where = f" at {placement.home.display_name}" if placement.home else ""
        when = (
            f"last reviewed on {day(last_review)}"
            if last_review
            else f"not reviewed since it started on {day(placement.start_date)}"
        )
        book.raise_flag(
            f"{placement.child_ref} ({placement.authority.name})"[:60],
            as_of,
            severity="medium",
            detail=(
                f"{placement.authority.name}'s placement of {placement.child_ref}{where} costs {money(weekly)} a week, "
                f"at or above the {money(limit)} threshold, and was {when}: a review is due every "
                f"{services.REVIEW_EVERY_DAYS} days"
            ),
            key=key,
            placement_id=placement.id,  # seen by those who may see the placement (never through its contract)
            pence=weekly,
        )
    settle("high_cost_review_due", still, as_of, "Reviewed, below the threshold or ended")
