"""Model versions' live metrics, score and feature drift."""

import math
from datetime import date

import pytest

from dashboard.selectors import (
    drift,
)
from models_ml.models import ModelVersion
from tests.dashboard.data import (
    D0,
    D1,
    DAY1,
    at,
    label,
    scored_order,
)
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def _training_orders(version: ModelVersion) -> None:
    """Ten orders in the training window scored .05, .15, … .95 (one per
    decile), with amounts 10, 20, … 100."""
    for i in range(10):
        scored_order(
            date(2026, 2, 20),
            0.05 + 0.1 * i,
            version=version,
            features={"amount": 10.0 * (i + 1), "hour": None},
        )


def test_training_window_is_the_30_days_before_the_version(active):
    window = drift.training_window(active)

    assert (window.first, window.last) == (date(2026, 1, 31), D0)


def test_score_drift_against_the_training_window_deciles(active):
    _training_orders(active)
    for p in (0.97, 0.98, 0.99):
        scored_order(D1, p, version=active, features={"amount": 100.0})
    reference = drift.drift_reference(active)

    (day,) = drift.score_drift(DAY1, reference, min_scores=1)

    # Reference: one score per decile bin (share .1 each); the day: all three
    # in the top bin. PSI = 9 · (1e-4 − .1) · ln(1e-4 / .1) + .9 · ln(1 / .1).
    expected = 9 * (1e-4 - 0.1) * math.log(1e-4 / 0.1) + 0.9 * math.log(10)
    assert day["scored"] == 3
    assert day["psi"] == pytest.approx(expected)


def test_score_drift_skips_days_with_too_few_scores(active):
    _training_orders(active)
    scored_order(D1, 0.5, version=active)

    (day,) = drift.score_drift(DAY1, drift.drift_reference(active))

    assert day["scored"] == 1
    assert math.isnan(day["psi"])


def test_feature_drift_per_feature_of_the_active_version(active):
    _training_orders(active)
    for _ in range(3):
        scored_order(D1, 0.5, version=active, features={"amount": 100.0})

    amount, hour = drift.feature_drift(DAY1, drift.drift_reference(active))

    # amount: same as the score case, all current values in the top decile.
    expected = 9 * (1e-4 - 0.1) * math.log(1e-4 / 0.1) + 0.9 * math.log(10)
    assert (amount["feature"], amount["psi"]) == ("amount", pytest.approx(expected))
    assert (amount["reference_mean"], amount["current_mean"]) == (55.0, 100.0)
    # hour: missing in both windows, so all in the missing bin.
    assert (hour["feature"], hour["psi"], hour["current_missing"]) == ("hour", 0, 1.0)


def test_active_version_is_none_without_one():
    ModelVersion.objects.create(
        tenant=TenantFactory(), status=ModelVersion.Status.RETIRED
    )

    assert drift.active_version(None) is None


def test_training_window_ends_at_the_newest_labelled_order_before_training(active):
    """History loaded in bulk is dated long before the version was trained:
    the window follows the orders, not the version's own date."""
    old = scored_order(date(2026, 1, 10), 0.5)
    label(old, "fraud", "chargeback", known_at=at(date(2026, 1, 20)))
    scored_order(date(2026, 1, 25), 0.5)  # unlabelled: not learnt from

    window = drift.training_window(active)

    assert (window.first, window.last) == (date(2025, 12, 12), date(2026, 1, 10))


def test_drift_reference_is_empty_when_the_training_window_has_no_scores(active):
    reference = drift.drift_reference(active)

    assert reference.empty
    assert reference.version == active


def test_model_version_metrics_holdout_and_live(active):
    retired = ModelVersion.objects.create(
        tenant=TenantFactory(), status=ModelVersion.Status.RETIRED
    )
    ModelVersion.objects.create(
        tenant=TenantFactory(), status=ModelVersion.Status.FAILED
    )
    fraud = scored_order(D1, 0.9, version=active)
    label(fraud, "fraud", "chargeback")
    scored_order(D1, 0.2, version=active)
    scored_order(D1, 0.4, version=retired)

    rows = {r["version"]: r for r in drift.model_version_metrics(DAY1)}

    old, new = rows[f"v{retired.pk}"], rows[f"v{active.pk}"]
    assert len(rows) == 2  # the failed version is left out
    assert (old["scored"], math.isnan(old["holdout_ap"])) == (1, True)
    assert (new["holdout_ap"], new["holdout_auc"], new["scored"]) == (0.5, 0.8, 2)
    assert (new["live_ap"], new["live_auc"], new["sample_frauds"]) == (1.0, 1.0, 1)
