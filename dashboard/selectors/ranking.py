"""How well the score ranks each day's orders for a review capacity of k:
precision@k, card precision@k, recall@k, AP and ROC AUC."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from django.db.models import (
    Count,
    F,
    Max,
    Q,
    Window,
)
from django.db.models.functions import Collate, RowNumber, TruncDate

from cases.models import Claim
from dashboard.selectors.common import (
    HASH,
    MetricsWindow,
    fraud_orders,
    latest_scored,
    small_sample,
)
from models_ml import metrics

# Rows read per day for AP and ROC AUC.
SAMPLE_PER_DAY = 2000
# The smallest default capacity: at k = 1 a day's precision@k is one order's
# truth, 0 or 100 %, and the chart zig-zags; at 10 one order moves it by 10
# points. A lead can still ask for any k.
MIN_DEFAULT_K = 10


def observed_capacity(window: MetricsWindow) -> int:
    """Mean reviewer decisions per day, over the days with any (at least 1)."""
    totals = Claim.objects.filter(
        window.q("released_at", tenant="case__tenant_id"), end=Claim.End.DECIDED
    ).aggregate(
        decisions=Count("id"), days=Count(TruncDate("released_at"), distinct=True)
    )
    if not totals["days"]:
        return 1
    return max(1, round(totals["decisions"] / totals["days"]))


def default_capacity(observed: int) -> int:
    """The k used unless one is asked for: the observed daily decisions
    (`observed_capacity`), at least MIN_DEFAULT_K."""
    return max(observed, MIN_DEFAULT_K)


def _ranked_rows(window: MetricsWindow, k: int, cap: int) -> pd.DataFrame:
    """In one scan of the window's latest scores, per day: the 2k highest
    scores (`rank`) and `cap` orders in hash order (`pick`, the sample)."""
    rows = (
        latest_scored(window)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("day")],
                order_by=[F("probability").desc(), F("order_id").asc()],
            ),
            pick=Window(
                RowNumber(),
                partition_by=[F("day")],
                order_by=[HASH.asc(), F("order_id").asc()],
            ),
        )
        .filter(Q(rank__lte=2 * k) | Q(pick__lte=cap))
        .values_list("day", "order_id", "entity", "probability", "rank", "pick")
    )
    columns = ["day", "order_id", "entity", "probability", "rank", "pick"]
    return pd.DataFrame(list(rows), columns=columns)


def _top_cards(window: MetricsWindow, day: date, k: int) -> list[tuple[str, float]]:
    """The day's k highest-scored cards (a card scores its riskiest order),
    ties by card id in code-point order, as `metrics.top_k_cards` breaks them."""
    one_day = window.day(day)
    return list(
        latest_scored(one_day)
        .values("entity")
        .annotate(top=Max("probability"))
        .order_by("-top", Collate("entity", "C"))
        .values_list("entity", "top")[:k]
    )


def _day_cards(
    window: MetricsWindow, day: date, ranked: pd.DataFrame, k: int
) -> list[tuple[str, float]]:
    """Cards that can be among the day's k riskiest, with their risk.

    Read off the day's 2k riskiest orders (`ranked`) when that is exact: the
    day has no more orders, or at least k of those cards score above the
    lowest score read (a card not read scores at most that). Otherwise the
    day's card ranking is computed in SQL.
    """
    per_card = ranked.groupby("entity")["probability"].max()
    if len(ranked) < 2 * k or (per_card > ranked["probability"].min()).sum() >= k:
        return list(per_card.items())
    return _top_cards(window, day, k)


def daily_ranking(
    window: MetricsWindow, k: int, cap: int = SAMPLE_PER_DAY
) -> list[dict[str, Any]]:
    """Per order day, for a review capacity of k orders a day: precision@k,
    card precision@k and recall@k; AP and ROC AUC on a deterministic sample
    of at most `cap` orders (hash of the order id).

    Precision@k and card precision@k are `models_ml.metrics`' (divided by
    k, the handbook's definition, as in the replay); a day without scored
    orders has neither (NaN, a gap in the chart) rather than 0.
    Card precision@k needs the day's k riskiest cards (`_day_cards`).
    """
    rows = _ranked_rows(window, k, cap)
    frauds = fraud_orders(window)
    fraud_ids = set(frauds["order_id"])
    fraud_cards = set(zip(frauds["day"], frauds["entity"], strict=True))
    rows["fraud"] = rows["order_id"].isin(fraud_ids).astype(int)
    by_day = dict(list(rows.groupby("day")))
    positives_by_day = frauds[frauds["scored"]].groupby("day").size()
    days = []
    for day in window.days:
        today = by_day.get(day, rows.iloc[:0])
        top = today[today["rank"] <= k]
        sample = today[today["pick"] <= cap]
        ranked = today[today["rank"] <= 2 * k]
        cards = _day_cards(window, day, ranked, k)
        card_fraud = [int((day, entity) in fraud_cards) for entity, _ in cards]
        positives = int(positives_by_day.get(day, 0))
        days.append(
            {
                "day": day,
                "k": k,
                "ranked": len(top),
                "p_at_k": metrics.precision_at_k(
                    top["fraud"].to_numpy(), top["probability"].to_numpy(), k
                ),
                "cp_at_k": metrics.card_precision_at_k(
                    [e for e, _ in cards], card_fraud, [p for _, p in cards], k
                ),
                "recall_at_k": metrics.recall_at_k(
                    top["fraud"], top["probability"], k, positives
                ),
                "sampled": len(sample),
                "sample_frauds": int(sample["fraud"].sum()),
                "small_sample": small_sample(int(sample["fraud"].sum()), len(sample)),
                "ap": metrics.average_precision(sample["fraud"], sample["probability"]),
                "auc": metrics.roc_auc(sample["fraud"], sample["probability"]),
            }
        )
    return days
