"""Tiles: the online state of the entity-window features. Pure: frames only.

A tile is (key, value, res, start) → partial aggregates (`TILE_FIELDS`): the
sums over the events of one key value (a seller, a device-card pair, …) whose
time falls in [start, start + width of res), for res in minute, hour, day.
Every field is an integer, so tiles merge by addition, in any order and any
number of shards, and reproduce the offline sums bit for bit.

An order event adds n=1, its amount in cents, and new_cards (1 if its card is
new to its device) to the tiles of each of its keys at its created time; a
label event adds labels=1 and frauds (1 if fraud) at its known time.

Reading the features of an order at t sums the tiles covering each window's
[S, E) (`pieces`): at most 31 day, 25 hour and 60 minute tiles per key,
whatever the key's history. Tiles that start at or after E are never read, so
orders and labels stored later, or in the order's own minute, change nothing.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from models_ml.feature_spec import (
    AGGREGATIONS,
    DAY,
    HOUR,
    KEYS,
    LABEL_FIELDS_OF_TILES,
    MINUTE,
    NEW_CARD_SOURCE,
    ORDER_FIELDS_OF_TILES,
    READ_HORIZON,
    RESOLUTIONS,
    TILE_FIELDS,
    WINDOW_FEATURES,
    WINDOWS,
    fields_of,
    keys_of,
    window_bounds,
)
from models_ml.features import (
    RangeIndex,
    add_order_features,
    cents,
    features_frame,
)

TILE_COLUMNS = ["key", "value", "res", "start", *TILE_FIELDS]
SEPARATOR = "\x1f"  # between the two values of a pair key
# How far behind E each resolution's tiles can be needed (see `pieces`).
REACH = {"m": HOUR, "h": 25 * HOUR, "d": 31 * DAY}


def key_values(frame: pd.DataFrame, key: str) -> np.ndarray:
    """The key's value per row (pairs joined by SEPARATOR); None if missing."""
    columns = KEYS[key]
    arrays = [frame[c].to_numpy(dtype=object, na_value=None) for c in columns]
    present = np.ones(len(frame), dtype=bool)
    for array in arrays:
        present &= (array != "") & (array != None)  # noqa: E711 - elementwise
    if len(arrays) == 1:
        joined = arrays[0]
    else:
        joined = np.array(
            [
                SEPARATOR.join(parts) if ok else ""
                for ok, *parts in zip(present, *arrays)
            ],
            dtype=object,
        )
    return np.where(present, joined, np.array(None, dtype=object))


def empty_tiles() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in TILE_COLUMNS[:3]})
    for column in TILE_COLUMNS[3:]:
        frame[column] = pd.Series(dtype=np.int64)
    return frame


def expiry(newest_ts: int) -> dict[str, int]:
    """res → the first tile start still kept for a tenant whose newest order is
    at `newest_ts` (ms): no order from the last READ_HORIZON reads an older
    tile (`REACH`). Day-aligned, so a tile is kept iff its events' times are."""
    return {
        res: (newest_ts - READ_HORIZON - reach) // DAY * DAY
        for res, reach in REACH.items()
    }


def order_tiles(
    orders: pd.DataFrame,
    new_cards: np.ndarray,
    since: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Tile deltas of order events (HISTORY_COLUMNS rows), summed per tile;
    with `since` (`expiry`), only tiles that start at or after it."""
    ts = orders["ts"].to_numpy(dtype=np.int64)
    fields = {
        "n": np.ones(len(orders), dtype=np.int64),
        "cents": cents(orders["amount"]),
        "new_cards": np.asarray(new_cards, dtype=np.int64),
    }
    return _tiles(orders, ts, fields, keys_of("orders"), since)


def label_tiles(
    labels: pd.DataFrame, since: Mapping[str, int] | None = None
) -> pd.DataFrame:
    """Tile deltas of label events (LABEL_COLUMNS rows), at their known time."""
    ts = labels["known_ts"].to_numpy(dtype=np.int64)
    fields = {
        "labels": np.ones(len(labels), dtype=np.int64),
        "frauds": labels["is_fraud"].to_numpy(dtype=np.int64),
    }
    return _tiles(labels, ts, fields, keys_of("labels"), since)


def _tiles(
    frame: pd.DataFrame,
    ts: np.ndarray,
    fields: dict[str, np.ndarray],
    keys: list[str],
    since: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    parts = []
    for key in keys:
        values = key_values(frame, key)
        present = values != None  # noqa: E711
        if not present.any():
            continue
        held = fields_of(key)
        for res, width in RESOLUTIONS.items():
            # since[res] is day-aligned: a tile starts after it iff its events do.
            mine = present & (ts >= since[res]) if since else present
            if not mine.any():
                continue
            part = pd.DataFrame(
                {
                    "key": key,
                    "value": values[mine],
                    "res": res,
                    "start": ts[mine] // width * width,
                    **{
                        f: v[mine] if f in held else np.zeros(mine.sum(), np.int64)
                        for f, v in fields.items()
                    },
                }
            )
            parts.append(part)
    if not parts:
        return empty_tiles()
    joined = pd.concat(parts, ignore_index=True)
    summed = joined.groupby(["key", "value", "res", "start"], sort=True).sum()
    out = summed.reset_index()
    for field in TILE_FIELDS:
        if field not in out:
            out[field] = 0
        out[field] = out[field].astype(np.int64)
    return out[TILE_COLUMNS]


def read_ranges(ts: np.ndarray) -> dict[str, tuple[int, int]]:
    """res → [lo, hi) of tile starts that the features of orders at `ts` read."""
    end = ts // MINUTE * MINUTE
    first, last = int(end.min()), int(end.max())
    return {res: (first - reach, last) for res, reach in REACH.items()}


def pieces(
    start: np.ndarray, end: np.ndarray
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """[start, end) (whole minutes) as whole day, hour and minute tiles:
    (res, lo, hi) ranges of tile starts; lo == hi is empty."""
    a = -(-start // HOUR) * HOUR
    b = end // HOUR * HOUR
    hours = a < b
    c = -(-a // DAY) * DAY
    d = b // DAY * DAY
    days = hours & (c < d)
    zero = np.zeros_like(start)
    return [
        ("m", start, np.where(hours, a, end)),
        ("m", np.where(hours, b, end), end),
        ("h", np.where(hours, a, zero), np.where(hours, np.where(days, c, b), zero)),
        ("h", np.where(days, d, zero), np.where(days, b, zero)),
        ("d", np.where(days, c, zero), np.where(days, d, zero)),
    ]


def window_features_from_tiles(
    tiles: pd.DataFrame, queries: pd.DataFrame, names: set[str] | None = None
) -> dict[str, np.ndarray]:
    """Entity-window features of `queries` (ORDER_COLUMNS) from tile rows.

    `tiles` may hold several rows per tile (shards, or stored rows plus the
    deltas of a batch not stored yet): they are summed.
    """
    q_ts = queries["ts"].to_numpy(dtype=np.int64)
    times = [q_ts, tiles["start"].to_numpy(dtype=np.int64)]
    t0 = int(np.concatenate(times).min()) - 64 * DAY
    span = int(np.concatenate(times).max()) - t0 + 1
    bounds = {w: window_bounds(q_ts, w) for w in WINDOWS}
    by_key = dict(tuple(tiles.groupby("key", sort=False))) if len(tiles) else {}
    out: dict[str, np.ndarray] = {}
    for key in KEYS:
        features = [
            f
            for f in WINDOW_FEATURES
            if f.key == key and (names is None or f.name in names)
        ]
        if not features:
            continue
        values = key_values(queries, key)
        present = values != None  # noqa: E711
        rows = by_key.get(key, empty_tiles())
        codes, _ = pd.factorize(
            np.concatenate([np.where(present, values, ""), rows["value"].to_numpy()])
        )
        q_codes = np.where(present, codes[: len(values)], -1)
        t_codes = codes[len(values) :]
        indexes = {}
        for res in RESOLUTIONS:
            mine = (rows["res"] == res).to_numpy()
            indexes[res] = RangeIndex.build(
                t_codes[mine],
                rows["start"].to_numpy(dtype=np.int64)[mine],
                {f: rows[f].to_numpy(dtype=np.int64)[mine] for f in TILE_FIELDS},
                t0,
                span,
            )
        for feature in features:
            start, end = bounds[feature.window]
            sums = {f: np.zeros(len(q_ts), dtype=np.int64) for f in TILE_FIELDS}
            for res, lo, hi in pieces(start, end):
                part = indexes[res].range(q_codes, lo, hi)
                for f in TILE_FIELDS:
                    sums[f] += part[f]
            value = AGGREGATIONS[feature.aggregation].value(sums)
            out[feature.name] = np.where(present, value, np.nan).astype(float)
    return out


def new_cards_of(out: dict[str, np.ndarray]) -> np.ndarray:
    """Each order's own new_cards: its card is new to its device."""
    new: np.ndarray = out[NEW_CARD_SOURCE.name] == 0  # NaN (no device or card): not new
    return new.astype(np.int64)


def fresh_window_features(
    stored: pd.DataFrame, queries: pd.DataFrame
) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Window features of orders not in `stored` yet, each seeing the earlier
    ones of the batch as if sent one by one; and the batch's tile deltas."""
    overlay = order_tiles(queries, np.zeros(len(queries), dtype=np.int64))
    out = window_features_from_tiles(pd.concat([stored, overlay]), queries)
    new_cards = new_cards_of(out)
    if new_cards.any():
        # new_cards of the batch's own orders feed the batch's device counts.
        overlay = order_tiles(queries, new_cards)
        device = {f.name for f in WINDOW_FEATURES if "new_cards" in f.name}
        out.update(
            window_features_from_tiles(pd.concat([stored, overlay]), queries, device)
        )
    return out, overlay


def features_from_tiles(
    stored: pd.DataFrame, queries: pd.DataFrame, *, fresh: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The FEATURE_NAMES frame of `queries` from tile rows, and the tile deltas
    to store with them: the online path (the offline one is build_features).

    `fresh` orders are not in `stored` yet (intake); otherwise (re-scoring)
    they are, and each sees only what came before it anyway.
    """
    out: dict[str, np.ndarray] = {}
    add_order_features(out, queries)
    if fresh:
        window, overlay = fresh_window_features(stored, queries)
    else:
        window, overlay = window_features_from_tiles(stored, queries), empty_tiles()
    out.update(window)
    return features_frame(out, queries.index), overlay


# --- One order at a time, without frames ------------------------------------
# The same tiles and sums as above for the path where pandas' fixed cost per
# call would dominate: a single order's intake, and the deltas intake writes.
# The parity tests hold both equal to the offline backfill.

Tile = tuple[Any, ...]  # a TILE_COLUMNS row: (key, value, res, start, *TILE_FIELDS)


def key_values_of(fields: Mapping[str, object]) -> dict[str, str]:
    """key → value for the keys one order has (pairs joined by SEPARATOR)."""
    out = {}
    for key, columns in KEYS.items():
        parts = [fields.get(c) for c in columns]
        if all(p not in ("", None) for p in parts):
            out[key] = SEPARATOR.join(str(p) for p in parts)
    return out


def event_tiles(
    events: Iterable[tuple[int, Mapping[str, str], Mapping[str, int]]], stream: str
) -> list[Tile]:
    """Tile deltas of events (time ms, key values, tile fields), summed per
    tile, sorted: what `order_tiles` and `label_tiles` give, as tuples."""
    keys = keys_of(stream)
    fields = ORDER_FIELDS_OF_TILES if stream == "orders" else LABEL_FIELDS_OF_TILES
    slots = [TILE_FIELDS.index(f) for f in fields]
    summed: dict[tuple[Any, ...], list[int]] = {}
    held = {key: fields_of(key) for key in keys}
    for ts, values, amounts in events:
        adds = [(i, f, int(amounts[f])) for i, f in zip(slots, fields, strict=True)]
        for key in keys:
            value = values.get(key)
            if value is None:
                continue
            add = [(i, amount) for i, f, amount in adds if f in held[key]]
            for res, width in RESOLUTIONS.items():
                tile = summed.setdefault(
                    (key, value, res, ts // width * width), [0] * len(TILE_FIELDS)
                )
                for i, amount in add:
                    tile[i] += amount
    return [(*k, *v) for k, v in sorted(summed.items())]


def one_window_features(
    ts: int, values: Mapping[str, str], tiles: Iterable[Tile]
) -> dict[str, float]:
    """Entity-window features of one order at `ts` (ms) with these key values,
    from tile rows (any number per tile: shards are summed). Equal to
    `window_features_from_tiles` for that order."""
    width = len(TILE_FIELDS)
    grouped: dict[tuple[str, str], dict[int, list[int]]] = {}
    for key, value, res, start, *fields in tiles:
        if values.get(key) != value:
            continue
        tile = grouped.setdefault((key, res), {}).setdefault(int(start), [0] * width)
        for i, amount in enumerate(fields):
            tile[i] += int(amount)
    prefixes: dict[tuple[str, str], tuple[list[int], list[list[int]]]] = {}
    for key_res, by_start in grouped.items():
        starts = sorted(by_start)
        cumulative = [[0] * width]
        for start in starts:
            cumulative.append(
                [a + b for a, b in zip(cumulative[-1], by_start[start], strict=True)]
            )
        prefixes[key_res] = (starts, cumulative)
    ranges = {}
    for window in WINDOWS:
        bounds = window_bounds(np.array([ts], dtype=np.int64), window)
        start, end = (np.asarray(b) for b in bounds)
        ranges[window] = [
            (res, int(lo[0]), int(hi[0])) for res, lo, hi in pieces(start, end)
        ]
    sums: dict[tuple[str, str], dict[str, int]] = {}
    out: dict[str, float] = {}
    for feature in WINDOW_FEATURES:
        if feature.key not in values:
            out[feature.name] = np.nan
            continue
        slot = (feature.key, feature.window)
        if slot not in sums:
            total = [0] * width
            for res, lo, hi in ranges[feature.window]:
                found = prefixes.get((feature.key, res))
                if found is None or lo >= hi:
                    continue
                starts, cumulative = found
                top, bottom = bisect_left(starts, hi), bisect_left(starts, lo)
                for i in range(width):
                    total[i] += cumulative[top][i] - cumulative[bottom][i]
            sums[slot] = dict(zip(TILE_FIELDS, total, strict=True))
        value = AGGREGATIONS[feature.aggregation].value(sums[slot])
        out[feature.name] = float(value)
    return out


def tile_rows(frame: pd.DataFrame) -> list[Tile]:
    """TILE_COLUMNS frame → tuples (for `one_window_features`)."""
    return list(frame[TILE_COLUMNS].itertuples(index=False, name=None))


def rows_frame(rows: Sequence[Tile]) -> pd.DataFrame:
    """Tuples → a TILE_COLUMNS frame."""
    if not rows:
        return empty_tiles()
    frame = pd.DataFrame.from_records(rows, columns=TILE_COLUMNS)
    for field in ["start", *TILE_FIELDS]:
        frame[field] = frame[field].astype(np.int64)
    return frame
