"""The apportionment engine: one pure function, no database (DESIGN §4, cost sharing).

Each member's share is worked out exactly (as a fraction of a penny), then the shares are
rounded once, together, by largest remainder: each member gets the whole pence of its exact
share, and the pence left over go one each to the largest remainders, ties to the lower
authority code. So the amounts always add up to the pool to the penny, and each is within a
penny of its exact share.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from consortium.core.money import largest_remainder

USAGE_BASES = ("placements", "bed_nights")
BASES = (*USAGE_BASES, "equal", "fixed")


class ApportionmentError(ValueError):
    pass


@dataclass(frozen=True)
class Member:
    code: str
    days: int  # days of membership in the pool's period
    usage: int = 0  # placements started or bed-nights, for the usage bases
    fixed_percent: Decimal | None = None  # agreed percentage, for the fixed basis


@dataclass(frozen=True)
class Share:
    code: str
    usage: int
    exact: Fraction  # pence
    amount: int  # pence


def _split(amount: Fraction, weights: dict[str, Fraction]) -> dict[str, Fraction]:
    total = sum(weights.values())
    return {code: amount * weight / total for code, weight in weights.items()}


def apportion(amount_pence: int, members: list[Member], basis: str, base_percent: Decimal | int = 0) -> list[Share]:
    """Split `amount_pence` among the members; returns their shares ordered by authority code.

    Membership counts by days: the equal part of a pool (the whole of an `equal` pool, or the
    `base_percent` of a usage pool) is split in proportion to each member's days, and agreed
    fixed percentages are weighted by days too. The usage part is split by usage; a member with
    none pays only its base part; if no member has usage, the usage part is split like the base.
    """
    if amount_pence <= 0:
        raise ApportionmentError("The amount must be above zero")
    if basis not in BASES:
        raise ApportionmentError(f"The basis must be one of {', '.join(BASES)}")
    members = [m for m in members if m.days > 0]
    if not members:
        raise ApportionmentError("The consortium had no members in the period")
    if len({m.code for m in members}) != len(members):
        raise ApportionmentError("A member is listed twice")
    base = Fraction(Decimal(base_percent or 0))
    if not 0 <= base <= 100:
        raise ApportionmentError("The base percentage is from 0 to 100")
    amount = Fraction(amount_pence)
    by_days = {m.code: Fraction(m.days) for m in members}

    if basis == "fixed":
        given = [m.fixed_percent for m in members]
        if any(p is None or p < 0 for p in given):
            raise ApportionmentError("Give every member an agreed percentage of 0 or more")
        if sum(given) != 100:
            raise ApportionmentError(f"The agreed percentages add up to {sum(given)}, not 100")
        exact = _split(amount, {m.code: Fraction(m.fixed_percent) * m.days for m in members})
    elif basis == "equal":
        exact = _split(amount, by_days)
    else:
        base_part = amount * base / 100
        usage_part = amount - base_part
        exact = _split(base_part, by_days) if base_part else {m.code: Fraction(0) for m in members}
        usage = {m.code: Fraction(max(m.usage, 0)) for m in members}
        usage_shares = _split(usage_part, usage) if sum(usage.values()) else _split(usage_part, by_days)
        exact = {code: exact[code] + usage_shares[code] for code in exact}

    floors = largest_remainder(exact, amount_pence)
    usage_of = {m.code: m.usage for m in members}
    return [Share(code, usage_of[code], exact[code], floors[code]) for code in sorted(exact)]


def share_percent(share: Share, amount_pence: int) -> Decimal:
    """A member's exact share of the pool as a percentage, to two decimal places, half up."""
    return (Decimal(share.exact.numerator) * 100 / Decimal(share.exact.denominator) / amount_pence).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
