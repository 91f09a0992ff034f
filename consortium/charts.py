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


def chart(title: str, points: Sequence[Point], kind: str = "bar", lines: Sequence[tuple[float, str]] = (),
          width: int = 720, height: int = 200, low: float | None = None, high: float | None = None,
          y_labels: dict[float, str] | None = None, every: int = 1) -> Markup:
    """An SVG chart. `lines`: (value, colour) reference lines; `y_labels`: value -> label on the left."""
    known = [p.value for p in points if p.value is not None]
    if not known:
        return Markup("")
    left, right, top, bottom = (150 if y_labels else 40), 10, 12, 28
    marks = known + [value for value, _ in lines] + list(y_labels or {})
    low = min(marks + [0]) if low is None else low
    high = max(marks) if high is None else high
    high = high if high > low else low + 1

    def y(value: float) -> float:
        return top + (height - top - bottom) * (1 - (value - low) / (high - low))

    step = (width - left - right) / max(len(points), 1)
    parts = [f'<svg class="app-chart" viewBox="0 0 {width} {height}" width="100%" role="img"><title>{escape(title)}</title>']
    for value, label in (y_labels or {low: f"{low:g}", high: f"{high:g}"}).items():
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="{GREY}"/>'
                     f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="12">{escape(label)}</text>')
    for value, colour in lines:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="{colour}" stroke-dasharray="4 3"/>')
    centres = [left + step * (i + 0.5) for i in range(len(points))]
    if kind == "line":
        path = " ".join(f"{x:.1f},{y(p.value):.1f}" for x, p in zip(centres, points) if p.value is not None)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#505a5f" stroke-width="2"/>')
    for index, (x, point) in enumerate(zip(centres, points)):
        if point.value is not None:
            tip = f"<title>{escape(point.label)}: {escape(point.note or f'{point.value:g}')}</title>"
            if kind == "bar":
                parts.append(f'<rect x="{x - step * 0.35:.1f}" y="{y(point.value):.1f}" width="{step * 0.7:.1f}" '
                             f'height="{max(y(low) - y(point.value), 0):.1f}" fill="{point.colour}">{tip}</rect>')
            else:
                parts.append(f'<circle cx="{x:.1f}" cy="{y(point.value):.1f}" r="5" fill="{point.colour}">{tip}</circle>')
        if index % every == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 8}" font-size="11" text-anchor="middle">{escape(point.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
