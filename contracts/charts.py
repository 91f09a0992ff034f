"""Charts of contracts, drawn with the one charting helper (`consortium.core.charts`)."""

from __future__ import annotations

from decimal import Decimal

from markupsafe import Markup

from consortium.core.charts import BLUE, GREEN, ORANGE, RED, Key, Point, chart
from consortium.core.formatting import day, number

RAG_COLOURS = {"red": RED, "amber": ORANGE, "green": GREEN, None: "#b1b4b6"}


def occupancy_svg(months, beds: int, threshold: int) -> Markup:
    """One bar a month: the average occupied beds against the beds; months below the threshold in red."""
    if not months or not beds:
        return Markup("")
    points = [
        Point(
            f"{m.first:%b %y}",
            float(m.average_occupied_beds or 0),
            RED if m.utilisation is not None and m.utilisation < threshold else BLUE,
            f"{m.average_occupied_beds} beds on average, {m.utilisation}%",
        )
        for m in months
    ]
    title = f"Average occupied beds each month, {day(months[0].first)} to {day(months[-1].last)}, of {beds} beds"
    line = Decimal(beds) * threshold / 100  # exact: 80% of 2 beds is 1.6, never 1.6000000000000001
    return chart(
        title,
        points,
        low=0,
        high=beds,
        lines=[(float(line), RED)],
        x_label="Month",
        y_label="Beds occupied",
        legend=[
            Key(BLUE, f"At or above {threshold}% of beds"),
            Key(RED, f"Below {threshold}% of beds"),
            Key(RED, f"Underuse threshold: {threshold}% of {beds} beds ({number(line)})", line=True),
        ],
    )


def trend_svg(indicator, points: list[tuple[str, object]]) -> Markup:
    """One indicator over the quarters, each point coloured by its RAG, with the amber and red
    thresholds as dashed lines."""
    marks = [
        Point(
            period,
            float(value) if value is not None else None,
            RAG_COLOURS[indicator.rag(value)],
            number(value) if value is not None else "",
        )
        for period, value in points
    ]
    return chart(
        f"{indicator.name}: trend over {len(points)} quarters",
        marks,
        kind="line",
        width=300,
        height=120,
        lines=[(float(indicator.amber), ORANGE), (float(indicator.red), RED)],
        x_label="Quarter",
        legend=[
            Key(ORANGE, f"Amber at {number(indicator.amber)}", line=True),
            Key(RED, f"Red at {number(indicator.red)}", line=True),
        ],
    )
