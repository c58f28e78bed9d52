"""The online path (tiles kept as orders and labels arrive) equals the offline
backfill (build_features over raw orders and labels) for every feature."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lab.demo_data import generate_orders
from models_ml.feature_spec import DAY, READ_HORIZON, WINDOWS, window_bounds
from models_ml.features import (
    ENTITIES,
    FEATURE_NAMES,
    HISTORY_COLUMNS,
    build_features,
    cents,
    order_new_cards,
)
from models_ml.frames import (
    ORDER_FIELDS,
    labels_frame,
    orders_frame,
    scope_entities,
    scoped,
)
from models_ml.tiles import (
    REACH,
    event_tiles,
    expiry,
    features_from_tiles,
    key_values_of,
    label_tiles,
    one_window_features,
    order_tiles,
    pieces,
    tile_rows,
)

HANDBOOK = Path(
    "/work/shared/data/fraud-handbook/transactions_2018-04-01_2018-09-04.parquet"
)
LABEL_DELAY = timedelta(days=2)


def _demo_stream(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = generate_orders(n, seed=seed, days=45)
    orders = orders_frame([[row[f] for f in ORDER_FIELDS] for row in rows])
    labels = labels_frame(
        (
            row["created_at"] + LABEL_DELAY,
            row["is_fraud"],
            row["customer_id"],
            row["card_fingerprint"],
            row["device_id"],
            row["seller_id"],
        )
        for row in rows[::2]
    )
    return orders, labels


@pytest.fixture(scope="module")
def handbook_stream() -> tuple[pd.DataFrame, pd.DataFrame]:
    """40 days of the fraud handbook's transactions at one terminal in eight."""
    if not HANDBOOK.exists():
        pytest.fail(
            f"the fraud handbook data is missing: {HANDBOOK} "
            "(see BENCHMARKS.md, Replay, for where it comes from)"
        )
    raw = pd.read_parquet(
        HANDBOOK,
        columns=["TX_DATETIME", "CUSTOMER_ID", "TERMINAL_ID", "TX_AMOUNT", "TX_FRAUD"],
    )
    raw = raw[(raw["TX_DATETIME"] < "2018-05-11") & (raw["TERMINAL_ID"] % 8 == 0)]
    times = raw["TX_DATETIME"].dt.tz_localize("UTC").dt.to_pydatetime()
    customers = raw["CUSTOMER_ID"].astype(str).to_numpy()
    terminals = raw["TERMINAL_ID"].astype(str).to_numpy()
    amounts = raw["TX_AMOUNT"].to_numpy()
    orders = orders_frame(
        [t, a, c, c, "", "", "", s, None, "", "", "", "web", 1]
        for t, a, c, s in zip(times, amounts, customers, terminals, strict=True)
    )
    labels = labels_frame(
        (t + timedelta(days=7), bool(f), c, c, "", s)
        for t, f, c, s in zip(times, raw["TX_FRAUD"], customers, terminals, strict=True)
    )
    return orders, labels


def _online(orders: pd.DataFrame, labels: pd.DataFrame, batch: int) -> pd.DataFrame:
    """Orders sent in time order, `batch` at a time; each label stored by the
    time it is known (labels known later in a batch's span are stored before
    it: tiles must not let them reach earlier orders)."""
    labels = labels.sort_values("known_ts", kind="stable").reset_index(drop=True)
    state: list[pd.DataFrame] = []
    known = 0
    frames = []
    for first in range(0, len(orders), batch):
        queries = orders.iloc[first : first + batch]
        now = int(queries["ts"].iloc[-1])
        due = int(np.searchsorted(labels["known_ts"].to_numpy(), now, "left"))
        if due > known:
            state.append(label_tiles(labels.iloc[known:due]))
            known = due
        stored = pd.concat(state) if state else label_tiles(labels.iloc[:0])
        if len(state) > 8:  # keep the test fast: merge the stored tiles
            keys = ["key", "value", "res", "start"]
            state = [stored.groupby(keys, sort=False).sum().reset_index()]
        features, deltas = features_from_tiles(stored, queries, fresh=True)
        state.append(deltas)
        frames.append(features)
    return pd.concat(frames)


def _assert_equal(online: pd.DataFrame, offline: pd.DataFrame) -> None:
    assert list(online.columns) == FEATURE_NAMES
    for name in FEATURE_NAMES:
        np.testing.assert_allclose(
            online[name].to_numpy(),
            offline[name].to_numpy(),
            rtol=0,
            atol=1e-9,
            equal_nan=True,
            err_msg=name,
        )


def test_online_tiles_equal_offline_backfill_on_demo_orders():
    orders, labels = _demo_stream(2000, seed=5)

    online = _online(orders, labels, batch=40)
    offline = build_features(orders[HISTORY_COLUMNS], orders, labels)

    _assert_equal(online, offline)
    # The comparison means something: the windows hold orders, labels, new cards.
    assert offline["seller_orders_30d"].max() > 50
    assert offline["seller_fraud_labels_7d"].max() > 0
    assert offline["device_new_cards_30d"].max() > 1
    assert offline["seller_fraud_labels_21_30d"].max() > 0
    assert offline["customer_mean_amount_14_30d"].notna().any()


def test_stored_orders_read_from_tiles_equal_offline_backfill():
    """Re-scoring: every order and label is stored, later ones included."""
    orders, labels = _demo_stream(1500, seed=6)
    stored = pd.concat(
        [order_tiles(orders, order_new_cards(orders)), label_tiles(labels)]
    )
    online, deltas = features_from_tiles(stored, orders, fresh=False)

    _assert_equal(online, build_features(orders[HISTORY_COLUMNS], orders, labels))
    assert deltas.empty


@pytest.mark.slow
def test_online_tiles_equal_offline_backfill_on_handbook_slice(handbook_stream):
    orders, labels = handbook_stream

    online = _online(orders, labels, batch=500)
    offline = build_features(orders[HISTORY_COLUMNS], orders, labels)

    _assert_equal(online, offline)
    assert offline["seller_fraud_labels_30d"].max() > 0


def _key_values(orders: pd.DataFrame) -> list[dict[str, str]]:
    columns = [c for c in ENTITIES.values() if c in orders.columns]
    return [
        key_values_of(dict(zip(columns, row, strict=True)))
        for row in orders[columns].itertuples(index=False, name=None)
    ]


def test_one_order_read_equals_offline_backfill():
    """Single-order intake sums tile rows without frames; same features."""
    orders, labels = _demo_stream(1000, seed=7)
    stored = pd.concat(
        [order_tiles(orders, order_new_cards(orders)), label_tiles(labels)]
    )
    rows = tile_rows(stored)
    offline = build_features(orders[HISTORY_COLUMNS], orders, labels)
    values = _key_values(orders)

    for i in range(0, len(orders), 15):
        online = one_window_features(int(orders["ts"].iloc[i]), values[i], rows)
        for name, value in online.items():
            np.testing.assert_allclose(
                value, offline[name].iloc[i], rtol=0, atol=1e-9, err_msg=name
            )
    assert offline["seller_fraud_rate_30d"].iloc[::15].max() > 0


def test_tile_deltas_as_rows_equal_the_frame_deltas():
    orders, labels = _demo_stream(800, seed=8)
    new_cards = order_new_cards(orders)
    order_events = [
        (int(ts), values, {"n": 1, "cents": int(c), "new_cards": int(nc)})
        for ts, values, c, nc in zip(
            orders["ts"], _key_values(orders), cents(orders["amount"]), new_cards
        )
    ]
    label_events = [
        (int(ts), values, {"labels": 1, "frauds": int(fraud)})
        for ts, values, fraud in zip(
            labels["known_ts"], _key_values(labels), labels["is_fraud"]
        )
    ]

    assert event_tiles(order_events, "orders") == tile_rows(
        order_tiles(orders, new_cards)
    )
    assert event_tiles(label_events, "labels") == tile_rows(label_tiles(labels))


def _tenant_stream(tenant: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = generate_orders(700, seed=seed, days=45)
    orders = scope_entities(
        orders_frame([[row[f] for f in ORDER_FIELDS] for row in rows]),
        [tenant] * len(rows),
    )
    labels = labels_frame(
        (
            row["created_at"] + LABEL_DELAY,
            row["is_fraud"],
            row["customer_id"],
            row["card_fingerprint"],
            row["device_id"],
            row["seller_id"],
        )
        for row in rows[::2]
    )
    return orders, scope_entities(labels, [tenant] * len(labels))


def test_two_tenants_online_equals_offline_and_neither_sees_the_other():
    """Two tenants whose customers, cards, devices and sellers carry the same
    identifiers, interleaved in one stream: the online tiles equal the
    backfill, and each tenant's features equal those of its stream alone."""
    a_orders, a_labels = _tenant_stream(1, seed=21)
    b_orders, b_labels = _tenant_stream(2, seed=22)
    shared = set(a_orders["seller_id"].str.split("\x1e").str[1]) & set(
        b_orders["seller_id"].str.split("\x1e").str[1]
    )
    assert shared  # the same raw seller ids in both tenants
    orders = pd.concat([a_orders, b_orders], keys=["a", "b"]).sort_values(
        "ts", kind="stable"
    )
    labels = pd.concat([a_labels, b_labels], ignore_index=True)

    online = _online(orders.reset_index(drop=True), labels, batch=40)
    offline = build_features(orders[HISTORY_COLUMNS], orders, labels)
    _assert_equal(online, offline)

    online.index = orders.index
    alone = build_features(a_orders[HISTORY_COLUMNS], a_orders, a_labels)
    _assert_equal(online.loc["a"].sort_index(), alone)
    assert alone["seller_orders_30d"].max() > 20


def test_scoped_and_scope_entities_agree():
    frame = pd.DataFrame(
        {"customer_id": ["c1", "", None, "c\x1f2"], "amount": [1.0, 2.0, 3.0, 4.0]}
    )
    tenants = [7, 7, 8, "9"]

    scope_entities(frame, tenants)

    expected = [scoped(t, v) for t, v in zip(tenants, ["c1", "", None, "c\x1f2"])]
    assert (
        frame["customer_id"].to_numpy(dtype=object, na_value=None).tolist() == expected
    )
    assert expected[0] == "7\x1ec1" and expected[1] == "" and expected[2] is None
    assert frame["amount"].tolist() == [1.0, 2.0, 3.0, 4.0]


LAGGED = [name for name, window in WINDOWS.items() if window.lag]


def test_lagged_windows_read_only_day_tiles_the_30_day_window_reads():
    """No new tile reads: a lagged window is whole day tiles, all among those
    the 30-day window of the same order reads, within the day tiles' reach."""
    rng = np.random.default_rng(3)
    t = 1_530_000_000_000 + np.concatenate(
        [np.arange(0, DAY, 60_000 * 7), rng.integers(0, 400 * DAY, 5000)]
    ).astype(np.int64)
    start30, end30 = window_bounds(t, "30d")
    (day_lo, day_hi) = next(
        (lo, hi) for res, lo, hi in pieces(start30, end30) if res == "d"
    )
    assert LAGGED
    for name in LAGGED:
        start, end = window_bounds(t, name)
        assert (end - start == WINDOWS[name].width).all(), name
        for res, lo, hi in pieces(start, end):
            if res != "d":
                assert (lo == hi).all(), (name, res)  # no minute or hour tile
            else:
                assert (lo >= day_lo).all() and (hi <= day_hi).all(), name
        assert (start >= end30 - REACH["d"]).all(), name


def _daily_stream(days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two customers at one seller, an order each a day at a drifting minute,
    every order labelled fraud 7 days later: every day tile holds events."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        [
            t0 + timedelta(days=i, minutes=(i * 53 + 700 * c) % 1440),
            10.0 + i + c,
            f"c{c}",
            f"c{c}",
            "",
            "",
            "",
            "s1",
            None,
            "",
            "",
            "",
            "web",
            1,
        ]
        for i in range(days)
        for c in (0, 1)
    ]
    orders = orders_frame(sorted(rows, key=lambda row: row[0]))
    labels = labels_frame(
        (row[0] + timedelta(days=7), True, row[2], row[3], "", row[7]) for row in rows
    )
    return orders, labels


def test_expired_tiles_change_no_lagged_feature_at_the_read_horizon():
    """Orders as old as READ_HORIZON still read their lagged windows whole from
    the tiles `expiry` keeps; expiring the first day tile they read changes them."""
    orders, labels = _daily_stream(50)
    newest = int(orders["ts"].max())
    recent = orders[orders["ts"] >= newest - READ_HORIZON]
    offline = build_features(orders[HISTORY_COLUMNS], orders, labels).loc[recent.index]

    def read(since: dict[str, int]) -> pd.DataFrame:
        stored = pd.concat(
            [
                order_tiles(orders, order_new_cards(orders), since),
                label_tiles(labels, since),
            ]
        )
        return features_from_tiles(stored, recent, fresh=False)[0]

    since = expiry(newest)
    _assert_equal(read(since), offline)
    # The oldest order's lagged windows start in the first day tiles kept.
    edge = min(int(window_bounds(recent["ts"].min(), w)[0]) for w in LAGGED)
    assert since["d"] <= edge < since["d"] + 2 * DAY
    assert (offline["seller_fraud_labels_21_30d"] > 0).all()

    too_late = read({**since, "d": edge + DAY})
    oldest = recent["ts"] == recent["ts"].min()
    for name in ("seller_fraud_labels_21_30d", "customer_mean_amount_14_30d"):
        assert too_late.loc[oldest, name].iloc[0] != offline.loc[oldest, name].iloc[0]
