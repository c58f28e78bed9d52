"""Feature names in a reviewer's words."""

from __future__ import annotations

import math
from collections.abc import Callable

from models_ml.feature_spec import BY_NAME, LAGGED_MEAN_WINDOWS, MEAN_WINDOWS, WINDOWS
from models_ml.features import (
    AMOUNT_STEPS_PER_DOUBLING,
    ENTITY_WORDS,
    RATIO_ENTITIES,
)


def _plural(n: float, word: str) -> str:
    return f"{n:.0f} {word}" + ("" if round(n) == 1 else "s")


def _age(days: float) -> str:
    if days < 1 / 24:
        return _plural(max(days * 24 * 60, 0), "minute")
    if days < 2:
        return _plural(days * 24, "hour")
    return _plural(days, "day")


def _missing(feature: str) -> str:
    """Sentences for features without a value (NaN)."""
    if feature in BY_NAME:
        return BY_NAME[feature].missing_sentence()
    for name, window in WINDOWS.items():
        for entity in RATIO_ENTITIES:
            if feature == f"amount_vs_{entity}_mean_{name}":
                noun = ENTITY_WORDS[entity]
                return f"No earlier orders from this {noun} {window.during}"
    if feature == "account_age_days":
        return "Account creation time not given"
    if feature == "amount_log_step":
        return "Order amount not given"
    if feature.endswith("_mismatch"):
        return "A country needed for this comparison was not given"
    return f"Not available: {feature.replace('_', ' ')}"


# Each sentence takes the feature value; `...` because the lambdas bind their
# words as default arguments.
def _sentences() -> dict[str, Callable[..., str]]:
    spec: dict[str, Callable[..., str]] = {
        "amount": lambda v: f"Order amount {v:,.2f}",
        "hour": lambda v: f"Placed at {v:02.0f}:00 UTC",
        "is_weekend": lambda v: "Placed at the weekend" if v else "Placed on a weekday",
        "is_night": lambda v: (
            "Placed at night (00-06 UTC)" if v else "Placed in daytime"
        ),
        "account_age_days": lambda v: f"Account is {_age(v)} old",
        "billing_shipping_mismatch": lambda v: (
            "Shipping country differs from billing country"
            if v
            else "Ships to the billing country"
        ),
        "card_billing_mismatch": lambda v: (
            "Card issued in another country than billing"
            if v
            else "Card country matches billing"
        ),
        "channel_code": lambda v: "Sales channel",
        "item_count": lambda v: _plural(v, "item"),
        "amount_log_step": lambda v: (
            f"Order amount about {2 ** (v / AMOUNT_STEPS_PER_DOUBLING):,.0f}"
        ),
    }
    for name, feature in BY_NAME.items():
        spec[name] = feature.sentence
    for entity in RATIO_ENTITIES:
        for window in (*MEAN_WINDOWS, *LAGGED_MEAN_WINDOWS):
            spec[f"amount_vs_{entity}_mean_{window}"] = (
                lambda v, noun=ENTITY_WORDS[entity], w=WINDOWS[window].over: (
                    f"Amount is {v:,.1f}× this {noun}'s average {w}"
                )
            )
    return spec


_SENTENCES = _sentences()


def reason_sentence(feature: str, value: float | None) -> str:
    """'4 earlier orders from this device in the last hour', etc."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _missing(feature)
    render = _SENTENCES.get(feature)
    if render is None:
        return f"{feature.replace('_', ' ')} = {value:g}"
    return render(value)
