"""Features recomputed for training equal those computed at intake."""

from datetime import timedelta

import numpy as np
import pytest

from cases.datasets import training_set
from cases.models import Label, Order
from cases.schemas import OrderIn
from cases.services.clients import api_client_create
from cases.services.intake import orders_ingest
from lab.demo_data import TRUTH_KEYS, generate_orders
from models_ml.feature_state import labels_record
from models_ml.features import FEATURE_NAMES
from models_ml.models import Score

LABEL_DELAY = timedelta(hours=6)


@pytest.mark.django_db
@pytest.mark.slow
def test_training_features_equal_intake_features(client_and_token, active_version):
    """Two tenants whose entities carry the same identifiers, interleaved."""
    client, _token = client_and_token
    other, _token = api_client_create("other-tenant")
    rows = sorted(
        [{**r, "client": client} for r in generate_orders(200, seed=3, days=2)]
        + [{**r, "client": other} for r in generate_orders(100, seed=4, days=2)],
        key=lambda r: r["created_at"],
    )
    pending: list[tuple] = []  # (order, is_fraud, known_at) not yet in the database
    batch: list[dict] = []

    def send(batch: list[dict]) -> None:
        for sender in (client, other):
            mine = [r for r in batch if r["client"] == sender]
            payloads = [
                OrderIn.model_validate(
                    {k: v for k, v in r.items() if k not in (*TRUTH_KEYS, "client")}
                )
                for r in mine
            ]
            results = orders_ingest(sender, payloads, explain_all=False)
            pending.extend(
                (res.order, row["is_fraud"], row["created_at"] + LABEL_DELAY)
                for res, row in zip(results, mine, strict=True)
            )

    # Orders go in batches of up to 5, cut wherever a label becomes known, so
    # every label is in the database exactly from its known_at on.
    for row in rows:
        if len(batch) == 5 or any(p[2] < row["created_at"] for p in pending):
            send(batch)
            batch = []
            _store_labels_known_before(row["created_at"], pending)
        batch.append(row)
    send(batch)
    _store_labels_known_before(rows[-1]["created_at"] + 2 * LABEL_DELAY, pending)

    sets = [training_set(client.tenant_id), training_set(other.tenant_id)]

    assert [len(d.order_ids) for d in sets] == [200, 100]
    stored = {
        s.order_id: [s.features[name] for name in FEATURE_NAMES]
        for s in Score.objects.all()
    }
    for data in sets:
        intake = np.array([stored[i] for i in data.order_ids], dtype=float)
        recomputed = data.features.to_numpy(dtype=float)
        np.testing.assert_array_equal(recomputed, intake)
    # The comparison covers label features too: some are non-zero.
    assert np.nanmax(sets[0].features["seller_fraud_labels_30d"]) > 0
    # Both tenants have sellers of the same ids, and neither counted the other's.
    sellers = set(Order.objects.values_list("tenant_id", "seller_id"))
    assert len({seller for _tenant, seller in sellers}) < len(sellers)


def _store_labels_known_before(moment, pending: list[tuple]) -> None:
    due = [p for p in pending if p[2] < moment]
    labels = [
        Label(
            order=order,
            value="fraud" if is_fraud else "legitimate",
            source="chargeback" if is_fraud else "merchant",
            known_at=known_at,
        )
        for order, is_fraud, known_at in due
    ]
    Label.objects.bulk_create(labels)
    labels_record(labels)
    pending[:] = [p for p in pending if p[2] >= moment]
