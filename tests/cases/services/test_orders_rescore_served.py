"""Re-scoring after a promotion reuses the feature vector an order was served
with (same feature version) and reads the tiles only for the others."""

import pytest

from cases.services.rescoring import orders_rescore
from models_ml import feature_state
from models_ml.features import FEATURE_NAMES, FEATURE_VERSION
from models_ml.models import Score
from tests.factories import OrderFactory

MARK = 123456.0  # no feature of a factory order has this value


def _served(order, version: str) -> dict:
    (features,) = feature_state.features_online([order]).to_dict("records")
    vector = {n: None if v != v else float(v) for n, v in features.items()}
    vector["amount"] = MARK
    Score.objects.create(
        order=order,
        probability=0.5,
        decision="review",
        features=vector,
        feature_version=version,
    )
    return vector


@pytest.mark.django_db
def test_rescoring_reuses_the_served_vector_of_this_feature_version(
    active_version, monkeypatch
):
    orders = [OrderFactory() for _ in range(3)]
    served = [_served(o, FEATURE_VERSION) for o in orders]

    def no_tiles(_orders):
        raise AssertionError("features recomputed from the tiles")

    monkeypatch.setattr("cases.services.scoring.features_online", no_tiles)

    assert orders_rescore([o.pk for o in orders]) == 3

    for order, vector in zip(orders, served, strict=True):
        latest = Score.objects.filter(order=order).latest("id")
        assert latest.model_version_id == active_version.pk
        assert latest.features == vector
        assert latest.feature_version == FEATURE_VERSION


@pytest.mark.django_db
def test_rescoring_reads_the_tiles_without_a_usable_stored_vector(active_version):
    stale, unscored = OrderFactory(), OrderFactory()
    _served(stale, "older-spec")

    assert orders_rescore([stale.pk, unscored.pk]) == 2

    for order in (stale, unscored):
        latest = Score.objects.filter(order=order).latest("id")
        (online,) = feature_state.features_online([order]).to_dict("records")
        assert latest.features["amount"] == float(order.amount) != MARK
        assert [latest.features[n] for n in FEATURE_NAMES] == [
            None if online[n] != online[n] else online[n] for n in FEATURE_NAMES
        ]
        assert latest.feature_version == FEATURE_VERSION
