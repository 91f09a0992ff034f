"""A home's graded judgements over time, drawn with the one charting helper."""

from __future__ import annotations

from markupsafe import Markup

from consortium.core.charts import BLUE, RED, Key, Point, chart
from consortium.core.formatting import day
from providers.quality import rank_labels


def timeline_svg(inspections) -> Markup:
    """Graded judgements as points joined by a line, best at the top; drops in red."""
    graded = [i for i in inspections if i.judgement.graded]
    if not graded:
        return Markup("")
    labels = rank_labels()
    worst = max(labels)
    points, previous = [], None
    for inspection in graded:
        rank = inspection.judgement.rank
        # Drawn upside down (best at the top): height is worst + 1 - rank.
        points.append(
            Point(
                day(inspection.inspection_date),
                worst + 1 - rank,
                RED if previous is not None and rank > previous else BLUE,
                inspection.judgement.name,
            )
        )
        previous = rank
    y_labels = {worst + 1 - rank: name.removesuffix(" to be good") for rank, name in labels.items()}
    return chart(
        f"Judgements from {day(graded[0].inspection_date)} to {day(graded[-1].inspection_date)}",
        points,
        kind="line",
        height=190,
        low=1,
        high=worst,
        y_labels=y_labels,
        x_label="Inspection date",
        legend=[Key(BLUE, "Graded judgement"), Key(RED, "Lower than the judgement before")],
    )
