import pytest

from cases.schemas import OrderIn
from cases.services.feature_audit import features_mismatch_count, in_sample
from cases.services.intake import orders_ingest
from lab.demo_data import TRUTH_KEYS, generate_orders
from models_ml.models import Score


def _ingest_one_by_one(client, n: int) -> None:
    for row in generate_orders(n, seed=11, days=2):
        payload = OrderIn.model_validate(
            {k: v for k, v in row.items() if k not in TRUTH_KEYS}
        )
        orders_ingest(client, [payload], explain_all=False)


@pytest.mark.django_db
def test_served_features_match_the_backfill(client_and_token, active_version):
    client, _token = client_and_token
    _ingest_one_by_one(client, 60)

    report = features_mismatch_count(share=1.0)

    assert report.orders == 60
    assert report.mismatched == 0


@pytest.mark.django_db
def test_a_served_value_off_the_backfill_is_counted(client_and_token, active_version):
    client, _token = client_and_token
    _ingest_one_by_one(client, 20)
    score = Score.objects.order_by("id").last()
    score.features["seller_orders_30d"] += 1
    score.save()

    report = features_mismatch_count(share=1.0)

    assert report.mismatched == 1
    assert report.by_feature == {"seller_orders_30d": 1}


def test_sample_is_a_stable_share_of_keys():
    keys = [f"cus-{i}" for i in range(20_000)]

    picked = in_sample(keys, 0.1)

    assert 0.08 < picked.mean() < 0.12
    assert (in_sample(keys, 0.1) == picked).all()
    assert not in_sample(keys, 0.0).any()
