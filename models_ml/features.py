"""Point-in-time features for orders. Pure: frames in, frames out, no database.

This is the offline backfill: training sets, replay and the parity test compute
the features of many orders at once from raw orders and labels. Intake reads
the same entity-window features from tiles (`tiles`, `feature_state`); both
follow the declarations and time semantics of `feature_spec`: a feature at
time t sees orders created, and labels known, in [S, E) with E = t rounded down
to the minute, so an order never counts itself and nothing from the future.

Counts for a key over a window are found with two binary searches in the
events sorted by (key, time), and sums with a cumulative sum: O(n log n).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models_ml.feature_spec import (
    AGGREGATIONS,
    DAY,
    HOUR,  # noqa: F401 - re-exported
    KEY_WORDS,
    KEYS,
    LABEL_ENTITIES,
    LAGGED_MEAN_WINDOWS,
    MEAN_ENTITIES,
    MEAN_WINDOWS,
    NEW_CARD_SOURCE,
    TILE,
    WINDOW_FEATURES,
    WindowFeature,
    window_bounds,
)
from models_ml.feature_spec import (
    WINDOWS as WINDOW_SPECS,
)

WINDOWS: dict[str, int] = {name: w.width for name, w in WINDOW_SPECS.items()}
WINDOW_WORDS = {name: w.words for name, w in WINDOW_SPECS.items()}

# Entity columns of an order, and the words a reviewer uses for them.
ENTITIES: dict[str, str] = {k: cols[0] for k, cols in KEYS.items() if len(cols) == 1}
ENTITY_WORDS = KEY_WORDS
PAIRS: dict[str, tuple[str, str]] = {
    k: (cols[0], cols[1]) for k, cols in KEYS.items() if len(cols) == 2
}
# "Amount is n× this customer's (card's) usual" over these windows.
RATIO_ENTITIES = ("customer", "card")
LABEL_WINDOWS = ("1d", "7d", "30d")
LABEL_WINDOW = "30d"  # the longest: how far back a label read must reach
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
    """How far back a history read must reach for this column to be exact."""
    # 30-day windows start up to a day earlier (sawtooth); "new card on this
    # device" flags look 31 days behind each device order.
    return 62 * DAY if entity_column == "device_id" else 31 * DAY


ORDER_FEATURES = [
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
# Derived from a window feature and the order: the amount against the mean.
RATIO_FEATURES = [
    f"amount_vs_{e}_mean_{w}" for e in RATIO_ENTITIES for w in MEAN_WINDOWS
]
# Against a usual amount that ends 14 days ago (issue 12): the last column.
LAGGED_RATIO_FEATURES = [
    f"amount_vs_{e}_mean_{w}" for e in RATIO_ENTITIES for w in LAGGED_MEAN_WINDOWS
]


def _feature_names() -> list[str]:
    names = [*ORDER_FEATURES]
    for feature in WINDOW_FEATURES:
        names.append(feature.name)
        if feature.name == f"{MEAN_ENTITIES[-1]}_mean_amount_{MEAN_WINDOWS[-1]}":
            names += RATIO_FEATURES
    return [*names, *LAGGED_RATIO_FEATURES]


FEATURE_NAMES: list[str] = _feature_names()

# Bump when the code of an order-level feature changes its values; changes
# to the declarations (names, windows, aggregations) change the version alone.
FEATURE_CODE_REVISION = 1


def _feature_version() -> str:
    declared = [
        (f.name, WINDOW_SPECS[f.window], AGGREGATIONS[f.aggregation].fields)
        for f in WINDOW_FEATURES
    ]
    text = repr((FEATURE_CODE_REVISION, FEATURE_NAMES, declared, TILE))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# Stored with every served feature vector (Score.feature_version): a vector
# of this version can be reused as it is (re-scoring after a promotion).
FEATURE_VERSION = _feature_version()


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
class RangeIndex:
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
    ) -> RangeIndex:
        present = codes >= 0
        composite = codes[present] * span + (times[present] - t0)
        order = np.argsort(composite, kind="stable")
        cumsums = {
            name: np.concatenate([np.zeros(1, v.dtype), np.cumsum(v[present][order])])
            for name, v in values.items()
        }
        return cls(keys=composite[order], cumsums=cumsums, t0=t0, span=span)

    def range(
        self, codes: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Count ("count") and sums of events with the same key, lo ≤ time < hi.

        `codes` come from the same coding as the index's (-1: missing, giving 0).
        """
        known = codes >= 0
        code = np.where(known, codes, 0) * self.span
        top = np.searchsorted(self.keys, code + (hi - self.t0), "left")
        bottom = np.searchsorted(self.keys, code + np.maximum(lo - self.t0, 0), "left")
        out = {"count": np.where(known & (hi > lo), top - bottom, 0)}
        for name, cs in self.cumsums.items():
            out[name] = np.where(known & (hi > lo), cs[top] - cs[bottom], 0)
        return out


def _values(column: pd.Series) -> np.ndarray:
    values: np.ndarray = column.to_numpy(dtype=object, na_value=None)
    return values


def _present(values: np.ndarray) -> np.ndarray:
    present: np.ndarray = (values != "") & (values != None)  # noqa: E711 - elementwise
    return present


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
    """Features for each row of `queries`, in FEATURE_NAMES order: the offline
    backfill, vectorised over all queries at once.

    `history` holds orders (HISTORY_COLUMNS; it may include the queries
    themselves), `queries` the orders to describe (ORDER_COLUMNS) and `labels`
    one row per label event (LABEL_COLUMNS). Missing values are NaN. Window
    semantics: `feature_spec`.
    """
    q_ts = queries["ts"].to_numpy(dtype=np.int64)
    if len(q_ts) == 0:
        return pd.DataFrame(columns=FEATURE_NAMES, dtype=float)
    out: dict[str, np.ndarray] = {}
    add_order_features(out, queries)
    out.update(_window_features(history, queries, labels))
    return features_frame(out, queries.index)


def features_frame(out: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    """Order and window features → the FEATURE_NAMES frame (adds the ratios)."""
    for name in [*RATIO_FEATURES, *LAGGED_RATIO_FEATURES]:
        mean = out[name.replace("amount_vs_", "").replace("_mean_", "_mean_amount_")]
        with np.errstate(divide="ignore", invalid="ignore"):
            # Earlier orders that were all free give no usual amount.
            out[name] = np.where(mean > 0, out["amount"] / mean, np.nan)
    frame = pd.DataFrame(out, index=index)
    return frame[FEATURE_NAMES].astype(float)


def add_order_features(out: dict[str, np.ndarray], queries: pd.DataFrame) -> None:
    """The plain per-order features (no history)."""
    q_ts = queries["ts"].to_numpy(dtype=np.int64)
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
    differ: np.ndarray = left != right
    return np.where(both, differ.astype(float), np.nan)


def cents(amount: pd.Series) -> np.ndarray:
    """Amounts in whole cents: sums of cents are exact in any order."""
    amounts: np.ndarray = amount.to_numpy(dtype=float)
    return np.round(amounts * 100).astype(np.int64)


def _key_codes(
    history: pd.DataFrame, queries: pd.DataFrame, labels: pd.DataFrame
) -> dict[str, list[np.ndarray]]:
    """key → [history codes, query codes, label codes (entities of labels)]."""
    out: dict[str, list[np.ndarray]] = {}
    for key, columns in KEYS.items():
        if len(columns) == 1:
            column = columns[0]
            frames = [history[column], queries[column]]
            if column in labels.columns:
                frames.append(labels[column])
            out[key] = _codes(*frames)
    for key, (a, b) in PAIRS.items():
        out[key] = _pair_codes(out[_entity_of(a)][:2], out[_entity_of(b)][:2])
    return out


def _entity_of(column: str) -> str:
    return next(k for k, c in ENTITIES.items() if c == column)


def order_new_cards(history: pd.DataFrame) -> np.ndarray:
    """Per order of `history`: 1 if its card is new to its device (the pair
    not seen in its own 30-day window), else 0. Feeds device_new_cards_30d."""
    if len(history) == 0:
        return np.zeros(0, dtype=np.int64)
    h_ts = history["ts"].to_numpy(dtype=np.int64)
    t0, span = _time_frame(h_ts)
    a, b = PAIRS[NEW_CARD_SOURCE.key]
    (pair,) = _pair_codes(_codes(history[a]), _codes(history[b]))
    return _new_cards(pair, h_ts, t0, span)


def _new_cards(pair: np.ndarray, h_ts: np.ndarray, t0: int, span: int) -> np.ndarray:
    index = RangeIndex.build(pair, h_ts, {}, t0, span)
    lo, hi = window_bounds(h_ts, NEW_CARD_SOURCE.window)
    seen = index.range(pair, lo, hi)["count"]
    new: np.ndarray = (pair >= 0) & (seen == 0)
    return new.astype(np.int64)


def _time_frame(*times: np.ndarray) -> tuple[int, int]:
    joined = np.concatenate(times)
    t0 = int(joined.min()) - 64 * DAY
    return t0, int(joined.max()) - t0 + 1


def _window_features(
    history: pd.DataFrame, queries: pd.DataFrame, labels: pd.DataFrame
) -> dict[str, np.ndarray]:
    q_ts = queries["ts"].to_numpy(dtype=np.int64)
    h_ts = history["ts"].to_numpy(dtype=np.int64)
    l_ts = labels["known_ts"].to_numpy(dtype=np.int64)
    t0, span = _time_frame(q_ts, h_ts, l_ts)
    codes = _key_codes(history, queries, labels)
    h_cents = cents(history["amount"])
    new_cards = _new_cards(codes[NEW_CARD_SOURCE.key][0], h_ts, t0, span)
    fraud = labels["is_fraud"].to_numpy(dtype=np.int64)
    bounds = {w: window_bounds(q_ts, w) for w in WINDOWS}
    out: dict[str, np.ndarray] = {}
    for key in KEYS:
        features = [f for f in WINDOW_FEATURES if f.key == key]
        streams = {f.stream for f in features}
        if "orders" in streams:
            index = RangeIndex.build(
                codes[key][0],
                h_ts,
                {"cents": h_cents, "new_cards": new_cards},
                t0,
                span,
            )
            _fill(out, features, "orders", index, codes[key][1], bounds, "n")
        if "labels" in streams:
            index = RangeIndex.build(codes[key][2], l_ts, {"frauds": fraud}, t0, span)
            _fill(out, features, "labels", index, codes[key][1], bounds, "labels")
    return out


def _fill(
    out: dict[str, np.ndarray],
    features: list[WindowFeature],
    stream: str,
    index: RangeIndex,
    q_codes: np.ndarray,
    bounds: dict[str, tuple[np.ndarray, np.ndarray]],
    count_field: str,
) -> None:
    present = q_codes >= 0
    for feature in features:
        if feature.stream != stream:
            continue
        sums = index.range(q_codes, *bounds[feature.window])
        sums[count_field] = sums.pop("count")
        value = AGGREGATIONS[feature.aggregation].value(sums)
        out[feature.name] = np.where(present, value, np.nan).astype(float)
