"""The explanation of one score, in the words and units a reviewer reads.

SHAP contributions are log-odds, which no reviewer reads in five seconds. Each
stored reason is turned into *probability points*: how much lower (or higher)
the score would be without that reason, all else as it is,
`p − σ(logit(p) − contribution)`. That is order-free (unlike a waterfall's
steps) and says what a reason is worth on the scale the score is shown on.
The exact log-odds stay on the Score for leads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# |points| from which a reason reads as strong, clear, slight.
STRENGTHS = ((15.0, "strongly"), (5.0, "clearly"), (1.0, "slightly"))
REST_TEXT = "Everything else the model looked at"


@dataclass(frozen=True)
class ReadableReason:
    text: str
    points: float  # probability points, signed: + towards fraud
    strength: str
    bar: float  # 0–100: |points| against the largest shown

    @property
    def raises(self) -> bool:
        return self.points > 0


@dataclass(frozen=True)
class Explanation:
    probability: float
    base_probability: float
    evidence: list[ReadableReason]  # strongest first
    missing: list[ReadableReason]  # reasons that are an absence of data
    rest: ReadableReason | None  # the features outside the stored top reasons

    @property
    def percent(self) -> str:
        return percent_text(self.probability)

    @property
    def base_percent(self) -> str:
        return percent_text(self.base_probability)


def percent_text(p: float) -> str:
    """90 %, 3.2 %, 0.04 %: two significant digits below 10 %."""
    value = 100.0 * p
    if value >= 10 or value == 0:
        return f"{value:.0f} %"
    return f"{value:.2g} %"


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def _strength(points: float) -> str:
    for threshold, word in STRENGTHS:
        if abs(points) >= threshold:
            return word
    return "barely"


def explanation_build(
    base: float, reasons: list[dict[str, Any]], probability: float
) -> Explanation:
    """Readable reasons from a Score's base value, top reasons and probability."""
    output = _logit(probability)

    def points(contribution: float) -> float:
        return 100.0 * (probability - _sigmoid(output - contribution))

    rest_contribution = output - base - sum(float(r["contribution"]) for r in reasons)
    scored = [(r["text"], points(float(r["contribution"])), r) for r in reasons]
    rest_points = points(rest_contribution) if abs(rest_contribution) > 1e-6 else 0.0
    largest = max([abs(p) for _, p, _ in scored] + [abs(rest_points), 1e-9])

    def readable(text: str, value: float) -> ReadableReason:
        return ReadableReason(
            text=text,
            points=round(value, 1),
            strength=_strength(value),
            bar=round(100.0 * abs(value) / largest, 1),
        )

    ranked = sorted(scored, key=lambda item: -abs(item[1]))
    return Explanation(
        probability=probability,
        base_probability=_sigmoid(base),
        evidence=[readable(t, p) for t, p, r in ranked if r.get("value") is not None],
        missing=[readable(t, p) for t, p, r in ranked if r.get("value") is None],
        rest=readable(REST_TEXT, rest_points) if abs(rest_points) >= 0.05 else None,
    )
