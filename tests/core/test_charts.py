"""Charts read by themselves: a visible title, named axes, a legend, and labels that do not collide."""

import re
from datetime import date

from consortium.core.charts import RED, Key, Point, chart
from contracts.charts import occupancy_svg
from contracts.usage import Occupancy


def _labels(svg: str) -> list[str]:
    return re.findall(r'<text x="[\d.]+" y="[\d.]+" font-size="13" text-anchor="middle">([^<]*)</text>', svg)


def test_a_chart_shows_its_title_axes_and_legend():
    svg = str(
        chart(
            "Placements open now by type",
            [Point("Residential", 4), Point("Foster", 2)],
            x_label="Placement type",
            y_label="Placements",
            legend=[Key(RED, "Below the threshold")],
        )
    )
    assert '<figcaption class="app-chart__title">Placements open now by type</figcaption>' in svg
    assert ">Placement type</text>" in svg and 'transform="rotate(-90' in svg and ">Placements</text>" in svg
    assert 'class="app-chart__legend"' in svg and "Below the threshold</li>" in svg


def test_month_labels_are_thinned_so_that_they_never_touch():
    # 36 bars across 670 units: 18.6 apart; a label of 8 characters takes about 70, so every 4th (74 apart).
    points = [Point(f"Month {n:02d}", n) for n in range(36)]
    labels = _labels(str(chart("Three years", points)))
    assert labels[:3] == ["Month 00", "Month 04", "Month 08"] and len(labels) == 9
    assert len(_labels(str(chart("Four months", points[:4])))) == 4


def test_the_occupancy_chart_draws_the_threshold_as_a_line_with_its_key():
    months = [Occupancy(date(2024, m, 1), date(2024, m, 28), 28, 280, 28 * beds, 0) for m, beds in ((4, 9), (5, 6))]
    svg = str(occupancy_svg(months, 10, 80))
    assert 'stroke-dasharray="6 4"' in svg and "Underuse threshold: 80% of 10 beds (8)" in svg
    assert (
        f'fill="{RED}"' in svg
        and "Below 80% of beds" in svg
        and ">Month</text>" in svg
        and ">Beds occupied</text>" in svg
    )


def test_the_threshold_line_of_a_small_block_is_shown_exactly():
    months = [Occupancy(date(2024, 4, 1), date(2024, 4, 28), 28, 56, 28, 0)]
    assert "Underuse threshold: 80% of 2 beds (1.6)" in str(occupancy_svg(months, 2, 80))


def test_a_second_series_is_drawn_as_steps_that_hold_each_level_across_its_point():
    drawn = chart("Beds", [Point("A", 1), Point("B", 2)], kind="line", steps=[4, 0], width=100, height=100, low=0)
    # 50 units between the axis (x = 40) and the right margin, 25 a point: 4 from 40 to 65, then 0 from 65 to 90.
    stepped = re.search(r'<polyline points="([^"]+)" fill="none" stroke="#f47738"', drawn).group(1).split()
    assert [float(corner.split(",")[0]) for corner in stepped] == [40.0, 65.0, 65.0, 90.0]
    assert stepped[0].split(",")[1] != stepped[2].split(",")[1]  # down a level at the second point
