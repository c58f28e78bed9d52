from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from models_ml.features import DAY, HISTORY_COLUMNS, HOUR, build_features
from models_ml.frames import labels_frame, orders_frame, to_ms
from tests.factories import BASE_TIME


def _order(minutes: float, amount: float = 10.0, **entities: str) -> list:
    defaults = {
        "customer_id": "c1",
        "card_fingerprint": "k1",
        "device_id": "d1",
        "ip_address": "1.1.1.1",
        "email": "a@x",
        "seller_id": "s1",
    }
    defaults.update(entities)
    return [
        BASE_TIME + timedelta(minutes=minutes),
        amount,
        *defaults.values(),
        BASE_TIME - timedelta(days=10),
        "DE",
        "DE",
        "DE",
        "web",
        1,
    ]


def _features(
    history_rows: list, query_rows: list, label_rows: list = ()
) -> pd.DataFrame:
    history = orders_frame(history_rows)
    queries = orders_frame(query_rows)
    labels = labels_frame(label_rows)
    return build_features(history[HISTORY_COLUMNS], queries, labels)


def test_windows_count_only_strictly_earlier_orders():
    earlier = [_order(-90), _order(-30), _order(-1)]
    query = _order(0)
    later = [_order(0), _order(5)]  # same instant and later: invisible

    f = _features([*earlier, *later, query], [query]).iloc[0]

    assert f["device_orders_1h"] == 2  # -30 and -1 minutes
    assert f["device_orders_1d"] == 3
    assert f["customer_mean_amount_1d"] == 10.0


def test_window_sums_give_customer_mean_and_amount_ratio():
    rows = [_order(-60 * 24 * 3, 20.0), _order(-60 * 24 * 2, 40.0)]
    query = _order(0, 90.0)

    f = _features([*rows, query], [query]).iloc[0]

    assert f["customer_mean_amount_30d"] == pytest.approx(30.0)
    assert f["amount_vs_customer_mean_30d"] == pytest.approx(3.0)
    assert np.isnan(f["customer_mean_amount_1d"])


def test_entities_do_not_leak_into_each_other():
    rows = [_order(-5, device_id="other", card_fingerprint="k2")]
    query = _order(0)

    f = _features([*rows, query], [query]).iloc[0]

    assert f["device_orders_1h"] == 0
    assert f["customer_orders_1h"] == 1
    assert f["device_card_seen_30d"] == 0
    assert f["customer_device_seen_30d"] == 0


def test_missing_entity_gives_nan_not_zero():
    query = _order(0, device_id="")

    f = _features([query], [query]).iloc[0]

    assert np.isnan(f["device_orders_1h"])
    assert f["customer_orders_1h"] == 0


def test_labels_count_only_once_known():
    query = _order(0)
    t = BASE_TIME
    labels = [
        (t - timedelta(hours=1), True, "c9", "k9", "d9", "s1"),  # known before: counts
        (t + timedelta(hours=1), True, "c9", "k9", "d9", "s1"),  # known after: not
        (t - timedelta(hours=2), False, "c9", "k9", "d9", "s1"),
    ]

    f = _features([query], [query], labels).iloc[0]

    assert f["seller_fraud_labels_30d"] == 1
    assert f["seller_fraud_rate_30d"] == pytest.approx(0.5)
    assert np.isnan(f["device_fraud_rate_30d"])


def test_device_new_cards_counts_cards_new_to_the_device():
    rows = [
        _order(-60 * 24 * 45, card_fingerprint="old"),
        _order(-60 * 24 * 10, card_fingerprint="old"),  # seen 35 days before: new again
        _order(-60, card_fingerprint="k2"),
        _order(-30, card_fingerprint="k2"),  # seen 30 minutes before: not new
    ]
    query = _order(0)

    f = _features([*rows, query], [query]).iloc[0]

    assert f["device_new_cards_30d"] == 2


def test_features_do_not_change_when_future_orders_arrive():
    past = [_order(-m, float(m)) for m in range(1, 200, 7)]
    query = _order(0, 55.0)
    future = [_order(m, 999.0) for m in range(1, 100, 3)]

    now = _features([*past, query], [query])
    later = _features([*past, query, *future], [query])

    pd.testing.assert_frame_equal(now, later)


def test_exact_millisecond_times():
    moment = BASE_TIME + timedelta(microseconds=999)
    assert to_ms(moment) == to_ms(BASE_TIME)
    assert to_ms(BASE_TIME + timedelta(milliseconds=1)) - to_ms(BASE_TIME) == 1
    assert HOUR * 24 == DAY


def test_lagged_window_counts_only_labels_known_21_to_30_days_ago():
    query = _order(0)

    def fraud(days_ago: float) -> tuple:
        return (BASE_TIME - timedelta(days=days_ago), True, "c9", "k9", "d9", "s1")

    labels = [fraud(d) for d in (2, 20, 25, 29, 35)]

    f = _features([query], [query], labels).iloc[0]

    assert f["seller_fraud_labels_21_30d"] == 2  # 25 and 29 days ago
    assert f["seller_fraud_labels_30d"] == 4


def test_lagged_mean_leaves_out_the_last_14_days():
    day = 60 * 24
    rows = [
        _order(-20 * day, 20.0),
        _order(-16 * day, 40.0),
        _order(-3 * day, 500.0),  # a leak's ×5 amount: not in the lagged mean
    ]
    query = _order(0, 90.0)

    f = _features([*rows, query], [query]).iloc[0]

    assert f["customer_mean_amount_14_30d"] == pytest.approx(30.0)
    assert f["amount_vs_customer_mean_14_30d"] == pytest.approx(3.0)
    assert f["customer_mean_amount_30d"] == pytest.approx(560 / 3)
    assert f["card_mean_amount_14_30d"] == pytest.approx(30.0)
