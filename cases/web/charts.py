"""Server-rendered SVG charts: the SHAP waterfall of one order."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

ROW = 26
LABEL_WIDTH = 300
PLOT_WIDTH = 300
WIDTH = LABEL_WIDTH + PLOT_WIDTH + 70


@dataclass(frozen=True)
class WaterfallBar:
    text: str
    contribution: float
    x: float
    width: float
    y: int
    toward_fraud: bool


@dataclass(frozen=True)
class Waterfall:
    bars: list[WaterfallBar]
    base: float
    output: float
    probability: float
    height: int
    width: int
    label_width: int
    base_x: float
    output_x: float


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def waterfall(
    base: float, reasons: list[dict[str, Any]], probability: float
) -> Waterfall:
    """Bars from the base value to the model output, in log-odds.

    The stored top reasons rarely add up to the whole output, so the rest of
    the features get one bar of their own: the chart always ends at the score.
    """
    output = _logit(probability)
    steps = [(r["text"], float(r["contribution"])) for r in reasons]
    rest = output - base - sum(c for _, c in steps)
    if abs(rest) > 1e-6:
        steps.append(("All other features", rest))
    points = [base]
    for _, c in steps:
        points.append(points[-1] + c)
    low, high = min(points), max(points)
    span = (high - low) or 1.0

    def x(value: float) -> float:
        return round(LABEL_WIDTH + (value - low) / span * PLOT_WIDTH, 2)

    bars = []
    for i, (text, contribution) in enumerate(steps):
        start, end = points[i], points[i + 1]
        bars.append(
            WaterfallBar(
                text=text,
                contribution=contribution,
                x=x(min(start, end)),
                width=max(round(abs(x(end) - x(start)), 2), 1.0),
                y=ROW * (i + 1),
                toward_fraud=contribution > 0,
            )
        )
    return Waterfall(
        bars=bars,
        base=base,
        output=output,
        probability=probability,
        height=ROW * (len(bars) + 2),
        width=WIDTH,
        label_width=LABEL_WIDTH,
        base_x=x(base),
        output_x=x(output),
    )
