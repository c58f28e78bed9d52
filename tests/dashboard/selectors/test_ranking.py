"""Precision@k, card precision@k, recall@k, AP and AUC per order day."""

import pytest

from dashboard.selectors import ranking
from tests.dashboard.data import (
    D1,
    DAY1,
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
