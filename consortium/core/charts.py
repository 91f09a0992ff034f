"""The one charting helper: small SVG charts drawn on the server, readable without script.

Each chart has a title (read out by screen readers); pages show the same figures in a table
beside it. Bars, or a line of points, each optionally coloured; optional reference lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BLUE, RED, ORANGE, GREEN, GREY = "#1d70b8", "#d4351c", "#f47738", "#00703c", "#b1b4b6"


@dataclass
class Point:
    label: str  # along the bottom
    value: float | None
    colour: str = BLUE
    note: str = ""  # a tooltip


@dataclass
class Key:
    """One entry of a chart's legend: a swatch (a block of colour, or a dashed line) and what it means."""

    colour: str
    text: str
    line: bool = False


def chart(
    title: str,
    points: Sequence[Point],
    kind: str = "bar",
    lines: Sequence[tuple[float, str]] = (),
    width: int = 720,
    height: int = 200,
    low: float | None = None,
    high: float | None = None,
    y_labels: dict[float, str] | None = None,
    x_label: str = "",
    y_label: str = "",
    legend: Sequence[Key] = (),
    steps: Sequence[float] = (),
    steps_colour: str = ORANGE,
) -> Markup:
    """A chart with its title shown above it, its axes named and a legend below it.

    `lines`: (value, colour) reference lines, drawn dashed; `y_labels`: value -> label on the left;
    `steps`: a second series, one value a point, drawn as a stepped line (a level that holds until
    it changes, such as beds contracted). Labels along the bottom are thinned so that they never
    run into each other."""
    known = [p.value for p in points if p.value is not None] + list(steps)
    if not known:
        return Markup("")
    left = (150 if y_labels else 40) + (20 if y_label else 0)
    right, top, bottom = 10, 12, 28 + (18 if x_label else 0)
    marks = known + [value for value, _ in lines] + list(y_labels or {})
    low = min(marks + [0]) if low is None else low
    high = max(marks) if high is None else high
    high = high if high > low else low + 1

    def y(value: float) -> float:
        return top + (height - top - bottom) * (1 - (value - low) / (high - low))

    step = (width - left - right) / max(len(points), 1)
    # About 7.5 units a character at 13 units high, and a gap between labels.
    widest = max(len(p.label) for p in points) * 7.5 + 10
    every = max(1, -(-int(widest) // max(int(step), 1)))
    parts = [
        f'<svg class="app-chart__svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}">'
    ]
    scale = "{:,.0f}" if abs(high) >= 100 else "{:g}"
    for value, label in (y_labels or {low: scale.format(low), high: scale.format(high)}).items():
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="{GREY}"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="13">{escape(label)}</text>'
        )
    for value, colour in lines:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="{colour}" '
            f'stroke-width="2" stroke-dasharray="6 4"/>'
        )
    if y_label:
        middle = (top + height - bottom) / 2
        parts.append(
            f'<text x="12" y="{middle:.1f}" transform="rotate(-90 12 {middle:.1f})" text-anchor="middle" '
            f'font-size="14">{escape(y_label)}</text>'
        )
    if x_label:
        parts.append(
            f'<text x="{(left + width - right) / 2:.1f}" y="{height - 4}" text-anchor="middle" font-size="14">'
            f"{escape(x_label)}</text>"
        )
    centres = [left + step * (i + 0.5) for i in range(len(points))]
    if kind == "line":
        path = " ".join(f"{x:.1f},{y(p.value):.1f}" for x, p in zip(centres, points) if p.value is not None)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#505a5f" stroke-width="2"/>')
    if steps:
        half = step / 2
        corners = []
        for x, value in zip(centres, steps):
            corners += [f"{x - half:.1f},{y(value):.1f}", f"{x + half:.1f},{y(value):.1f}"]
        parts.append(f'<polyline points="{" ".join(corners)}" fill="none" stroke="{steps_colour}" stroke-width="3"/>')
    for index, (x, point) in enumerate(zip(centres, points)):
        if point.value is not None:
            tip = f"<title>{escape(point.label)}: {escape(point.note or f'{point.value:g}')}</title>"
            if kind == "bar":
                parts.append(
                    f'<rect x="{x - step * 0.35:.1f}" y="{y(point.value):.1f}" width="{step * 0.7:.1f}" '
                    f'height="{max(y(low) - y(point.value), 0):.1f}" fill="{point.colour}">{tip}</rect>'
                )
            else:
                parts.append(
                    f'<circle cx="{x:.1f}" cy="{y(point.value):.1f}" r="5" fill="{point.colour}">{tip}</circle>'
                )
        if index % every == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{height - bottom + 18}" font-size="13" text-anchor="middle">'
                f"{escape(point.label)}</text>"
            )
    parts.append("</svg>")
    # Swatches are drawn in SVG: the Content-Security-Policy allows no inline styles.
    keys = "".join(
        '<li class="app-chart__key"><svg class="app-chart__swatch" width="22" height="14" aria-hidden="true">'
        + (
            f'<line x1="0" x2="22" y1="7" y2="7" stroke="{key.colour}" stroke-width="2" stroke-dasharray="6 4"/>'
            if key.line
            else f'<rect x="4" y="0" width="14" height="14" fill="{key.colour}"/>'
        )
        + f"</svg>{escape(key.text)}</li>"
        for key in legend
    )
    size = " app-chart--small" if width <= 300 else ""
    return Markup(
        f'<figure class="app-chart{size}"><figcaption class="app-chart__title">{escape(title)}</figcaption>'
        + "".join(parts)
        + (f'<ul class="app-chart__legend">{keys}</ul>' if keys else "")
        + "</figure>"
    )
