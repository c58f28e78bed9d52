from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from cases.datasets import _tables_orm, _tables_postgres
from cases.schemas import OrderIn
from cases.services.bulk import import_client, orders_bulk_load
from lab.demo_data import TRUTH_KEYS, generate_orders


@pytest.mark.django_db
@pytest.mark.parametrize("one_tenant", [False, True])
def test_copy_reader_gives_the_same_frames_as_the_orm_reader(one_tenant):
    rows = generate_orders(400, seed=9, days=5)
    rows[0]["account_created_at"] = None
    payloads = [
        OrderIn.model_validate({k: v for k, v in r.items() if k not in TRUTH_KEYS})
        for r in rows
    ]
    labels = [
        (
            r["order_id"],
            "fraud" if r["is_fraud"] else "legitimate",
            r["created_at"] + timedelta(hours=5, microseconds=999),
        )
        for r in rows[::2]
    ]
    orders_bulk_load(import_client(), payloads, labels)
    other = import_client("other-shop")  # another tenant, the same identifiers
    orders_bulk_load(other, payloads[:100], labels[:50])
    tenant_id = import_client().tenant_id if one_tenant else None

    orm_ids, orm_orders, orm_labels = _tables_orm(tenant_id)
    copy_ids, copy_orders, copy_labels = _tables_postgres(tenant_id)

    np.testing.assert_array_equal(orm_ids, copy_ids)
    pd.testing.assert_frame_equal(orm_orders, copy_orders, check_dtype=False)
    key = list(orm_labels.columns)
    pd.testing.assert_frame_equal(
        orm_labels.sort_values(key).reset_index(drop=True),
        copy_labels.sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )
    assert len(orm_ids) == (400 if one_tenant else 500)
    assert len(orm_labels) == (200 if one_tenant else 250)
