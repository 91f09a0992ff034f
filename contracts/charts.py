"""A block's monthly occupancy as a bar chart drawn on the server (SVG, no script)."""

from __future__ import annotations

from markupsafe import Markup

from consortium.formatting import day

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 200, 40, 28, 12


def occupancy_svg(months, beds: int, threshold: int) -> Markup:
    """One bar a month: the average occupied beds against the beds; months below the threshold in red."""
    if not months or not beds:
        return Markup("")
    plot_height = HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT - 10) / len(months)

    def y(value) -> float:
        return TOP + plot_height * (1 - float(value) / beds)

    parts = [
        f'<svg class="app-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-labelledby="occupancy-title">'
        f'<title id="occupancy-title">Average occupied beds each month, {day(months[0].first)} to {day(months[-1].last)}, '
        f"of {beds} beds</title>"
    ]
    for value in (0, beds):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - 10}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#b1b4b6"/>'
            f'<text x="{LEFT - 6}" y="{y(value) + 5:.1f}" text-anchor="end" font-size="13">{value}</text>'
        )
    for index, month in enumerate(months):
        value = month.average_occupied_beds or 0
        x = LEFT + index * step + step * 0.15
        low = month.utilisation is not None and month.utilisation < threshold
        parts.append(
            f'<rect x="{x:.1f}" y="{y(value):.1f}" width="{step * 0.7:.1f}" height="{y(0) - y(value):.1f}" '
            f'fill="{"#d4351c" if low else "#1d70b8"}"><title>{month.first:%b %Y}: {value} beds on average, '
            f"{month.utilisation}%</title></rect>"
        )
        if len(months) <= 24 or index % 3 == 0:
            parts.append(f'<text x="{x + step * 0.35:.1f}" y="{HEIGHT - 8}" font-size="11" text-anchor="middle">{month.first:%b %y}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
