"""The SVG chart geometry."""

import pytest

from dashboard.charts import PALETTE, RIGHT, WIDE, WIDTH, chart, nice_ticks

pytestmark = pytest.mark.django_db


def test_nice_ticks_cover_the_range_in_round_steps():
    assert nice_ticks(0, 0.83) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(0, 1234) == [0, 250, 500, 750, 1000, 1250]


def test_nice_ticks_widen_an_empty_range():
    assert nice_ticks(0, 0) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])


def test_chart_of_zeros_draws_on_the_zero_line():
    result = chart("c", "C", ["a", "b"], lines={"x": [0, 0]})

    assert {dot.y for dot in result.lines[0].dots} == {result.bottom}


def test_chart_breaks_a_line_where_a_value_is_missing():
    result = chart("c", "C", list("abcde"), lines={"x": [1, 2, None, 3, 4]})

    (line,) = result.lines
    assert len(line.segments) == 2
    assert len(line.dots) == 4


def test_chart_without_values_is_empty():
    assert chart("c", "C", ["a"], lines={"x": [float("nan")]}).empty


def test_chart_of_one_point_draws_it():
    """One value (one decided case in the range) once crashed every dashboard page."""
    result = chart("c", "C", ["a"], lines={"x": [0.5]})

    assert not result.empty
    (line,) = result.lines
    assert len(line.dots) == 1


def test_chart_of_one_point_with_a_rule_covers_both():
    result = chart("c", "C", ["a"], lines={"x": [0.05]}, rules={"limit": 0.25})

    assert float(result.y_ticks[-1].text) >= 0.25


def test_chart_bars_grow_from_zero_to_their_value():
    result = chart("c", "C", ["a", "b"], bars={"n": [2, 4]})

    small, large = result.bars
    assert small.y + small.height == large.y + large.height == result.bottom
    assert large.height == pytest.approx(2 * small.height)


def test_chart_notes_give_the_sample_behind_each_point():
    result = chart(
        "c", "C", ["a", "b"], lines={"P@k": [0.0, 1.0]}, notes={"P@k": ["1", "2"]}
    )

    assert [dot.tip for dot in result.lines[0].dots] == [
        "a · P@k: 0 (1)",
        "b · P@k: 1 (2)",
    ]


def test_a_wide_chart_spans_its_width():
    result = chart("c", "C", ["a", "b"], bars={"n": [1, 2]}, width=WIDE)

    assert (result.width, result.right) == (WIDE, WIDE - RIGHT)
    assert max(bar.x + bar.width for bar in result.bars) > WIDTH


def test_a_series_can_be_given_its_own_colour():
    result = chart("c", "C", ["a"], bars={"n": [1], "m": [2]}, colors={"m": "#000"})

    assert [bar.color for bar in result.bars] == [PALETTE[0], "#000"]
