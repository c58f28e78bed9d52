"""IPW estimates from the random audit."""

import math

import pytest

from dashboard.selectors import (
    audit,
)
from tests.dashboard.data import (
    D1,
    DAY1,
    reviewed,
    scored_order,
)

pytestmark = pytest.mark.django_db


def test_ipw_estimates_weight_audit_cases_by_one_over_pi(world):
    model_flag, queue = audit.ipw_estimates(DAY1)

    # Weights: o1, o5, o6 (audit, π = .25) 4 each; o2, o3 (queue) 1 each.
    # Frauds: o2 + o3 + o6 = 1 + 1 + 4 = 6.
    assert model_flag["est_frauds"] == 6.0
    # Model flag: o1 (decline, legit, 4), o2, o3 → precision 2/6, recall 2/6.
    assert model_flag["precision"] == pytest.approx(1 / 3)
    assert model_flag["recall"] == pytest.approx(1 / 3)
    # Review queue: o2, o3 → precision 1, recall 2/6.
    assert queue["precision"] == 1.0
    assert queue["recall"] == pytest.approx(1 / 3)
    assert (queue["audit_cases"], queue["audit_frauds"], queue["queue_cases"]) == (
        3,
        1,
        2,
    )


def test_ipw_estimates_leave_out_exploration_and_pending_cases(world):
    reviewed(scored_order(D1, 0.2), "exploration", "fraud", pi=0.5)
    reviewed(scored_order(D1, 0.2), "audit", "fraud", pi=0.25, status="qa")

    model_flag, _queue = audit.ipw_estimates(DAY1)

    assert model_flag["est_frauds"] == 6.0


def test_ipw_estimates_are_undefined_without_audit_cases():
    reviewed(scored_order(D1, 0.8), "high_risk", "fraud")

    model_flag, queue = audit.ipw_estimates(DAY1)

    assert (model_flag["queue_cases"], model_flag["audit_cases"]) == (1, 0)
    assert math.isnan(model_flag["recall"])
    assert math.isnan(queue["precision"])
