from datetime import timedelta

import pytest
from django.db import connection

from cases.schemas import OrderIn
from cases.services.bulk import import_client, orders_bulk_load
from cases.services.feature_rebuild import feature_tiles_rebuild
from lab.demo_data import TRUTH_KEYS, generate_orders


def _tiles() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT key, res, value, start, SUM(n), SUM(cents), SUM(new_cards),"
            " SUM(labels), SUM(frauds) FROM models_ml_featuretile"
            " GROUP BY key, res, value, start ORDER BY key, res, value, start"
        )
        return cursor.fetchall()


@pytest.mark.django_db
def test_rebuild_gives_the_tiles_that_loading_kept():
    rows = generate_orders(300, seed=4, days=5)
    payloads = [
        OrderIn.model_validate({k: v for k, v in r.items() if k not in TRUTH_KEYS})
        for r in rows
    ]
    labels = [
        (
            r["order_id"],
            "fraud" if r["is_fraud"] else "legitimate",
            r["created_at"] + timedelta(hours=3),
        )
        for r in rows[::3]
    ]
    client = import_client()
    orders_bulk_load(client, payloads[:150], labels)
    orders_bulk_load(client, payloads[150:], labels)
    kept = _tiles()

    events = feature_tiles_rebuild()

    assert events == 300 + 100
    assert kept and _tiles() == kept
