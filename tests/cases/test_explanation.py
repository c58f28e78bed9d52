"""A score's reasons in probability points, for a reviewer."""

import math

import pytest

from cases.charts import REST_TEXT, explanation_build, percent_text


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _reason(text: str, contribution: float, value: float | None = 1.0) -> dict:
    return {"feature": "f", "text": text, "contribution": contribution, "value": value}


def test_points_are_what_the_score_would_lose_without_the_reason():
    base, reasons = -3.0, [_reason("new account", 2.0), _reason("old card", -0.5)]
    p = _sigmoid(base + 1.5)

    explanation = explanation_build(base, reasons, p)

    new_account, old_card = explanation.evidence
    assert new_account.points == pytest.approx(100 * (p - _sigmoid(-3.5)), abs=0.05)
    assert old_card.points == pytest.approx(100 * (p - _sigmoid(-1.0)), abs=0.05)
    assert (new_account.raises, old_card.raises) == (True, False)
    assert explanation.rest is None
    assert explanation.base_probability == pytest.approx(_sigmoid(-3.0))


def test_reasons_are_ranked_by_strength_with_words_for_it():
    base = -4.0
    reasons = [_reason("weak", 0.1), _reason("strong", 3.0), _reason("medium", -0.5)]

    explanation = explanation_build(base, reasons, _sigmoid(base + 2.6))

    assert [r.text for r in explanation.evidence] == ["strong", "medium", "weak"]
    assert [r.strength for r in explanation.evidence] == [
        "strongly",
        "clearly",
        "slightly",
    ]
    assert explanation.evidence[0].bar == 100.0


def test_missing_data_is_listed_apart_from_evidence():
    reasons = [_reason("new account", 1.0), _reason("no history", 0.8, value=None)]

    explanation = explanation_build(-2.0, reasons, _sigmoid(-0.2))

    assert [r.text for r in explanation.evidence] == ["new account"]
    assert [r.text for r in explanation.missing] == ["no history"]


def test_features_outside_the_top_reasons_get_one_last_line():
    explanation = explanation_build(-2.0, [_reason("new account", 1.0)], _sigmoid(0.0))

    assert explanation.rest is not None
    assert explanation.rest.text == REST_TEXT
    assert explanation.rest.raises


@pytest.mark.parametrize(
    ("p", "text"), [(0.898, "90 %"), (0.032, "3.2 %"), (0.00041, "0.041 %"), (0, "0 %")]
)
def test_percentages_keep_two_significant_digits_below_ten(p, text):
    assert percent_text(p) == text
