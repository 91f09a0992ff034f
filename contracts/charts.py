"""A block's monthly occupancy as a bar chart drawn on the server (SVG, no script)."""

from __future__ import annotations

from markupsafe import Markup, escape

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


RAG_COLOURS = {"red": "#d4351c", "amber": "#f47738", "green": "#00703c", None: "#b1b4b6"}


def trend_svg(indicator, points: list[tuple[str, object]]) -> Markup:
    """One indicator's values over the quarters, each point coloured by its RAG, with the amber
    and red thresholds drawn as lines."""
    known = [float(v) for _, v in points if v is not None]
    if not known:
        return Markup("")
    width, height, left, bottom, top = 300, 90, 8, 16, 8
    marks = known + [float(indicator.amber), float(indicator.red)]
    low, high = min(marks), max(marks)
    if high == low:
        high = low + 1

    def y(value: float) -> float:
        return top + (height - top - bottom) * (1 - (value - low) / (high - low))

    step = (width - 2 * left) / max(len(points) - 1, 1)
    parts = [f'<svg class="app-chart app-chart--small" viewBox="0 0 {width} {height}" width="{width}" role="img" '
             f'aria-label="{escape(indicator.name)}: trend over {len(points)} quarters">']
    for threshold, colour in ((indicator.amber, "#f47738"), (indicator.red, "#d4351c")):
        parts.append(f'<line x1="{left}" x2="{width - left}" y1="{y(float(threshold)):.1f}" y2="{y(float(threshold)):.1f}" '
                     f'stroke="{colour}" stroke-dasharray="4 3"/>')
    line = " ".join(f"{left + i * step:.1f},{y(float(v)):.1f}" for i, (_, v) in enumerate(points) if v is not None)
    parts.append(f'<polyline points="{line}" fill="none" stroke="#505a5f" stroke-width="2"/>')
    for i, (period, value) in enumerate(points):
        if value is not None:
            parts.append(f'<circle cx="{left + i * step:.1f}" cy="{y(float(value)):.1f}" r="4" fill="{RAG_COLOURS[indicator.rag(value)]}">'
                         f"<title>{period}: {value:f}</title></circle>")
    parts.append(f'<text x="{left}" y="{height - 3}" font-size="10">{points[0][0]}</text>'
                 f'<text x="{width - left}" y="{height - 3}" font-size="10" text-anchor="end">{points[-1][0]}</text></svg>')
    return Markup("".join(parts))
