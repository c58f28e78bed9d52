"""Point-in-time features for orders. Pure: frames in, frames out, no database.

The same function serves intake (a few query orders against the history fetched
for their entities) and training (every labelled order against all orders).
A feature at time t sees only orders created strictly before t and labels known
strictly before t, so a model never learns from the future.

Counts for an entity over a window are found with two binary searches in the
history sorted by (entity, time), and sums with a cumulative sum: O(n log n).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

HOUR = 3_600_000  # times are integer milliseconds since the epoch
DAY = 24 * HOUR
WINDOWS: dict[str, int] = {"1h": HOUR, "1d": DAY, "7d": 7 * DAY, "30d": 30 * DAY}
WINDOW_WORDS = {"1h": "hour", "1d": "24 hours", "7d": "7 days", "30d": "30 days"}

# Entity columns of an order, and the words a reviewer uses for them.
ENTITIES: dict[str, str] = {
    "customer": "customer_id",
    "card": "card_fingerprint",
    "device": "device_id",
    "ip": "ip_address",
    "email": "email",
    "seller": "seller_id",
}
ENTITY_WORDS = {
    "customer": "customer",
    "card": "card",
    "device": "device",
    "ip": "IP address",
    "email": "email address",
    "seller": "seller",
}
# Pairs whose absence in the last 30 days means "new card/device here".
PAIRS: dict[str, tuple[str, str]] = {
    "device_card": ("device_id", "card_fingerprint"),
    "customer_device": ("customer_id", "device_id"),
    "customer_card": ("customer_id", "card_fingerprint"),
}
MEAN_ENTITIES = ("customer", "card", "seller")
LABEL_ENTITIES = ("customer", "card", "device", "seller")
LABEL_WINDOW = "30d"
CHANNELS = ("web", "app", "phone", "pos", "other")

HISTORY_COLUMNS = ["ts", "amount", *ENTITIES.values()]
ORDER_COLUMNS = [
    *HISTORY_COLUMNS,
    "account_created_ts",
    "card_country",
    "billing_country",
    "shipping_country",
    "channel",
    "item_count",
]
LABEL_COLUMNS = ["known_ts", "is_fraud", *(ENTITIES[e] for e in LABEL_ENTITIES)]


def lookback_ms(entity_column: str) -> int:
    """How far back intake must fetch history for this column to be exact."""
    # "New card on this device" flags look 30 days behind each device order.
    return 60 * DAY if entity_column == "device_id" else 30 * DAY


def _order_features() -> list[str]:
    return [
        "amount",
        "hour",
        "is_weekend",
        "is_night",
        "account_age_days",
        "billing_shipping_mismatch",
        "card_billing_mismatch",
        "channel_code",
        "item_count",
        "amount_vs_customer_mean_30d",
    ]


def _entity_features() -> list[str]:
    names = [f"{e}_orders_{w}" for e in ENTITIES for w in WINDOWS]
    names += [f"{e}_mean_amount_{w}" for e in MEAN_ENTITIES for w in ("1d", "30d")]
    names += [f"{p}_seen_30d" for p in PAIRS]
    names.append("device_new_cards_30d")
    return names


def _label_features() -> list[str]:
    names = []
    for e in LABEL_ENTITIES:
        names += [f"{e}_fraud_labels_30d", f"{e}_fraud_rate_30d"]
    return names


FEATURE_NAMES: list[str] = _order_features() + _entity_features() + _label_features()


def empty_history() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in HISTORY_COLUMNS})


def empty_labels() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in LABEL_COLUMNS})


def _dtype(column: str) -> str:
    if column in ("ts", "known_ts", "account_created_ts"):
        return "int64"
    if column in ("amount",):
        return "float64"
    if column == "is_fraud":
        return "bool"
    return "object"


@dataclass(frozen=True)
class _Index:
    """Events sorted by (key, time), searchable for counts and sums in windows."""

    keys: np.ndarray  # sorted composite key: code * span + (time - t0)
    cumsums: dict[str, np.ndarray]
    codes: dict[object, int]
    t0: int
    span: int

    @classmethod
    def build(
        cls,
        keys: pd.Series,
        times: np.ndarray,
        values: dict[str, np.ndarray],
        t0: int,
        span: int,
    ) -> _Index:
        present = _present(keys)
        codes, uniques = pd.factorize(keys[present], sort=False)
        composite = codes.astype(np.int64) * span + (times[present] - t0)
        order = np.argsort(composite, kind="stable")
        cumsums = {
            name: np.concatenate([np.zeros(1, v.dtype), np.cumsum(v[present][order])])
            for name, v in values.items()
        }
        return cls(
            keys=composite[order],
            cumsums=cumsums,
            codes={u: i for i, u in enumerate(uniques)},
            t0=t0,
            span=span,
        )

    def window(
        self, keys: pd.Series, times: np.ndarray, width: int | None
    ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
        """Count and sums of events with the same key in [t - width, t)."""
        codes = keys.map(self.codes)
        known = codes.notna().to_numpy()
        code = np.where(known, codes.fillna(0).to_numpy(dtype=np.int64), 0)
        hi_key = code * self.span + (times - self.t0)
        lo_time = np.zeros_like(times) if width is None else times - width - self.t0
        lo_key = code * self.span + np.maximum(lo_time, 0)
        hi = np.searchsorted(self.keys, hi_key, side="left")
        lo = np.searchsorted(self.keys, lo_key, side="left")
        count = np.where(known, hi - lo, 0)
        sums = {
            name: np.where(known, cs[hi] - cs[lo], 0)
            for name, cs in self.cumsums.items()
        }
        return count, sums, _present(keys)


def _present(values: pd.Series) -> np.ndarray:
    return (values.notna() & (values.astype("object") != "")).to_numpy()


def _pair(frame: pd.DataFrame, a: str, b: str) -> pd.Series:
    ok = _present(frame[a]) & _present(frame[b])
    joined = (
        frame[a].astype("object").astype(str)
        + "\x1f"
        + frame[b].astype("object").astype(str)
    )
    return joined.where(ok, None)


def build_features(
    history: pd.DataFrame, queries: pd.DataFrame, labels: pd.DataFrame
) -> pd.DataFrame:
    """Features for each row of `queries`, in FEATURE_NAMES order.

    `history` holds orders (HISTORY_COLUMNS; it may include the queries
    themselves), `queries` the orders to describe (ORDER_COLUMNS) and `labels`
    one row per label event (LABEL_COLUMNS). Missing values are NaN.
    """
    q_ts = queries["ts"].to_numpy(dtype=np.int64)
    h_ts = history["ts"].to_numpy(dtype=np.int64)
    l_ts = labels["known_ts"].to_numpy(dtype=np.int64)
    all_ts = np.concatenate([q_ts, h_ts, l_ts])
    if len(all_ts) == 0:
        return pd.DataFrame(columns=FEATURE_NAMES, dtype=float)
    t0 = int(all_ts.min()) - 61 * DAY
    span = int(all_ts.max()) - t0 + 1
    out: dict[str, np.ndarray] = {}
    _add_order_features(out, queries, q_ts)
    _add_entity_features(out, history, queries, h_ts, q_ts, t0, span)
    _add_label_features(out, labels, queries, l_ts, q_ts, t0, span)
    mean = out["customer_mean_amount_30d"]
    with np.errstate(divide="ignore", invalid="ignore"):
        # A customer whose earlier orders were all free has no usual amount.
        out["amount_vs_customer_mean_30d"] = np.where(
            mean > 0, out["amount"] / mean, np.nan
        )
    frame = pd.DataFrame(out, index=queries.index)
    return frame[FEATURE_NAMES].astype(float)


def _add_order_features(out: dict, queries: pd.DataFrame, q_ts: np.ndarray) -> None:
    moments = pd.to_datetime(q_ts, unit="ms", utc=True)
    out["amount"] = queries["amount"].to_numpy(dtype=float)
    out["hour"] = moments.hour.to_numpy(dtype=float)
    out["is_weekend"] = (moments.day_of_week >= 5).astype(float)
    out["is_night"] = (moments.hour < 6).astype(float)
    created = queries["account_created_ts"].to_numpy(dtype=float)
    out["account_age_days"] = (q_ts - created) / DAY
    out["billing_shipping_mismatch"] = _mismatch(
        queries["billing_country"], queries["shipping_country"]
    )
    out["card_billing_mismatch"] = _mismatch(
        queries["card_country"], queries["billing_country"]
    )
    codes = {c: i for i, c in enumerate(CHANNELS)}
    out["channel_code"] = queries["channel"].map(codes).to_numpy(dtype=float)
    out["item_count"] = queries["item_count"].to_numpy(dtype=float)


def _mismatch(a: pd.Series, b: pd.Series) -> np.ndarray:
    both = _present(a) & _present(b)
    differ = (a.astype("object") != b.astype("object")).to_numpy()
    return np.where(both, differ.astype(float), np.nan)


def _add_entity_features(
    out: dict,
    history: pd.DataFrame,
    queries: pd.DataFrame,
    h_ts: np.ndarray,
    q_ts: np.ndarray,
    t0: int,
    span: int,
) -> None:
    # Whole cents: exact sums, so intake and training agree to the last bit.
    amounts = np.round(history["amount"].to_numpy(dtype=float) * 100).astype(np.int64)
    for entity, column in ENTITIES.items():
        index = _Index.build(history[column], h_ts, {"amount": amounts}, t0, span)
        for window, width in WINDOWS.items():
            count, sums, present = index.window(queries[column], q_ts, width)
            out[f"{entity}_orders_{window}"] = np.where(present, count, np.nan)
            if entity in MEAN_ENTITIES and window in ("1d", "30d"):
                with np.errstate(divide="ignore", invalid="ignore"):
                    mean = sums["amount"] / count / 100
                out[f"{entity}_mean_amount_{window}"] = np.where(
                    count > 0, mean, np.nan
                )
    for pair, (a, b) in PAIRS.items():
        index = _Index.build(_pair(history, a, b), h_ts, {}, t0, span)
        count, _, present = index.window(_pair(queries, a, b), q_ts, 30 * DAY)
        out[f"{pair}_seen_30d"] = np.where(present, (count > 0).astype(float), np.nan)
    out["device_new_cards_30d"] = _device_new_cards(
        history, queries, h_ts, q_ts, t0, span
    )


def _device_new_cards(
    history: pd.DataFrame,
    queries: pd.DataFrame,
    h_ts: np.ndarray,
    q_ts: np.ndarray,
    t0: int,
    span: int,
) -> np.ndarray:
    """Cards that appeared on the device (unseen there for 30 days) in 30 days."""
    pairs = _pair(history, "device_id", "card_fingerprint")
    pair_index = _Index.build(pairs, h_ts, {}, t0, span)
    seen_before, _, present = pair_index.window(pairs, h_ts, 30 * DAY)
    is_new = (present & (seen_before == 0)).astype(float)
    index = _Index.build(history["device_id"], h_ts, {"new": is_new}, t0, span)
    count, sums, present_q = index.window(queries["device_id"], q_ts, 30 * DAY)
    return np.where(present_q, sums["new"], np.nan)


def _add_label_features(
    out: dict,
    labels: pd.DataFrame,
    queries: pd.DataFrame,
    l_ts: np.ndarray,
    q_ts: np.ndarray,
    t0: int,
    span: int,
) -> None:
    fraud = labels["is_fraud"].to_numpy(dtype=float)
    width = WINDOWS[LABEL_WINDOW]
    for entity in LABEL_ENTITIES:
        column = ENTITIES[entity]
        index = _Index.build(labels[column], l_ts, {"fraud": fraud}, t0, span)
        count, sums, present = index.window(queries[column], q_ts, width)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(count > 0, sums["fraud"] / count, np.nan)
        out[f"{entity}_fraud_labels_30d"] = np.where(present, sums["fraud"], np.nan)
        out[f"{entity}_fraud_rate_30d"] = np.where(present, rate, np.nan)
