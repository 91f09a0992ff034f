"""A small server-drawn chart of a home's graded judgements over time (SVG, no script)."""

from __future__ import annotations

from markupsafe import Markup, escape

from consortium.formatting import day
from providers.quality import rank_labels

WIDTH, HEIGHT = 640, 170
LEFT, RIGHT, TOP, BOTTOM = 190, 20, 15, 30


def timeline_svg(inspections) -> Markup:
    """Graded judgements as points joined by a line, best at the top; drops in red."""
    graded = [i for i in inspections if i.judgement.graded]
    if not graded:
        return Markup("")
    labels = rank_labels()
    ranks = sorted(labels)
    first, last = graded[0].inspection_date, graded[-1].inspection_date
    span = max((last - first).days, 1)

    def x(d) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * ((d - first).days / span if len(graded) > 1 else 0.5)

    def y(rank) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (ranks.index(rank) / max(len(ranks) - 1, 1))

    parts = [
        f'<svg class="app-timeline" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="timeline-title"><title id="timeline-title">Judgements from {day(first)} to {day(last)}</title>'
    ]
    for rank in ranks:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(rank):.1f}" y2="{y(rank):.1f}" stroke="#b1b4b6" stroke-width="1"/>'
            f'<text x="{LEFT - 10}" y="{y(rank) + 5:.1f}" text-anchor="end" font-size="14">{escape(labels[rank].removesuffix(" to be good"))}</text>'
        )
    points = " ".join(f"{x(i.inspection_date):.1f},{y(i.judgement.rank):.1f}" for i in graded)
    parts.append(f'<polyline points="{points}" fill="none" stroke="#1d70b8" stroke-width="3"/>')
    previous = None
    for inspection in graded:
        dropped = previous is not None and inspection.judgement.rank > previous
        colour = "#d4351c" if dropped else "#1d70b8"
        parts.append(
            f'<circle cx="{x(inspection.inspection_date):.1f}" cy="{y(inspection.judgement.rank):.1f}" r="7" fill="{colour}">'
            f"<title>{day(inspection.inspection_date)}: {escape(inspection.judgement.name)}</title></circle>"
        )
        previous = inspection.judgement.rank
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 5}" font-size="14">{day(first)}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 5}" font-size="14" text-anchor="end">{day(last)}</text></svg>'
    )
    return Markup("".join(parts))
