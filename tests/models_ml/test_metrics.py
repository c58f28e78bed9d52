"""The risk metrics on tiny inputs, checked against hand computation."""

import math

import numpy as np
import pandas as pd
import pytest

from models_ml import metrics

# Scores in descending order with their truth: used by several ranking tests.
Y = [1, 0, 1, 0, 1]
S = [0.9, 0.8, 0.7, 0.2, 0.1]


def test_ratio_is_nan_when_the_denominator_is_zero():
    assert metrics.ratio(1, 4) == 0.25
    assert math.isnan(metrics.ratio(1, 0))


@pytest.mark.parametrize(("k", "expected"), [(1, 1.0), (2, 0.5), (3, 2 / 3)])
def test_precision_at_k_is_the_fraud_share_of_the_k_highest_scores(k, expected):
    assert metrics.precision_at_k(np.array(Y), np.array(S), k) == pytest.approx(
        expected
    )


def test_precision_at_k_divides_by_k_when_fewer_orders_remain():
    # The handbook's definition: 3 frauds found with a capacity of 50.
    assert metrics.precision_at_k(np.array(Y), np.array(S), 50) == pytest.approx(3 / 50)


def test_precision_at_k_is_nan_without_orders():
    assert math.isnan(metrics.precision_at_k(np.array([]), np.array([]), 3))


def test_precision_at_k_breaks_ties_by_input_order():
    assert metrics.precision_at_k(np.array([0, 1]), np.array([0.5, 0.5]), 1) == 0.0


def test_card_precision_at_k_counts_a_card_appearing_twice_once():
    # Card A: orders scored .9 (legitimate) and .2 (fraud) → score .9, fraud.
    # Card B: .8, legitimate; card C: .7, legitimate. Top 2 cards: A, B → 1/2.
    entities = ["A", "B", "A", "C"]
    y, s = [0, 0, 1, 0], [0.9, 0.8, 0.2, 0.7]

    assert metrics.card_precision_at_k(entities, y, s, 2) == 0.5
    assert metrics.card_precision_at_k(entities, y, s, 1) == 1.0
    # Order-level P@2 sees two legitimate orders.
    assert metrics.precision_at_k(np.array(y), np.array(s), 2) == 0.0


def test_card_precision_at_k_gives_a_card_one_slot_of_the_capacity():
    # Orders 1 and 2 (both fraud) share card A: the second slot goes to B.
    entities, y, s = ["A", "A", "B"], [1, 1, 0], [0.9, 0.8, 0.7]

    assert metrics.card_precision_at_k(entities, y, s, 2) == 0.5
    assert metrics.precision_at_k(np.array(y), np.array(s), 2) == 1.0


def test_card_precision_at_k_divides_by_k_when_fewer_cards_remain():
    # Two cards, one compromised, a capacity of 10: 1/10, not 1/2.
    assert metrics.card_precision_at_k(["A", "B"], [1, 0], [0.9, 0.8], 10) == 0.1


def test_card_precision_at_k_breaks_score_ties_by_card_id():
    # Z and Y tie: Y comes first whatever the row order.
    for cards in (["Z", "Y"], ["Y", "Z"]):
        y = [int(card == "Z") for card in cards]
        assert metrics.card_precision_at_k(cards, y, [0.5, 0.5], 1) == 0.0


def test_top_k_cards_rank_cards_by_their_riskiest_row():
    cards, compromised = metrics.top_k_cards(
        ["A", "B", "A", "C"], [0, 0, 1, 0], [0.9, 0.8, 0.2, 0.95], 2
    )

    assert (cards.tolist(), compromised.tolist()) == (["C", "A"], [0, 1])


def test_card_precision_at_k_is_nan_without_orders():
    assert math.isnan(metrics.card_precision_at_k([], [], [], 3))


def test_recall_at_k_is_the_share_of_all_frauds_in_the_top_k():
    # Frauds at .9, .7, .1; the top 2 (.9, .8) hold one of three.
    assert metrics.recall_at_k(Y, S, 2) == pytest.approx(1 / 3)


def test_recall_at_k_takes_the_population_fraud_count_for_top_rows_only():
    assert metrics.recall_at_k([1, 0], [0.9, 0.8], 2, positives=4) == 0.25


def test_recall_at_k_is_nan_without_frauds():
    assert math.isnan(metrics.recall_at_k([0, 0], [0.9, 0.8], 1))


def test_average_precision_averages_precision_at_each_fraud():
    # Ranked: fraud (P=1/1), legit, fraud (P=2/3), legit → (1 + 2/3) / 2.
    y, s = [1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]

    assert metrics.average_precision(y, s) == pytest.approx(5 / 6)


def test_average_precision_treats_tied_scores_as_one_threshold():
    # At .5: 1 fraud of 2 orders (P=.5, R=.5); at .2: 2 of 3 (P=2/3, R=1).
    # AP = .5 × .5 + .5 × 2/3.
    assert metrics.average_precision([1, 0, 1], [0.5, 0.5, 0.2]) == pytest.approx(
        0.25 + 1 / 3
    )


def test_roc_auc_is_the_share_of_fraud_legitimate_pairs_ranked_right():
    # Pairs (fraud, legit): (.9,.8) (.9,.1) (.7,.8) (.7,.1) → 3 of 4 right.
    assert metrics.roc_auc([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == 0.75


def test_roc_auc_counts_ties_as_half():
    assert metrics.roc_auc([1, 0], [0.5, 0.5]) == 0.5


@pytest.mark.parametrize("metric", [metrics.average_precision, metrics.roc_auc])
def test_ranking_metrics_are_nan_with_a_single_class(metric):
    assert math.isnan(metric([1, 1], [0.2, 0.9]))


def test_decision_rates_divide_each_count_by_the_total():
    rates = metrics.decision_rates({"approve": 6, "review": 3, "decline": 1})

    assert rates == {"approve": 0.6, "review": 0.3, "decline": 0.1}


def test_decision_rates_are_nan_without_decisions():
    assert math.isnan(metrics.decision_rates({"approve": 0})["approve"])


def test_fraud_outcomes_split_caught_missed_and_false_positives():
    rows = [
        # truth, outcome, stopped, orders, amount
        ("fraud", None, True, 1, 100.0),  # decided fraud by a reviewer: caught
        ("fraud", "fraud", False, 1, 50.0),  # chargeback, not stopped: missed
        ("legitimate", "legitimate", True, 1, 30.0),  # declined: false positive
        ("legitimate", None, False, 1, 20.0),  # approved, fine: nothing
        (None, None, True, 1, 70.0),  # declined, never labelled: nothing
        ("fraud", "fraud", True, 2, 40.0),  # two declined chargebacks: caught
    ]
    truth, outcome, stopped, orders, amounts = zip(*rows, strict=True)

    result = metrics.fraud_outcomes(truth, outcome, stopped, orders, amounts)

    assert result == {
        "frauds": 4,
        "caught": 3,
        "caught_amount": 140.0,
        "missed": 1,
        "missed_amount": 50.0,
        "false_positives": 1,
        "false_positives_amount": 30.0,
        "unscored": 0,
        "unscored_amount": 0.0,
    }


def test_fraud_outcomes_count_fraud_no_model_scored_apart_from_missed():
    # A chargeback on an order scored by a model, and one on an order from
    # before the first model: only the first is the model's miss.
    result = metrics.fraud_outcomes(
        ["fraud", "fraud"],
        ["fraud", "fraud"],
        [False, False],
        [1, 3],
        [10.0, 90.0],
        model_scored=[True, False],
    )

    assert (result["missed"], result["missed_amount"]) == (1, 10.0)
    assert (result["unscored"], result["unscored_amount"]) == (3, 90.0)
    assert result["frauds"] == 4
    assert isinstance(result["caught"], int)


def test_ipw_weights_audit_cases_by_the_inverse_selection_probability():
    # Two queue cases (π = 1) and two audit cases (π = .25 and .5):
    # weights 1, 1, 4, 2. Frauds: 1 + 4 = 5; flagged: 1 + 1 = 2, of them
    # fraud 1 → precision 1/2, recall 1/5 (unweighted recall would be 1/2).
    estimate = metrics.ipw_precision_recall(
        y_true=[1, 0, 1, 0], flagged=[1, 1, 0, 0], weights=[1, 1, 4, 2]
    )

    assert estimate == metrics.IpwEstimate(
        frauds=5.0, flagged=2.0, flagged_frauds=1.0, precision=0.5, recall=0.2
    )


def test_ipw_gives_the_same_estimate_for_grouped_cases():
    single = metrics.ipw_precision_recall([1, 1, 0], [0, 0, 1], [2, 2, 1])
    grouped = metrics.ipw_precision_recall([1, 0], [0, 1], [4, 1])

    assert single == grouped


def test_pair_table_counts_first_and_second_labels():
    pairs = [
        ("fraud", "fraud", 2),
        ("fraud", "legitimate", 1),
        ("legitimate", "legitimate", 3),
        ("fraud", "fraud", 1),
    ]

    table = metrics.pair_table(pairs, ["fraud", "legitimate"])

    assert table.tolist() == [[3, 1], [0, 3]]


def test_cohen_kappa_on_a_two_by_two_table():
    # n = 50, observed agreement (20 + 15) / 50 = .7; row sums 25, 25, column
    # sums 30, 20 → chance (25·30 + 25·20) / 50² = .5; κ = (.7 − .5) / .5.
    assert metrics.cohen_kappa([[20, 5], [10, 15]]) == pytest.approx(0.4)


def test_cohen_kappa_is_one_on_perfect_agreement():
    assert metrics.cohen_kappa([[3, 0], [0, 2]]) == pytest.approx(1.0)


@pytest.mark.parametrize("table", [[[0, 0], [0, 0]], [[5, 0], [0, 0]]])
def test_cohen_kappa_is_nan_when_empty_or_chance_agreement_is_one(table):
    assert math.isnan(metrics.cohen_kappa(table))


def test_quantile_edges_are_the_reference_quantiles():
    edges = metrics.quantile_edges(np.arange(100.0), bins=4)

    assert edges.tolist() == pytest.approx([24.75, 49.5, 74.25])


def test_quantile_edges_drop_repeats_and_ignore_missing_values():
    # Eight 0s and two 1s: the 10%–70% quantiles are 0, 80% is .2 (between
    # the 8th and 9th value), 90% is 1.
    reference = [0.0] * 8 + [1.0] * 2 + [np.nan]

    assert metrics.quantile_edges(reference).tolist() == pytest.approx([0.0, 0.2, 1.0])


def test_bin_counts_put_edge_values_up_and_missing_values_last():
    counts = metrics.bin_counts([0, 24.75, 50, 99, np.nan], [24.75, 49.5, 74.25])

    assert counts.tolist() == [1, 1, 1, 1, 1]


def test_psi_of_two_known_distributions():
    # Shares .5/.5 against .25/.75:
    # (.25 − .5)·ln(.25/.5) + (.75 − .5)·ln(.75/.5) = .25·(ln 2 + ln 1.5) = .25·ln 3
    assert metrics.psi([50, 50], [25, 75]) == pytest.approx(0.25 * math.log(3))


def test_psi_depends_on_shares_not_counts():
    assert metrics.psi([1, 1], [1, 3]) == pytest.approx(metrics.psi([50, 50], [25, 75]))


def test_psi_is_zero_for_the_same_distribution():
    assert metrics.psi([10, 30, 60], [1, 3, 6]) == pytest.approx(0.0)


def test_psi_raises_empty_bins_to_the_floor():
    # Expected shares 1, 0 → 1, 1e-4; actual .5, .5:
    # (.5 − 1)·ln(.5) + (.5 − 1e-4)·ln(.5 / 1e-4)
    expected = -0.5 * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)

    assert metrics.psi([100, 0], [50, 50]) == pytest.approx(expected)


def test_psi_is_nan_without_counts():
    assert math.isnan(metrics.psi([0, 0], [1, 1]))


def test_psi_by_feature_bins_each_column_at_the_reference_quantiles():
    reference = pd.DataFrame({"a": np.arange(100.0), "b": np.ones(100)})
    current = pd.DataFrame(
        {
            "a": np.tile(np.arange(50.0), 2),
            "b": np.r_[np.ones(50), np.full(50, np.nan)],
        }
    )

    result = metrics.psi_by_feature(reference, current, bins=4)

    # a: edges 24.75, 49.5, 74.25; reference shares .25 × 4, current .5, .5,
    # 0, 0 (floored to 1e-4); the missing bin is empty in both.
    half_terms = 2 * 0.25 * math.log(2)
    empty_terms = 2 * (1e-4 - 0.25) * math.log(1e-4 / 0.25)
    assert result["a"] == pytest.approx(half_terms + empty_terms)
    # b: one edge at 1; reference all in "≥ 1", current half there, half missing.
    missing = -0.5 * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert result["b"] == pytest.approx(missing)


def test_backlog_adds_opened_and_removes_closed_cases_day_by_day():
    assert metrics.backlog(5, opened=[3, 0, 2], closed=[1, 4, 0]) == [7, 3, 5]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (0.1, 0.5),  # 1 of 10: halfway through the 2 values under 1
        (0.2, 1.0),  # exactly at the first edge
        (0.5, 1.75),  # 5 of 10: 3 of the 4 values between 1 and 2
        (0.9, math.inf),  # 9 of 10: only 8 are under the last edge
    ],
)
def test_binned_quantile_interpolates_inside_the_bin(q, expected):
    # 10 values: 2 under 1, 6 under 2, 8 under 4.
    assert metrics.binned_quantile([1, 2, 4], [2, 6, 8], 10, q) == pytest.approx(
        expected
    )


def test_binned_quantile_is_nan_without_values():
    assert math.isnan(metrics.binned_quantile([1, 2], [0, 0], 0, 0.5))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_average_precision_and_roc_auc_match_scikit_learn(seed):
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.random(300), 1)  # many ties

    assert metrics.average_precision(y, s) == pytest.approx(
        average_precision_score(y, s)
    )
    assert metrics.roc_auc(y, s) == pytest.approx(roc_auc_score(y, s))


def test_model_metrics_on_a_small_holdout():
    result = metrics.model_metrics(np.array(Y), np.array(S), 2)

    assert result["p_at_k"] == 0.5
    assert result["brier"] == pytest.approx(np.mean((np.array(S) - np.array(Y)) ** 2))
    assert (result["rows"], result["frauds"]) == (5.0, 3.0)
    assert result["auc"] == metrics.roc_auc(Y, S)
