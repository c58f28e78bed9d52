"""Precision@k, card precision@k, recall@k, AP and AUC per order day."""

import math
from datetime import date, timedelta

import numpy as np
import pytest

from dashboard.selectors import ranking
from dashboard.selectors.common import MetricsWindow
from lab.evaluation import day_metrics
from tests.dashboard.data import (
    D1,
    D2,
    DAY1,
    label,
    scored_order,
)

pytestmark = pytest.mark.django_db


def test_daily_ranking_for_a_capacity_of_two(world):
    (day,) = ranking.daily_ranking(DAY1, k=2)

    # Ranked: o1 .95 (legit), o2 .80 (fraud), o3, o5, o4, o6.
    assert day["p_at_k"] == 0.5
    assert day["recall_at_k"] == 0.25  # 1 of the 4 frauds
    # Cards: A (o1 + o2: .95, fraud through o2), then B (o3, fraud).
    assert day["cp_at_k"] == 1.0


def test_daily_ranking_ap_and_auc_on_the_day_sample(world):
    (day,) = ranking.daily_ranking(DAY1, k=2)

    # Frauds at ranks 2, 3, 5, 6: AP = (1/2 + 2/3 + 3/5 + 4/6) / 4.
    assert day["ap"] == pytest.approx((1 / 2 + 2 / 3 + 3 / 5 + 4 / 6) / 4)
    # Only o2 and o3 outrank a legitimate order (o5): 2 of 4 × 2 pairs.
    assert day["auc"] == 0.25
    assert (day["sampled"], day["sample_frauds"]) == (6, 4)


def test_daily_ranking_sample_is_capped_per_day(world):
    (day,) = ranking.daily_ranking(DAY1, k=2, cap=3)

    assert day["sampled"] == 3


def test_daily_ranking_falls_back_to_sql_when_one_card_fills_the_top(world):
    # Four more orders on card A, all riskier than anything else: the top 2k
    # orders (k = 2) hold one card only, so the card ranking is read in SQL.
    for _ in range(4):
        scored_order(D1, 0.99, "5.00", card="card-A")

    (day,) = ranking.daily_ranking(DAY1, k=2)

    assert day["cp_at_k"] == 1.0  # cards A and B, both fraud
    assert day["p_at_k"] == 0.0  # the four new orders are unlabelled


def _random_days(days: list[date], per_day: int) -> list[tuple]:
    """Orders on 12 cards a day with scores rounded to two decimals (so ties
    occur) and about one in five labelled fraud; returns (day, card, score,
    fraud) in order id order."""
    rng = np.random.default_rng(7)
    rows = []
    for day in days:
        for i in range(per_day):
            card = f"card-{rng.integers(0, 12)}"
            p = round(float(rng.random()), 2)
            order = scored_order(day, p, card=card)
            order.created_at += timedelta(minutes=i)  # distinct order times
            order.save(update_fields=["created_at"])
            fraud = int(rng.random() < 0.2)
            if fraud:
                label(order, "fraud", "chargeback")
            rows.append((day, card, p, fraud))
    return rows


@pytest.mark.parametrize("k", [1, 5, 20])
def test_dashboard_and_replay_report_the_same_precision_at_k(k):
    """One definition of P@k and CP@k: the dashboard's daily figures equal the
    replay's `day_metrics` on the same orders (no card known beforehand)."""
    days = [D1, D2]
    rows = _random_days(days, per_day=30)

    dashboard = ranking.daily_ranking(MetricsWindow(D1, D2), k)

    for day, shown in zip(days, dashboard, strict=True):
        today = [r for r in rows if r[0] == day]
        cards = np.array([r[1] for r in today])
        scores = np.array([r[2] for r in today])
        frauds = np.array([r[3] for r in today])
        replay = day_metrics(day, cards, scores, frauds, k)
        assert shown["cp_at_k"] == pytest.approx(replay.cp_at_k)
        assert shown["p_at_k"] == pytest.approx(replay.p_at_k)
        assert shown["ap"] == pytest.approx(replay.ap)
        assert shown["auc"] == pytest.approx(replay.auc)


def test_daily_ranking_divides_by_k_on_a_thin_day(world):
    (day,) = ranking.daily_ranking(DAY1, k=10)

    # Six orders, four frauds; five cards, four compromised (A, B, C, E).
    assert day["p_at_k"] == pytest.approx(4 / 10)
    assert day["cp_at_k"] == pytest.approx(4 / 10)


def test_daily_ranking_leaves_a_day_without_scores_blank():
    (day,) = ranking.daily_ranking(DAY1, k=3)

    assert math.isnan(day["p_at_k"]) and math.isnan(day["cp_at_k"])
