"""Decisions, frauds caught and missed, and label latency per order day."""

from datetime import timedelta
from decimal import Decimal

import pytest

from dashboard.selectors import outcomes
from models_ml.models import Score
from tests.dashboard.data import (
    BOTH,
    D1,
    D2,
    DAY1,
    at,
    label,
    scored_order,
)
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_daily_decisions_count_the_latest_score_of_each_order(world):
    # A newer score replaces o4's approve with a decline.
    Score.objects.create(order=world["o4"], probability=0.97, decision="decline")

    (day,) = outcomes.daily_decisions(DAY1)

    assert (day["orders"], day["approve"], day["review"], day["decline"]) == (
        6,
        2,
        2,
        2,
    )
    assert day["cases"] == 5
    assert day["review_rate"] == pytest.approx(5 / 6)
    assert day["decline_share"] == pytest.approx(2 / 6)


def test_daily_outcomes_split_caught_missed_and_false_positives(world):
    (day,) = outcomes.daily_outcomes(DAY1)

    assert day["frauds"] == 4  # o2, o3, o4, o6
    assert (day["caught"], day["caught_amount"]) == (2, 110.0)  # o2, o6
    assert (day["missed"], day["missed_amount"]) == (2, 70.0)  # o3, o4
    assert (day["false_positives"], day["false_positives_amount"]) == (1, 30.0)


def test_daily_outcomes_queue_precision_uses_the_truth_not_the_decision(world):
    (day,) = outcomes.daily_outcomes(DAY1)

    # o2 and o3 are the decided high-risk cases; o3's chargeback makes it fraud.
    assert (day["queue_decided"], day["queue_frauds"]) == (2, 2)
    assert day["queue_precision"] == 1.0


def test_daily_outcomes_give_each_day_its_own_row(world):
    first, second = outcomes.daily_outcomes(BOTH)

    assert (first["day"], first["caught"]) == (D1, 2)
    assert (second["day"], second["caught"], second["caught_amount"]) == (D2, 1, 200.0)


def test_daily_label_latency_per_source():
    order = scored_order(D1, 0.5)
    label(order, "fraud", known_at=at(D1, 14))  # 2 hours
    label(order, "fraud", "chargeback", known_at=at(D1 + timedelta(days=10)))

    chargeback, reviewer = outcomes.daily_label_latency(DAY1)

    assert (chargeback["source"], chargeback["mean_hours"]) == ("chargeback", 240.0)
    # 240 h lies between the 168 h and 336 h edges: median 168 + .5 × 168.
    assert chargeback["median_hours"] == pytest.approx(252.0)
    assert chargeback["p90_hours"] == pytest.approx(168 + 0.9 * 168)
    assert (reviewer["labels"], reviewer["mean_hours"]) == (1, 2.0)
    assert reviewer["median_hours"] == pytest.approx(2.5)  # between 1 h and 4 h


def test_fraud_on_an_order_no_model_scored_is_not_the_models_miss():
    """Orders from before the first model carry a score without probability."""
    early = OrderFactory(created_at=at(D1), amount=Decimal("80.00"))
    Score.objects.create(order=early, probability=None, decision="review")
    label(early, "fraud", "chargeback")
    late = scored_order(D1, 0.1, "20.00")
    label(late, "fraud", "chargeback")

    (day,) = outcomes.daily_outcomes(DAY1)

    assert (day["missed"], day["missed_amount"]) == (1, 20.0)
    assert (day["unscored"], day["unscored_amount"]) == (1, 80.0)
    assert day["frauds"] == 2
