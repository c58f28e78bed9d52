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
MEAN_WINDOWS = ("1d", "7d", "30d")
# "Amount is n× this customer's (card's) usual" over these windows.
RATIO_ENTITIES = ("customer", "card")
LABEL_ENTITIES = ("customer", "card", "device", "seller")
# Label features look back over these windows of *known* time; the longest one
# (LABEL_WINDOW) is how far back intake fetches labels.
LABEL_WINDOWS = ("1d", "7d", "30d")
LABEL_WINDOW = "30d"
AMOUNT_STEPS_PER_DOUBLING = 24
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
        "amount_log_step",
        "hour",
        "is_weekend",
        "is_night",
        "account_age_days",
        "billing_shipping_mismatch",
        "card_billing_mismatch",
        "channel_code",
        "item_count",
    ]


def _entity_features() -> list[str]:
    names = [f"{e}_orders_{w}" for e in ENTITIES for w in WINDOWS]
    names += [f"{e}_mean_amount_{w}" for e in MEAN_ENTITIES for w in MEAN_WINDOWS]
    names += [f"amount_vs_{e}_mean_{w}" for e in RATIO_ENTITIES for w in MEAN_WINDOWS]
    names += [f"{p}_seen_30d" for p in PAIRS]
    names.append("device_new_cards_30d")
    return names


def _label_features() -> list[str]:
    names = []
    for e in LABEL_ENTITIES:
        for w in LABEL_WINDOWS:
            names += [f"{e}_fraud_labels_{w}", f"{e}_fraud_rate_{w}"]
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
    """Events sorted by (key code, time), searchable for counts and sums."""

    keys: np.ndarray  # sorted composite key: code * span + (time - t0)
    cumsums: dict[str, np.ndarray]
    t0: int
    span: int

    @classmethod
    def build(
        cls,
        codes: np.ndarray,
        times: np.ndarray,
        values: dict[str, np.ndarray],
        t0: int,
        span: int,
    ) -> _Index:
        present = codes >= 0
        composite = codes[present] * span + (times[present] - t0)
        order = np.argsort(composite, kind="stable")
        cumsums = {
            name: np.concatenate([np.zeros(1, v.dtype), np.cumsum(v[present][order])])
            for name, v in values.items()
        }
        return cls(keys=composite[order], cumsums=cumsums, t0=t0, span=span)

    def window(
        self, codes: np.ndarray, times: np.ndarray, width: int
    ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
        """Count and sums of events with the same key in [t - width, t).

        `codes` come from the same `_codes` call as the index's (-1: missing).
        """
        known = codes >= 0
        code = np.where(known, codes, 0)
        hi = np.searchsorted(self.keys, code * self.span + (times - self.t0), "left")
        lo_time = np.maximum(times - width - self.t0, 0)
        lo = np.searchsorted(self.keys, code * self.span + lo_time, "left")
        count = np.where(known, hi - lo, 0)
        sums = {
            name: np.where(known, cs[hi] - cs[lo], 0)
            for name, cs in self.cumsums.items()
        }
        return count, sums, known


def _values(column: pd.Series) -> np.ndarray:
    return column.to_numpy(dtype=object, na_value=None)


def _present(values: np.ndarray) -> np.ndarray:
    return (values != "") & (values != None)  # noqa: E711 - elementwise on objects


def _codes(*columns: pd.Series) -> list[np.ndarray]:
    """Integer codes for the values of several columns, shared: equal values get
    equal codes across columns; missing ("" or null) gets -1."""
    arrays = [_values(c) for c in columns]
    joined = np.concatenate(arrays) if arrays else np.empty(0, dtype=object)
    codes, _ = pd.factorize(joined, use_na_sentinel=True)
    codes = np.where(_present(joined), codes, -1).astype(np.int64)
    return np.split(codes, np.cumsum([len(a) for a in arrays])[:-1])


def _pair_codes(a: list[np.ndarray], b: list[np.ndarray]) -> list[np.ndarray]:
    """Codes of (a, b) pairs, shared across the arrays; -1 if either is missing."""
    width = max((int(x.max()) for x in b if len(x)), default=0) + 1
    combined = [np.where((x >= 0) & (y >= 0), x * width + y, -1) for x, y in zip(a, b)]
    joined = np.concatenate(combined)
    compact, _ = pd.factorize(joined)
    compact = np.where(joined >= 0, compact, -1).astype(np.int64)
    return np.split(compact, np.cumsum([len(c) for c in combined])[:-1])


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
    for entity in RATIO_ENTITIES:
        for window in MEAN_WINDOWS:
            mean = out[f"{entity}_mean_amount_{window}"]
            with np.errstate(divide="ignore", invalid="ignore"):
                # Earlier orders that were all free give no usual amount.
                out[f"amount_vs_{entity}_mean_{window}"] = np.where(
                    mean > 0, out["amount"] / mean, np.nan
                )
    frame = pd.DataFrame(out, index=queries.index)
    return frame[FEATURE_NAMES].astype(float)


def _add_order_features(out: dict, queries: pd.DataFrame, q_ts: np.ndarray) -> None:
    moments = pd.to_datetime(q_ts, unit="ms", utc=True)
    out["amount"] = queries["amount"].to_numpy(dtype=float)
    out["amount_log_step"] = amount_log_step(out["amount"])
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


def amount_log_step(amount: np.ndarray) -> np.ndarray:
    """The amount in steps of 1/AMOUNT_STEPS_PER_DOUBLING of a doubling, 0…254.

    Tree models bin each feature into at most 255 quantiles, so the rare large
    amounts share one bin and a threshold among them cannot be learnt. With at
    most 255 distinct values every step is a bin of its own: about 3 % wide
    from 1 up to the cap (about 1,500).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.round(AMOUNT_STEPS_PER_DOUBLING * np.log2(np.maximum(amount, 1.0)))
    return np.where(np.isnan(amount), np.nan, np.clip(steps, 0, 254))


def _mismatch(a: pd.Series, b: pd.Series) -> np.ndarray:
    left, right = _values(a), _values(b)
    both = _present(left) & _present(right)
    return np.where(both, (left != right).astype(float), np.nan)


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
    codes = {c: _codes(history[c], queries[c]) for c in ENTITIES.values()}
    for entity, column in ENTITIES.items():
        h_codes, q_codes = codes[column]
        index = _Index.build(h_codes, h_ts, {"amount": amounts}, t0, span)
        for window, width in WINDOWS.items():
            count, sums, present = index.window(q_codes, q_ts, width)
            out[f"{entity}_orders_{window}"] = np.where(present, count, np.nan)
            if entity in MEAN_ENTITIES and window in MEAN_WINDOWS:
                with np.errstate(divide="ignore", invalid="ignore"):
                    mean = sums["amount"] / count / 100
                out[f"{entity}_mean_amount_{window}"] = np.where(
                    count > 0, mean, np.nan
                )
    for pair, (a, b) in PAIRS.items():
        h_pairs, q_pairs = _pair_codes(codes[a], codes[b])
        index = _Index.build(h_pairs, h_ts, {}, t0, span)
        count, _, present = index.window(q_pairs, q_ts, 30 * DAY)
        out[f"{pair}_seen_30d"] = np.where(present, (count > 0).astype(float), np.nan)
    out["device_new_cards_30d"] = _device_new_cards(codes, h_ts, q_ts, t0, span)


def _device_new_cards(
    codes: dict[str, list[np.ndarray]],
    h_ts: np.ndarray,
    q_ts: np.ndarray,
    t0: int,
    span: int,
) -> np.ndarray:
    """Cards that appeared on the device (unseen there for 30 days) in 30 days."""
    h_pairs, _ = _pair_codes(codes["device_id"], codes["card_fingerprint"])
    pair_index = _Index.build(h_pairs, h_ts, {}, t0, span)
    seen_before, _, present = pair_index.window(h_pairs, h_ts, 30 * DAY)
    is_new = (present & (seen_before == 0)).astype(float)
    h_devices, q_devices = codes["device_id"]
    index = _Index.build(h_devices, h_ts, {"new": is_new}, t0, span)
    _count, sums, present_q = index.window(q_devices, q_ts, 30 * DAY)
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
    for entity in LABEL_ENTITIES:
        column = ENTITIES[entity]
        l_codes, q_codes = _codes(labels[column], queries[column])
        index = _Index.build(l_codes, l_ts, {"fraud": fraud}, t0, span)
        for window in LABEL_WINDOWS:
            count, sums, present = index.window(q_codes, q_ts, WINDOWS[window])
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = np.where(count > 0, sums["fraud"] / count, np.nan)
            out[f"{entity}_fraud_labels_{window}"] = np.where(
                present, sums["fraud"], np.nan
            )
            out[f"{entity}_fraud_rate_{window}"] = np.where(present, rate, np.nan)
