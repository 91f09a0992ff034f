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
