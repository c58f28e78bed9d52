"""The promotion gate's weighted metrics and verdicts, on arrays."""

import numpy as np
import pytest

from models_ml.gate import (
    GatePolicy,
    GateSample,
    effective_size,
    gate_compare,
    weighted_ap,
    weighted_auc,
    weighted_cp_at_k,
)
from models_ml.metrics import average_precision, roc_auc

POLICY = GatePolicy(min_cases=100, min_frauds=10, resamples=200)


def _sample(n: int, weight: float = 1.0) -> GateSample:
    return GateSample(np.arange(n), np.full(n, weight), "audit")


def _data(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.15).astype(int)
    good = np.clip(0.5 * y + rng.normal(0.3, 0.15, n), 0, 1)
    return y, good


def test_unit_weights_give_the_unweighted_metrics():
    y, s = _data()
    w = np.ones(len(y))
    assert weighted_ap(y, s, w) == pytest.approx(average_precision(y, s))
    assert weighted_auc(y, s, w) == pytest.approx(roc_auc(y, s))


def test_a_weight_counts_as_that_many_copies_of_the_row():
    y, s = _data(200)
    w = np.where(np.arange(200) % 3 == 0, 3.0, 1.0)
    copies = np.repeat(np.arange(200), w.astype(int))
    assert weighted_ap(y, s, w) == pytest.approx(
        average_precision(y[copies], s[copies])
    )
    assert weighted_auc(y, s, w) == pytest.approx(roc_auc(y[copies], s[copies]))


def test_cp_at_k_is_the_precision_of_the_top_share_of_the_population():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    s = np.linspace(1, 0, 10)
    assert weighted_cp_at_k(y, s, np.ones(10), 0.2) == 1.0
    assert weighted_cp_at_k(y, s, np.ones(10), 0.4) == 0.5


def test_too_few_cases_hold_with_the_reason():
    y, s = _data(50)
    result = gate_compare(y, _sample(50), s, None, POLICY)
    assert result.verdict == "held"
    assert "50 audit cases" in result.reason
    assert "at least 100 cases" in result.reason


def test_a_random_challenger_is_rejected_against_a_good_champion():
    y, good = _data()
    noise = np.random.default_rng(5).random(len(y))
    result = gate_compare(y, _sample(len(y), 20.0), noise, good, POLICY)
    assert result.verdict == "reject"
    assert result.details["ap_diff_ci"][1] < 0


def test_a_random_first_model_is_rejected_as_no_better_than_chance():
    y, _ = _data()
    noise = np.random.default_rng(5).random(len(y))
    assert gate_compare(y, _sample(len(y)), noise, None, POLICY).verdict == "reject"


def test_a_sample_on_which_neither_model_beats_chance_holds_instead_of_rejecting():
    y, _ = _data()
    rng = np.random.default_rng(5)
    result = gate_compare(
        y, _sample(len(y)), rng.random(len(y)), rng.random(len(y)), POLICY
    )
    assert result.verdict == "held"
    assert "neither model beats chance" in result.reason


def test_an_equal_challenger_is_promoted_with_intervals():
    y, good = _data()
    result = gate_compare(y, _sample(len(y)), good, good, POLICY)
    assert result.verdict == "promote"
    low, high = result.details["challenger"]["ap_ci"]
    assert low <= result.details["challenger"]["ap"] <= high
    assert result.details["ap_diff_ci"] == [0.0, 0.0]


def test_the_effective_size_counts_heavy_rows_for_little_more_than_themselves():
    assert effective_size(np.full(50, 5.0)) == 50.0
    mixed = np.r_[np.full(11, 5.0), [770.0]]  # 11 cold-start frauds and a later one
    assert effective_size(mixed) == 1.1
    assert effective_size(np.zeros(0)) == 0.0


def test_the_details_give_the_effective_cases_and_frauds():
    y, good = _data()
    w = np.where(np.arange(len(y)) < 580, 5.0, 500.0)  # 20 heavy rows
    result = gate_compare(y, GateSample(np.arange(len(y)), w, "audit"), good, good)
    assert result.details["effective_cases"] == effective_size(w)
    assert result.details["effective_frauds"] == effective_size(w[y == 1])
    assert result.details["effective_cases"] < 50
