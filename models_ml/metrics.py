"""Ranking and calibration metrics for risk scores. Pure functions."""

from __future__ import annotations

import numpy as np


def precision_at_k(y_true: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Share of frauds among the k highest scores (k capped at the row count)."""
    if len(scores) == 0:
        return float("nan")
    top = np.argsort(-scores, kind="stable")[: min(k, len(scores))]
    return float(np.mean(np.asarray(y_true)[top]))


def model_metrics(y_true: np.ndarray, scores: np.ndarray, k: int) -> dict[str, float]:
    """AP, ROC AUC, precision@k and Brier score; NaN where undefined."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    y = np.asarray(y_true, dtype=int)
    both_classes = 0 < y.sum() < len(y)
    return {
        "ap": float(average_precision_score(y, scores))
        if both_classes
        else float("nan"),
        "auc": float(roc_auc_score(y, scores)) if both_classes else float("nan"),
        "p_at_k": precision_at_k(y, scores, k),
        "brier": float(brier_score_loss(y, scores)) if len(y) else float("nan"),
        "rows": float(len(y)),
        "frauds": float(y.sum()),
    }
