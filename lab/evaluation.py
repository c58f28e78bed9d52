"""Evaluation as the Fraud Detection Handbook defines it. Pure: arrays in, numbers out.

Le Borgne et al., "Reproducible Machine Learning for Credit Card Fraud Detection",
Chapter 3 (`get_train_test_set`, `card_precision_top_k_day`,
`card_precision_top_k`) and Chapter 4.

* P@k: share of frauds among the k transactions with the highest score.
* CP@k (card precision@k) for one day: each card gets the highest score of its
  transactions that day and counts as compromised if any of them is a fraud; the
  share of compromised cards among the k cards with the highest score, divided
  by k even when fewer than k cards remain. Cards already known to be
  compromised are removed first, so a model earns nothing for re-finding them.
  P@k, CP@k, AP and ROC AUC themselves are `models_ml.metrics`, the definitions
  the dashboard and the model registry use too.
* Over a test period the per-day values are averaged, and a card found in the
  top k of one day counts as known on the following days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from models_ml.metrics import (
    average_precision,
    card_precision_at_k,
    precision_at_k,
    roc_auc,
    top_k_cards,
)


def ranking_metrics(frauds: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """ROC AUC and average precision; NaN unless both classes are present."""
    return {"auc": roc_auc(frauds, scores), "ap": average_precision(frauds, scores)}


def card_precision_at_k_day(
    cards: np.ndarray, scores: np.ndarray, frauds: np.ndarray, k: int
) -> tuple[float, list]:
    """CP@k of one day's transactions and the compromised cards in its top k.

    Ties in a card's score are broken by card id, so the result is repeatable.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    if len(cards) == 0:
        return 0.0, []
    top, compromised = top_k_cards(cards, frauds, scores, k)
    return card_precision_at_k(cards, frauds, scores, k), top[compromised > 0].tolist()


@dataclass
class DayResult:
    """Metrics of one day, on the transactions of cards not known compromised."""

    day: object
    rows: int
    frauds: int
    compromised_cards: int
    auc: float
    ap: float
    p_at_k: float
    cp_at_k: float
    detected: list = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, object]:
        return {
            "day": str(self.day),
            "rows": self.rows,
            "frauds": self.frauds,
            "compromised_cards": self.compromised_cards,
            "auc": _none_if_nan(self.auc),
            "ap": _none_if_nan(self.ap),
            "p_at_k": _none_if_nan(self.p_at_k),
            "cp_at_k": _none_if_nan(self.cp_at_k),
        }


def day_metrics(
    day: object,
    cards: np.ndarray,
    scores: np.ndarray,
    frauds: np.ndarray,
    k: int,
    known: Iterable[object] = (),
) -> DayResult:
    """AUC, AP, P@k and CP@k of one day, cards in `known` removed first."""
    cards = np.asarray(cards)
    keep = ~np.isin(cards, np.asarray(list(known), dtype=cards.dtype))
    cards, scores = cards[keep], np.asarray(scores, dtype=float)[keep]
    frauds = np.asarray(frauds, dtype=int)[keep]
    cp, detected = card_precision_at_k_day(cards, scores, frauds, k)
    return DayResult(
        day=day,
        rows=len(cards),
        frauds=int(frauds.sum()),
        compromised_cards=len(np.unique(cards[frauds > 0])),
        p_at_k=precision_at_k(frauds, scores, k),
        cp_at_k=cp,
        detected=detected,
        **ranking_metrics(frauds, scores),
    )


def handbook_known_cards(
    days: np.ndarray,
    cards: np.ndarray,
    frauds: np.ndarray,
    first_day: int,
    test_day: int,
    delay_days: int,
) -> set:
    """Cards known compromised on `test_day` (handbook `get_train_test_set`).

    The frauds of days first_day … test_day − delay_days − 1: with a delay of d
    days, a fraud made before the start of day test_day − d is reported before
    the test day starts. `days` are integer day numbers.
    """
    known = (days >= first_day) & (days <= test_day - delay_days - 1) & (frauds > 0)
    return set(np.asarray(cards)[known].tolist())


def handbook_protocol(
    days: np.ndarray,
    cards: np.ndarray,
    scores: np.ndarray,
    frauds: np.ndarray,
    *,
    first_day: int,
    test_days: Sequence[int],
    delay_days: int,
    k: int,
) -> tuple[dict[str, float], list[DayResult]]:
    """The handbook's static test: its summary and one result per test day.

    `days` … `frauds` describe every transaction from `first_day` (the first
    training day) to the last test day; `scores` matter only on test days.
    Each test day loses the cards known compromised by then (delayed labels)
    and the cards detected in the top k of earlier test days. AUC and AP are
    computed on all remaining test transactions together, CP@k and P@k are
    means of the daily values.
    """
    days, cards = np.asarray(days), np.asarray(cards)
    scores, frauds = np.asarray(scores, dtype=float), np.asarray(frauds, dtype=int)
    detected: set = set()
    results, kept = [], np.zeros(len(days), dtype=bool)
    for day in test_days:
        known = handbook_known_cards(days, cards, frauds, first_day, day, delay_days)
        on_day = days == day
        keep_day = on_day & ~np.isin(cards, list(known))
        kept |= keep_day
        result = day_metrics(
            day, cards[keep_day], scores[keep_day], frauds[keep_day], k, detected
        )
        detected.update(result.detected)
        results.append(result)
    summary = {
        **ranking_metrics(frauds[kept], scores[kept]),
        "cp_at_k": float(np.mean([r.cp_at_k for r in results])),
        "p_at_k": float(np.mean([r.p_at_k for r in results])),
        "rows": int(kept.sum()),
        "frauds": int(frauds[kept].sum()),
    }
    return summary, results


def _none_if_nan(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)
