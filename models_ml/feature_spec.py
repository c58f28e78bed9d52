"""Entity-window features declared as data. Pure: no pandas, no database.

Each `WindowFeature` names a key (an entity, or a pair of entities), a window
and an aggregation. The offline backfill (`features.build_features`) and the
online tiles (`tiles.window_features_from_tiles`) both read this table, and
reviewers' sentences come from it too.

Time semantics, exact and shared by both paths. Times are integer
milliseconds since the epoch. For an order placed at t:

* the window **ends** at E = t rounded down to the minute (a feature never
  sees the minute it is in, so an order never counts itself, nor any order or
  label of its own minute);
* the window **starts** at S = (E − width) rounded down to the window's hop
  (a "sawtooth": the 30-day window spans 30 to 31 days);
* it aggregates the order events with S ≤ ts < E, and the label events with
  S ≤ known_ts < E.

A **lagged** window (`Window.lag` > 0, whole days, day hop) ends `lag` before:
[S', E') with S' = (E − lag − width) rounded down to the day and E' = (E − lag)
rounded down to the day ("21–30 days ago": width 9 days, lag 21 days). It is
made of whole day tiles and lies inside the unlagged window of the same start,
so it reads no tile that the 30-day windows do not read already.

Every S and E lies on a minute, so [S, E) is a union of whole day, hour and
minute tiles (`tiles.pieces`): the online state needs at most 31 day, 25 hour
and 60 minute tiles per key, however much history the key has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    import numpy as np

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
TILE = MINUTE  # every window ends on a whole tile of this width
RESOLUTIONS: dict[str, int] = {"m": MINUTE, "h": HOUR, "d": DAY}
# How long before a tenant's newest order the features of an order may still
# be read from the tiles (late orders at intake; re-scoring of the last 7 days
# when an order has no stored vector). Older tiles are dropped (`tiles.expiry`).
READ_HORIZON = 8 * DAY


@dataclass(frozen=True)
class Window:
    width: int
    hop: int  # the start is rounded down to this
    words: str  # "30 days"; for a lagged window "21–30 days ago"
    lag: int = 0  # the window ends this long before E (whole days)

    @property
    def during(self) -> str:
        """When the events happened: "in the last 30 days", "21–30 days ago"."""
        return self.words if self.lag else f"in the last {self.words}"

    @property
    def over(self) -> str:
        """What an average covers: "over 30 days", "14–30 days ago"."""
        return self.words if self.lag else f"over {self.words}"


WINDOWS: dict[str, Window] = {
    "1h": Window(HOUR, MINUTE, "hour"),
    "1d": Window(DAY, HOUR, "24 hours"),
    "7d": Window(7 * DAY, DAY, "7 days"),
    "30d": Window(30 * DAY, DAY, "30 days"),
    # Lagged (issue 12): labels known 21–30 days ago mean a compromise that
    # started more than 28 days ago (7 days' label delay): likely ended.
    "21_30d": Window(9 * DAY, DAY, "21–30 days ago", lag=21 * DAY),
    # A usual amount that a card leaked in the last 14 days does not inflate.
    "14_30d": Window(16 * DAY, DAY, "14–30 days ago", lag=14 * DAY),
}

# Keys: an entity is one order column, a pair is two (both must be given).
KEYS: dict[str, tuple[str, ...]] = {
    "customer": ("customer_id",),
    "card": ("card_fingerprint",),
    "device": ("device_id",),
    "ip": ("ip_address",),
    "email": ("email",),
    "seller": ("seller_id",),
    "device_card": ("device_id", "card_fingerprint"),
    "customer_device": ("customer_id", "device_id"),
    "customer_card": ("customer_id", "card_fingerprint"),
}
KEY_WORDS = {
    "customer": "customer",
    "card": "card",
    "device": "device",
    "ip": "IP address",
    "email": "email address",
    "seller": "seller",
}

# Partial aggregates a tile holds; all are integers, so tiles merge exactly.
# n, cents, new_cards: order events at ts; labels, frauds: label events at known_ts.
TILE_FIELDS = ("n", "cents", "new_cards", "labels", "frauds")
ORDER_FIELDS_OF_TILES = ("n", "cents", "new_cards")
LABEL_FIELDS_OF_TILES = ("labels", "frauds")


def _plural(n: float, word: str) -> str:
    return f"{n:.0f} {word}" + ("" if round(n) == 1 else "s")


@dataclass(frozen=True)
class Aggregation:
    stream: str  # "orders" or "labels"
    suffix: str  # feature name: f"{key}_{suffix}_{window}"
    # value from the window's summed tile fields (arrays or scalars)
    value: Callable[[Mapping[str, Any]], Any]
    sentence: Callable[[float, str, Window], str]  # (value, noun, window)
    missing: Callable[[str, Window], str]  # (noun, window), for NaN
    fields: tuple[str, ...]  # the tile fields `value` reads


def _given(noun: str, _window: Window) -> str:
    return f"No {noun} given"


AGGREGATIONS: dict[str, Aggregation] = {
    "count": Aggregation(
        "orders",
        "orders",
        lambda s: s["n"],
        lambda v, noun, w: f"{_plural(v, 'earlier order')} from this {noun} {w.during}",
        _given,
        ("n",),
    ),
    "mean_amount": Aggregation(
        "orders",
        "mean_amount",
        # Whole cents: exact sums, so online and offline agree to the last bit.
        lambda s: _ratio(s["cents"], s["n"]) / 100,
        lambda v, noun, w: f"This {noun}'s average order {w.over}: {v:,.2f}",
        lambda noun, w: f"No earlier orders from this {noun} {w.during}",
        ("n", "cents"),
    ),
    "seen": Aggregation(
        "orders",
        "seen",
        lambda s: (s["n"] > 0) * 1.0,
        lambda v, noun, w: _PAIR_SENTENCES[noun][0 if v else 1],
        lambda _noun, _w: "Not enough identifiers given to compare",
        ("n",),
    ),
    "new_cards": Aggregation(
        "orders",
        "new_cards",
        lambda s: s["new_cards"],
        lambda v, noun, w: f"{_plural(v, 'card')} new to this {noun} in {w.words}",
        _given,
        ("new_cards",),
    ),
    "fraud_labels": Aggregation(
        "labels",
        "fraud_labels",
        lambda s: s["frauds"],
        lambda v, noun, w: f"{_plural(v, 'fraud')} on this {noun} confirmed {w.during}",
        _given,
        ("frauds",),
    ),
    "fraud_rate": Aggregation(
        "labels",
        "fraud_rate",
        lambda s: _ratio(s["frauds"], s["labels"]),
        lambda v, noun, w: (
            f"{v:.0%} of this {noun}'s orders labelled {w.during} were fraud"
        ),
        lambda _noun, w: f"No labelled orders to compare with {w.during}",
        ("frauds", "labels"),
    ),
}

_PAIR_SENTENCES: dict[str, tuple[str, str]] = {
    "device_card": (
        "Card already used on this device in 30 days",
        "Card new to this device",
    ),
    "customer_device": ("Customer's usual device", "Device new to this customer"),
    "customer_card": ("Customer's usual card", "Card new to this customer"),
}


def _ratio(numerator: Any, denominator: Any) -> Any:
    """numerator / denominator, NaN where the denominator is 0 (arrays or floats)."""
    import numpy as np

    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


@dataclass(frozen=True)
class WindowFeature:
    key: str
    window: str
    aggregation: str

    @property
    def name(self) -> str:
        return f"{self.key}_{AGGREGATIONS[self.aggregation].suffix}_{self.window}"

    @property
    def stream(self) -> str:
        return AGGREGATIONS[self.aggregation].stream

    def sentence(self, value: float) -> str:
        agg = AGGREGATIONS[self.aggregation]
        return agg.sentence(value, _noun(self.key), WINDOWS[self.window])

    def missing_sentence(self) -> str:
        agg = AGGREGATIONS[self.aggregation]
        return agg.missing(_noun(self.key), WINDOWS[self.window])


def _noun(key: str) -> str:
    return KEY_WORDS.get(key, key)


ENTITIES = ("customer", "card", "device", "ip", "email", "seller")
MEAN_ENTITIES = ("customer", "card", "seller")
MEAN_WINDOWS = ("1d", "7d", "30d")
PAIRS = ("device_card", "customer_device", "customer_card")
LABEL_ENTITIES = ("customer", "card", "device", "seller")
LABEL_WINDOWS = ("1d", "7d", "30d")

# In model column order (the order of FEATURE_NAMES must not change: stored
# models name their columns).
COUNT_WINDOWS = ("1h", "1d", "7d", "30d")
COUNT_FEATURES = [WindowFeature(e, w, "count") for e in ENTITIES for w in COUNT_WINDOWS]
MEAN_FEATURES = [
    WindowFeature(e, w, "mean_amount") for e in MEAN_ENTITIES for w in MEAN_WINDOWS
]
PAIR_FEATURES = [
    *(WindowFeature(p, "30d", "seen") for p in PAIRS),
    WindowFeature("device", "30d", "new_cards"),
]
LABEL_FEATURES = [
    WindowFeature(e, w, agg)
    for e in LABEL_ENTITIES
    for w in LABEL_WINDOWS
    for agg in ("fraud_labels", "fraud_rate")
]
# Lagged windows (issue 12), after every older feature.
LAGGED_MEAN_WINDOWS = ("14_30d",)
LAGGED_FEATURES = [
    WindowFeature("seller", "21_30d", "fraud_labels"),
    *(
        WindowFeature(e, w, "mean_amount")
        for e in ("customer", "card")
        for w in LAGGED_MEAN_WINDOWS
    ),
]
WINDOW_FEATURES = [
    *COUNT_FEATURES,
    *MEAN_FEATURES,
    *PAIR_FEATURES,
    *LABEL_FEATURES,
    *LAGGED_FEATURES,
]
BY_NAME = {f.name: f for f in WINDOW_FEATURES}
# "New card on this device": an order's own new_cards value is whether this
# feature is 0 for it (device and card given).
NEW_CARD_SOURCE = BY_NAME["device_card_seen_30d"]


def fields_of(key: str) -> set[str]:
    """Tile fields some feature of `key` reads: the only ones its tiles hold
    (a card new to its device changes the device's tiles and no other's)."""
    return {
        field
        for f in WINDOW_FEATURES
        if f.key == key
        for field in AGGREGATIONS[f.aggregation].fields
    }


def keys_of(stream: str) -> list[str]:
    """Keys whose tiles a stream of events must update."""
    return [
        k
        for k in KEYS
        if any(f.key == k and f.stream == stream for f in WINDOW_FEATURES)
    ]


@overload
def window_bounds(t: int, window: str) -> tuple[int, int]: ...
@overload
def window_bounds(t: np.ndarray, window: str) -> tuple[np.ndarray, np.ndarray]: ...
def window_bounds(t: Any, window: str) -> tuple[Any, Any]:
    """[S, E) of `window` for order times t (ints or int64 arrays)."""
    spec = WINDOWS[window]
    end = t // TILE * TILE
    if spec.lag:
        end = (end - spec.lag) // spec.hop * spec.hop
        return end - spec.width, end
    start = (end - spec.width) // spec.hop * spec.hop
    return start, end
