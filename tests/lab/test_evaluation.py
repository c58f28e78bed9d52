"""The handbook's metrics, checked against values worked out by hand."""

import math

import numpy as np
import pytest

from lab.evaluation import (
    card_precision_at_k_day,
    day_metrics,
    handbook_known_cards,
    handbook_protocol,
    ranking_metrics,
)

# One day: card A has a high-scored legit and a low-scored fraud transaction.
CARDS = np.array(["A", "A", "B", "C", "D"])
SCORES = np.array([0.9, 0.1, 0.8, 0.3, 0.2])
FRAUDS = np.array([0, 1, 0, 1, 0])


def test_card_precision_ranks_cards_by_their_highest_score():
    # Cards by max score: A 0.9 (compromised), B 0.8, C 0.3 (compromised), D 0.2.
    cp, detected = card_precision_at_k_day(CARDS, SCORES, FRAUDS, k=2)

    assert cp == 0.5
    assert detected == ["A"]


def test_card_precision_counts_a_card_with_any_fraud_as_compromised():
    cp, detected = card_precision_at_k_day(CARDS, SCORES, FRAUDS, k=3)

    assert cp == pytest.approx(2 / 3)
    assert detected == ["A", "C"]


def test_card_precision_divides_by_k_when_fewer_cards_remain():
    cp, _ = card_precision_at_k_day(CARDS, SCORES, FRAUDS, k=10)

    assert cp == pytest.approx(2 / 10)


def test_card_precision_breaks_score_ties_by_card():
    cp, detected = card_precision_at_k_day(
        np.array(["Z", "Y"]), np.array([0.5, 0.5]), np.array([1, 0]), k=1
    )

    assert (cp, detected) == (0.0, [])  # Y sorts before Z


def test_day_metrics_remove_known_cards_before_ranking():
    result = day_metrics("d1", CARDS, SCORES, FRAUDS, k=2, known={"A"})

    # Left: B 0.8 legit, C 0.3 fraud, D 0.2 legit.
    assert result.rows == 3
    assert result.frauds == 1
    assert result.compromised_cards == 1
    assert result.cp_at_k == 0.5  # top 2 cards B, C
    assert result.p_at_k == 0.5  # top 2 transactions 0.8, 0.3
    assert result.auc == 0.5  # C (0.3) outranks D (0.2) but not B (0.8)
    assert result.ap == 0.5  # the fraud comes second: precision 1/2


def test_ranking_metrics_by_hand():
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    frauds = np.array([1, 0, 1, 0])

    metrics = ranking_metrics(frauds, scores)

    # Pairs (fraud, legit) ranked right: (.9,.8) (.9,.6) (.7,.6); wrong: (.7,.8).
    assert metrics["auc"] == pytest.approx(3 / 4)
    # Precision at each fraud: 1/1 and 2/3.
    assert metrics["ap"] == pytest.approx((1 + 2 / 3) / 2)


def test_ranking_metrics_are_undefined_with_one_class():
    metrics = ranking_metrics(np.array([0, 0]), np.array([0.1, 0.2]))

    assert math.isnan(metrics["auc"]) and math.isnan(metrics["ap"])


def test_known_cards_are_frauds_reported_before_the_test_day():
    days = np.array([9, 10, 12, 13, 12])
    cards = np.array(["before", "first", "last", "late", "legit"])
    frauds = np.array([1, 1, 1, 1, 0])

    # Test day 20, delay 7: frauds of days 10 … 12 are known on day 20.
    known = handbook_known_cards(days, cards, frauds, 10, 20, 7)

    assert known == {"first", "last"}


def test_handbook_protocol_removes_known_and_detected_cards():
    # Training day 0, delay 1, test days 2 and 3, k = 1.
    days = np.array([0, 0, 2, 2, 2, 3, 3, 3])
    cards = np.array(["K", "L", "K", "X", "Y", "X", "Y", "Z"])
    scores = np.array([0, 0, 0.99, 0.9, 0.2, 0.95, 0.4, 0.3])
    frauds = np.array([1, 0, 1, 1, 0, 1, 1, 0])

    summary, results = handbook_protocol(
        days, cards, scores, frauds, first_day=0, test_days=[2, 3], delay_days=1, k=1
    )

    # Day 2: K is known (a training fraud). X tops the ranking and is found.
    # Day 3: X was detected on day 2, so Y (0.4, fraud) tops it: found again.
    assert [r.cp_at_k for r in results] == [1.0, 1.0]
    assert [r.rows for r in results] == [2, 2]
    assert summary["cp_at_k"] == 1.0
    # AUC/AP pool the test rows left after the known cards (the detected ones
    # stay): X .9 f, Y .2 l, X .95 f, Y .4 f, Z .3 l; every fraud outranks
    # every legitimate one.
    assert summary["rows"] == 5
    assert summary["auc"] == 1.0
    assert summary["ap"] == 1.0


def test_handbook_protocol_perfect_ranker_finds_every_compromised_card():
    days = np.array([0, 2, 2, 2, 3, 3])
    cards = np.array(["A", "B", "C", "D", "B", "E"])
    frauds = np.array([0, 1, 1, 0, 1, 1])

    summary, results = handbook_protocol(
        days,
        cards,
        frauds.astype(float),
        frauds,
        first_day=0,
        test_days=[2, 3],
        delay_days=1,
        k=4,
    )

    # Day 2: B and C of 4 → 0.5. Day 3: B already found; E → 0.25.
    assert [r.cp_at_k for r in results] == [0.5, 0.25]
    assert summary["cp_at_k"] == pytest.approx(0.375)
