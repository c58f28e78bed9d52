"""Fitting the risk model. Pure: arrays in, an estimator out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class TrainingSet:
    """Labelled orders with their point-in-time features, oldest first by id."""

    order_ids: np.ndarray
    created_ts: np.ndarray  # epoch milliseconds of each order
    features: pd.DataFrame
    target: np.ndarray  # 1 fraud, 0 legitimate
    label_counts: dict[str, int]

    def between(self, start_ms: int, end_ms: int) -> TrainingSet:
        """The orders created in [start_ms, end_ms)."""
        inside = (self.created_ts >= start_ms) & (self.created_ts < end_ms)
        target = self.target[inside]
        return TrainingSet(
            order_ids=self.order_ids[inside],
            created_ts=self.created_ts[inside],
            features=self.features[inside].reset_index(drop=True),
            target=target,
            label_counts=label_counts(target),
        )


def label_counts(target: np.ndarray) -> dict[str, int]:
    return {"fraud": int(target.sum()), "legitimate": int((1 - target).sum())}


DEFAULT_PARAMS: dict[str, Any] = {
    "max_iter": 200,
    "learning_rate": 0.08,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}


def model_fit(
    features: pd.DataFrame,
    target: np.ndarray,
    params: dict[str, Any] | None = None,
    threads: int = 1,
) -> Any:
    """Fit a HistGradientBoostingClassifier on numeric features (NaN allowed).

    No native categorical splits: shap's TreeExplainer values for those do not
    add up to the model output, and every explanation here must.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    model = HistGradientBoostingClassifier(**{**DEFAULT_PARAMS, **(params or {})})
    rows = features.to_numpy(dtype=float, copy=True)
    # A column that is missing everywhere (a field the shop never sends) makes
    # the binning fail; as a constant it simply never splits, so the model
    # ignores it at prediction time too.
    rows[:, np.isnan(rows).all(axis=0)] = 0.0
    with threadpool_limits(limits=threads):
        model.fit(rows, np.asarray(target, dtype=int))
    return model


def time_split(created_ts: np.ndarray, holdout_share: float) -> np.ndarray:
    """Boolean mask of the most recent `holdout_share` of rows (by time)."""
    if len(created_ts) == 0 or holdout_share <= 0:
        return np.zeros(len(created_ts), dtype=bool)
    cutoff = np.quantile(created_ts, 1.0 - holdout_share)
    return created_ts >= cutoff
