"""Risk metrics, defined once: pure functions on arrays and counts (no Django).

The leads' dashboard (`dashboard/selectors/`), the model registry's holdout
metrics (`model_metrics`, stored on each ModelVersion at training) and the
replay's handbook evaluation all call these functions, so a number with the
same name means the same thing on every page and in every report.

Conventions: `y_true` holds 1 for fraud and 0 otherwise; scores are fraud
probabilities in [0, 1]. A metric its input leaves undefined (no rows, a single
class, a zero denominator) is NaN rather than an error: the dashboard shows a
gap.

**Precision@k and card precision@k divide by k**, as the Fraud Detection
Handbook does (Le Borgne et al., chapter 3: `precision_top_k_day`,
`card_precision_top_k_day`): CP@k of one day is the number of compromised
cards found among the k cards with the highest risk, divided by k, and over a
period it is the mean of the daily values. k is a review capacity: the number
of alerts a team can check per day. When a day has fewer than k cards the
unused capacity finds no fraud, so the day scores less, and a day with one
card cannot score 100 % at k = 10; dividing by the number of cards instead
(an earlier dashboard definition) made thin days look as good as full ones and
disagreed with the replay.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = [
    "PSI_FLOOR",
    "IpwEstimate",
    "average_precision",
    "backlog",
    "bin_counts",
    "binned_quantile",
    "brier_score",
    "card_precision_at_k",
    "cohen_kappa",
    "decision_rates",
    "fraud_outcomes",
    "ipw_precision_recall",
    "model_metrics",
    "pair_table",
    "precision_at_k",
    "psi",
    "psi_by_feature",
    "quantile_edges",
    "ratio",
    "recall_at_k",
    "roc_auc",
    "top_k_cards",
]

NAN = float("nan")
# Bin shares below this are raised to it, so an empty bin gives a large but
# finite PSI term instead of infinity.
PSI_FLOOR = 1e-4


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator; NaN when the denominator is 0."""
    return float(numerator) / float(denominator) if denominator else NAN


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores; ties keep input order."""
    return np.argsort(-scores, kind="stable")[: min(k, len(scores))]


def precision_at_k(y_true: ArrayLike, scores: ArrayLike, k: int) -> float:
    """Frauds among the k highest scores, divided by k (see the module's
    docstring); NaN without rows. Ties keep input order."""
    y = np.asarray(y_true, dtype=int)
    s = np.asarray(scores, dtype=float)
    if k < 1:
        raise ValueError("k must be at least 1")
    if len(s) == 0:
        return NAN
    return float(y[_top(s, k)].sum() / k)


def recall_at_k(
    y_true: ArrayLike, scores: ArrayLike, k: int, positives: int | None = None
) -> float:
    """Share of all frauds found among the k highest scores.

    `positives` is the number of frauds in the whole population when the
    arrays hold only its top rows (the dashboard fetches just the top k per
    day); by default it is counted from `y_true`.
    """
    y = np.asarray(y_true, dtype=int)
    s = np.asarray(scores, dtype=float)
    total = int(y.sum()) if positives is None else positives
    if total == 0:
        return NAN
    return float(y[_top(s, k)].sum() / total)


def top_k_cards(
    cards: ArrayLike, y_true: ArrayLike, scores: ArrayLike, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The k cards with the highest risk, riskiest first, and whether each is
    compromised.

    A card's risk is the highest score among its rows and it is compromised if
    any of its rows is fraud. Ties are broken by card id, so the result does
    not depend on the order of the rows.
    """
    keys = np.asarray(cards, dtype=object)
    y = np.asarray(y_true, dtype=int)
    s = np.asarray(scores, dtype=float)
    if len(keys) == 0:
        return keys, y
    unique, inverse = np.unique(keys, return_inverse=True)
    card_score = np.full(len(unique), -np.inf)
    np.maximum.at(card_score, inverse, s)
    card_fraud = np.zeros(len(unique), dtype=int)
    np.maximum.at(card_fraud, inverse, y)
    ranked = np.lexsort((np.arange(len(unique)), -card_score))[:k]
    return unique[ranked], card_fraud[ranked]


def card_precision_at_k(
    cards: ArrayLike, y_true: ArrayLike, scores: ArrayLike, k: int
) -> float:
    """CP@k: compromised cards among the k cards with the highest risk
    (`top_k_cards`), divided by k; NaN without rows.

    A card with several risky orders takes one slot of the review capacity,
    not several.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    if len(np.asarray(cards, dtype=object)) == 0:
        return NAN
    _, fraud = top_k_cards(cards, y_true, scores, k)
    return float(fraud.sum() / k)


def _curve(y_true: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative true and false positives at each distinct score, highest
    first (tied scores form one threshold)."""
    y = np.asarray(y_true, dtype=int)
    s = np.asarray(scores, dtype=float)
    order = np.argsort(-s, kind="stable")
    y, s = y[order], s[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(y)[last_of_tie]
    fps = last_of_tie + 1 - tps
    return tps, fps


def _both_classes(y_true: ArrayLike) -> bool:
    y = np.asarray(y_true, dtype=int)
    return 0 < int(y.sum()) < len(y)


def average_precision(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Average precision: Σ (recall_n − recall_{n−1}) · precision_n over the
    distinct score thresholds, highest first (scikit-learn's definition,
    without importing it in the web process)."""
    if not _both_classes(y_true):
        return NAN
    tps, fps = _curve(y_true, scores)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_auc(y_true: ArrayLike, scores: ArrayLike) -> float:
    """ROC AUC: the chance a random fraud outscores a random legitimate order,
    ties counting half (trapezoids under the ROC curve)."""
    if not _both_classes(y_true):
        return NAN
    tps, fps = _curve(y_true, scores)
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def brier_score(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Mean squared difference between score and truth; NaN without rows."""
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(scores, dtype=float)
    return float(np.mean((s - y) ** 2)) if len(y) else NAN


def model_metrics(y_true: ArrayLike, scores: ArrayLike, k: int) -> dict[str, float]:
    """A model's holdout metrics, as stored on its ModelVersion: AP, ROC AUC,
    precision@k, Brier score, and the row and fraud counts."""
    y = np.asarray(y_true, dtype=int)
    s = np.asarray(scores, dtype=float)
    return {
        "ap": average_precision(y, s),
        "auc": roc_auc(y, s),
        "p_at_k": precision_at_k(y, s, k),
        "brier": brier_score(y, s),
        "rows": float(len(y)),
        "frauds": float(y.sum()),
    }


def decision_rates(counts: Mapping[str, int]) -> dict[str, float]:
    """Each decision's share of all decisions, e.g. approve / review / decline."""
    total = sum(counts.values())
    return {name: ratio(n, total) for name, n in counts.items()}


def fraud_outcomes(
    truth: ArrayLike,
    outcome: ArrayLike,
    stopped: ArrayLike,
    orders: ArrayLike,
    amounts: ArrayLike,
    model_scored: ArrayLike | None = None,
) -> dict[str, float]:
    """Frauds caught and missed, and false positives, in orders and money.

    Each row is an order, or a group of orders with the same flags: `truth`
    is "fraud", "legitimate" or None, `outcome` the latest outcome label's
    value (chargeback or merchant report) or None, `stopped` whether the
    order was declined by the model or decided fraud by a reviewer; `orders`
    counts the row's orders and `amounts` sums their amounts.

    `model_scored` says whether a model ever scored the order (all did, by
    default).

    Caught: truth fraud and stopped. Missed: an outcome says fraud, it was not
    stopped, and a model scored it. Unscored: the same, but no model ever
    scored it (it predates the first model), so it is not the model's miss.
    False positive: truth legitimate and stopped. Counts of orders are whole
    numbers; amounts are floats.
    """
    t = np.asarray(truth, dtype=object)
    o = np.asarray(outcome, dtype=object)
    s = np.asarray(stopped, dtype=bool)
    n = np.asarray(orders, dtype=np.int64)
    a = np.asarray(amounts, dtype=float)
    m = (
        np.ones(len(t), dtype=bool)
        if model_scored is None
        else np.asarray(model_scored, dtype=bool)
    )
    masks = {
        "caught": (t == "fraud") & s,
        "missed": (o == "fraud") & ~s & m,
        "unscored": (o == "fraud") & ~s & ~m,
        "false_positives": (t == "legitimate") & s,
    }
    result: dict[str, float] = {"frauds": int(n[t == "fraud"].sum())}
    for name, mask in masks.items():
        result[name] = int(n[mask].sum())
        result[f"{name}_amount"] = float(a[mask].sum())
    return result


@dataclass(frozen=True)
class IpwEstimate:
    """Horvitz–Thompson totals (in orders) and the ratios built from them."""

    frauds: float
    flagged: float
    flagged_frauds: float
    precision: float
    recall: float


def ipw_precision_recall(
    y_true: ArrayLike, flagged: ArrayLike, weights: ArrayLike
) -> IpwEstimate:
    """A rule's precision and recall over the population cases were drawn from.

    Each labelled case stands for 1/π orders, π being its inclusion
    probability (1 for the high-risk queue; the sampling probability for a
    random audit case). `weights` are those 1/π, or their sums when cases
    with the same (`y_true`, `flagged`) are grouped. Precision and recall are
    ratios of estimated totals, so they stay within [0, 1].
    """
    y = np.asarray(y_true, dtype=float)
    f = np.asarray(flagged, dtype=float)
    w = np.asarray(weights, dtype=float)
    frauds = float((w * y).sum())
    flagged_total = float((w * f).sum())
    hits = float((w * y * f).sum())
    return IpwEstimate(
        frauds=frauds,
        flagged=flagged_total,
        flagged_frauds=hits,
        precision=ratio(hits, flagged_total),
        recall=ratio(hits, frauds),
    )


def pair_table(
    pairs: Iterable[tuple[str, str, int]], categories: Sequence[str]
) -> np.ndarray:
    """A confusion table from (first rater, second rater, count) rows."""
    index = {c: i for i, c in enumerate(categories)}
    table = np.zeros((len(categories), len(categories)), dtype=int)
    for first, second, n in pairs:
        table[index[first], index[second]] += n
    return table


def cohen_kappa(table: ArrayLike) -> float:
    """Cohen's kappa from a square table: rows are the first rater's labels,
    columns the second's. NaN when empty or when chance agreement is 1."""
    t = np.asarray(table, dtype=float)
    n = t.sum()
    if n == 0:
        return NAN
    observed = np.trace(t) / n
    chance = float((t.sum(axis=1) * t.sum(axis=0)).sum() / n**2)
    if chance == 1:
        return NAN
    return float((observed - chance) / (1 - chance))


def quantile_edges(reference: ArrayLike, bins: int = 10) -> np.ndarray:
    """Inner bin edges at the reference's 1/bins … (bins−1)/bins quantiles.

    Repeated edges (ties, e.g. a feature that is mostly 0) are dropped, so a
    column may get fewer bins. Missing values are ignored.
    """
    values = np.asarray(reference, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return np.array([], dtype=float)
    return np.unique(np.quantile(values, np.arange(1, bins) / bins))


def bin_counts(values: ArrayLike, edges: ArrayLike) -> np.ndarray:
    """Counts per bin, len(edges) + 2 of them: a value equal to an edge goes to
    the upper bin, and the last count is of missing values (NaN)."""
    v = np.asarray(values, dtype=float)
    e = np.asarray(edges, dtype=float)
    missing = np.isnan(v)
    index = np.searchsorted(e, v[~missing], side="right")
    counts = np.bincount(index, minlength=len(e) + 1)
    return np.append(counts, int(missing.sum()))


def psi(expected: ArrayLike, actual: ArrayLike) -> float:
    """Population stability index Σ (a − e)·ln(a / e) over bins, from counts.

    Shares below PSI_FLOOR are raised to it. Usual reading: under 0.1
    stable, 0.1–0.25 a moderate shift, over 0.25 a major shift.
    """
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if e.sum() == 0 or a.sum() == 0:
        return NAN
    e = np.maximum(e / e.sum(), PSI_FLOOR)
    a = np.maximum(a / a.sum(), PSI_FLOOR)
    return float(((a - e) * np.log(a / e)).sum())


def psi_by_feature(
    reference: pd.DataFrame, current: pd.DataFrame, bins: int = 10
) -> dict[str, float]:
    """PSI of each column of `reference` found in `current`, binned at the
    reference's quantiles, with missing values as a bin of their own."""
    result = {}
    for column in reference.columns:
        if column not in current.columns:
            continue
        ref = pd.to_numeric(reference[column], errors="coerce").to_numpy(float)
        cur = pd.to_numeric(current[column], errors="coerce").to_numpy(float)
        edges = quantile_edges(ref, bins)
        result[str(column)] = psi(bin_counts(ref, edges), bin_counts(cur, edges))
    return result


def backlog(start: int, opened: Sequence[int], closed: Sequence[int]) -> list[int]:
    """Cases still pending at the end of each day, from the count pending at
    the start and each day's opened and closed counts."""
    pending = start + np.cumsum(np.asarray(opened) - np.asarray(closed))
    return [int(n) for n in pending]


def binned_quantile(
    edges: Sequence[float], below: Sequence[int], total: int, q: float
) -> float:
    """The q-quantile of values known only as counts below each edge.

    `below[i]` is how many of the `total` values are under `edges[i]` (the
    SQL counts these with one filtered COUNT per edge). The quantile is
    interpolated linearly inside its bin, the first bin starting at 0; it is
    infinite when it lies beyond the last edge.
    """
    if total == 0:
        return NAN
    target = q * total
    lower_edge, lower_count = 0.0, 0
    for edge, count in zip(edges, below, strict=True):
        if count >= target:
            if count == lower_count:
                return float(lower_edge)
            share = (target - lower_count) / (count - lower_count)
            return float(lower_edge + share * (edge - lower_edge))
        lower_edge, lower_count = edge, count
    return math.inf
