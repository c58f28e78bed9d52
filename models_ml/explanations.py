"""SHAP explanations: the top contributions of one order, as plain dicts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from models_ml.reasons import reason_sentence


def explainer_build(model: Any) -> Any:
    import shap

    return shap.TreeExplainer(model)


def explanations_compute(
    explainer: Any, rows: np.ndarray, feature_names: list[str], top: int
) -> tuple[float, list[list[dict[str, Any]]]]:
    """Base value (log-odds) and, per row, the `top` largest contributions.

    Contributions are in log-odds; with the base value they add up to the
    model's raw output for that row.
    """
    values = np.asarray(explainer.shap_values(rows), dtype=float)
    base = float(np.ravel(explainer.expected_value)[0])
    result = []
    for row, contribution in zip(rows, values, strict=True):
        ranked = np.argsort(-np.abs(contribution), kind="stable")[:top]
        result.append(
            [_reason(feature_names[i], row[i], contribution[i]) for i in ranked]
        )
    return base, result


def _reason(feature: str, value: float, contribution: float) -> dict[str, Any]:
    clean = None if math.isnan(value) else float(value)
    return {
        "feature": feature,
        "value": clean,
        "contribution": round(float(contribution), 6),
        "text": reason_sentence(feature, clean),
    }
