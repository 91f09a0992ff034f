"""Exact arithmetic on integer pence and percentages, rounding half up (away from zero)."""

from decimal import ROUND_HALF_UP, Decimal


def div_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest whole number, halves away from zero."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient = (2 * abs(numerator) + denominator) // (2 * denominator)
    return quotient if numerator >= 0 else -quotient


def percent(part: int, whole: int, places: int = 1) -> Decimal | None:
    """part / whole as a percentage, rounded half up to `places` decimals; None when whole is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def apply_percent(pence: int, percent_change: Decimal) -> int:
    """A price raised (or lowered) by a percentage, to the penny, halves up."""
    return int((Decimal(pence) * (100 + Decimal(percent_change)) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def largest_remainder(exact: dict, total: int) -> dict:
    """Whole pence for each key's exact amount (Fractions), adding up to `total`: each key gets
    the whole pence of its amount, and the pence left over go one each to the largest remainders,
    ties to the lower key. `total` is the exact sum rounded once, or any agreed whole amount
    within one penny a key of it."""
    floors = {key: value.numerator // value.denominator for key, value in exact.items()}
    left = total - sum(floors.values())
    if not 0 <= left <= len(exact):
        raise ValueError(f"{total} cannot be shared by largest remainder among {len(exact)} amounts")
    for key in sorted(exact, key=lambda key: (-(exact[key] - floors[key]), key))[:left]:
        floors[key] += 1
    return floors
