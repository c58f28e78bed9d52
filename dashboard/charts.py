"""Server-rendered SVG charts for the leads' dashboard.

`chart()` turns series over categories (days, model versions) into geometry:
bars, polylines, ticks and a legend, all in SVG user units. The template
`dashboard/_chart.html` only draws what it is given, with Django's escaping,
so there is no JavaScript and no charting library to ship. `dashboard.pages`
composes each page's charts from its tables.

A chart is drawn at its own width (WIDTH, or WIDE for a chart alone on its
row) and scaled by CSS to the width of its box, so user units are close to
pixels on a desktop screen.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PALETTE = ("#2f5bd3", "#c8322f", "#1f7a4d", "#b7791f", "#6b46c1", "#0e7490", "#667085")
GREY = PALETTE[-1]
WIDTH, WIDE, HEIGHT = 700, 1400, 270
LEFT, RIGHT, TOP, BOTTOM = 58, 14, 56, 30
MAX_X_LABELS = 8
CHAR_WIDTH = 6.6  # of 11px DejaVu Sans, to lay out the legend

Value = float | None
Scale = Callable[[float], float]
Position = Callable[[int], float]
Tip = Callable[[str, str, float], str]
Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    tip: str


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    tip: str


@dataclass(frozen=True)
class Line:
    name: str
    color: str
    segments: list[str]
    dots: list[Dot]


@dataclass(frozen=True)
class Rule:
    y: float
    text: str


@dataclass(frozen=True)
class Key:
    name: str
    color: str
    x: float
    kind: str  # "bar" or "line"


@dataclass(frozen=True)
class Chart:
    slug: str
    title: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    keys: list[Key] = field(default_factory=list)
    empty: bool = False

    @property
    def description(self) -> str:
        names = [k.name for k in self.keys]
        return f"{self.title}: {', '.join(names)}." if names else self.title


def _clean(value: Value) -> Value:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def format_value(value: float, *, percent: bool = False, tick: bool = False) -> str:
    """Short numbers for axes and tooltips: 12%, 1.2k, 3.4M, 0.25."""
    if percent:
        return f"{value * 100:.0f}%" if tick else f"{value * 100:.1f}%"
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:.1f}M"
    if size >= 1e4 or (tick and size >= 1e3):
        return f"{value / 1e3:.1f}k".replace(".0k", "k")
    if size >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.3g}"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 × 10ⁿ) covering [low, high];
    an empty range (all values 0, say) becomes [low, low + 1]."""
    if high - low < 1e-6:
        high = low + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step + 1e-9) * step
    ticks = [start]
    while ticks[-1] < high - 1e-9:
        ticks.append(round(start + len(ticks) * step, 10))
    return ticks


def chart(
    slug: str,
    title: str,
    labels: Sequence[str],
    *,
    lines: Mapping[str, Sequence[Value]] | None = None,
    bars: Mapping[str, Sequence[Value]] | None = None,
    rules: Mapping[str, float] | None = None,
    notes: Mapping[str, Sequence[str]] | None = None,
    colors: Mapping[str, str] | None = None,
    percent: bool = False,
    width: int = WIDTH,
) -> Chart:
    """Bars (grouped per category) and lines over the same categories.

    Missing values (None, NaN, ±inf) leave a gap in a line and no bar.
    `rules` are labelled horizontal reference lines, such as PSI thresholds.
    `notes` add a text per point of a series to its tooltip, such as the
    sample size behind a share; `colors` override the palette per series.
    """
    lines = {
        name: [_clean(v) for v in values] for name, values in (lines or {}).items()
    }
    bars = {name: [_clean(v) for v in values] for name, values in (bars or {}).items()}
    rules = dict(rules or {})
    values = [v for s in (*lines.values(), *bars.values()) for v in s if v is not None]
    if not labels or not values:
        return Chart(slug=slug, title=title, width=width, empty=True)
    ticks = nice_ticks(min([0.0, *values]), max([*values, *rules.values()]))
    base = Chart(slug=slug, title=title, width=width, right=width - RIGHT)
    low, high = ticks[0], ticks[-1]

    def y(value: float) -> float:
        share = (value - low) / (high - low)
        return round(base.bottom - share * (base.bottom - base.top), 2)

    band = (base.right - base.left) / len(labels)

    def x(index: int) -> float:
        return round(base.left + band * (index + 0.5), 2)

    index = {label: i for i, label in enumerate(labels)}

    def tip(label: str, name: str, value: float) -> str:
        note = (notes or {}).get(name)
        text = f"{label} · {name}: {format_value(value, percent=percent)}"
        return f"{text} ({note[index[label]]})" if note else text

    step = math.ceil(len(labels) / max(MAX_X_LABELS * width // WIDTH, 1))
    names = [*bars, *lines]
    palette = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    colors = palette | dict(colors or {})
    return Chart(
        slug=slug,
        title=title,
        width=width,
        right=base.right,
        x_ticks=[
            Tick(x(i), base.bottom + 16, text)
            for i, text in enumerate(labels)
            if i % step == 0
        ],
        y_ticks=[
            Tick(base.left - 6, y(t), format_value(t, percent=percent, tick=True))
            for t in ticks
        ],
        bars=_bars(bars, labels, colors, band, x, y(max(low, 0.0)), y, tip),
        lines=[
            _line(name, colors[name], series, labels, x, y, tip)
            for name, series in lines.items()
        ],
        rules=[Rule(y(v), f"{name} {format_value(v)}") for name, v in rules.items()],
        keys=_keys(names, colors, bars),
    )


def _bars(
    bars: dict[str, Sequence[Value]],
    labels: Sequence[str],
    colors: dict[str, str],
    band: float,
    x: Position,
    zero: float,
    y: Scale,
    tip: Tip,
) -> list[Bar]:
    if not bars:
        return []
    width = band * 0.8 / len(bars)
    result = []
    for j, (name, series) in enumerate(bars.items()):
        for i, value in enumerate(series):
            if value is None:
                continue
            top = y(value)
            result.append(
                Bar(
                    x=round(x(i) - band * 0.4 + j * width, 2),
                    y=min(top, zero),
                    width=round(max(width - 1, 1), 2),
                    height=round(max(abs(zero - top), 0.5), 2),
                    color=colors[name],
                    tip=tip(labels[i], name, value),
                )
            )
    return result


def _line(
    name: str,
    color: str,
    series: Sequence[Value],
    labels: Sequence[str],
    x: Position,
    y: Scale,
    tip: Tip,
) -> Line:
    """A polyline per run of values, broken where a value is missing."""
    segments: list[list[str]] = [[]]
    dots = []
    for i, value in enumerate(series):
        if value is None:
            segments.append([])
            continue
        segments[-1].append(f"{x(i)},{y(value)}")
        dots.append(Dot(x(i), y(value), tip(labels[i], name, value)))
    return Line(
        name=name,
        color=color,
        segments=[" ".join(points) for points in segments if len(points) > 1],
        dots=dots,
    )


def _keys(names: list[str], colors: dict[str, str], bars: dict) -> list[Key]:
    """Legend entries in one row above the plot."""
    keys, position = [], float(LEFT)
    for name in names:
        keys.append(
            Key(name, colors[name], position, "bar" if name in bars else "line")
        )
        position += 26 + len(name) * CHAR_WIDTH
    return keys
