"""The online feature state in the database: FeatureTile rows.

Why the database (PostgreSQL, or SQLite for the embedded default) and not
Redis: tile deltas are written in the transaction that stores the order (or
label), so a rolled-back request leaves nothing behind and the state never
drifts from the orders; and reading them is one more statement on a
connection intake already holds.

Reading: one SELECT per batch of orders, at most 31 day + 25 hour + 60 minute
tiles per key value (× SHARDS rows at most), however long the history.
Writing: one upsert statement that adds the deltas; each transaction picks one
shard at random, so concurrent intakes of one busy seller rarely wait on the
same row lock, and rows are written in key order so they cannot deadlock.
"""

from __future__ import annotations

import io
import random
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection

from models_ml.feature_spec import KEYS, NEW_CARD_SOURCE, RESOLUTIONS, TILE_FIELDS
from models_ml.features import (
    ENTITIES,
    HISTORY_COLUMNS,
    add_order_features,
    features_frame,
)
from models_ml.frames import (
    LABEL_ORDER_FIELDS,
    ORDER_FIELDS,
    TENANT_MARK,
    orders_frame,
    scope_entities,
    scoped,
    to_ms,
)
from models_ml.tiles import (
    TILE_COLUMNS,
    Tile,
    empty_tiles,
    event_tiles,
    features_from_tiles,
    key_values,
    key_values_of,
    new_cards_of,
    one_window_features,
    order_tiles,
    read_ranges,
    rows_frame,
    window_features_from_tiles,
)

SHARDS = 8
TABLE = "models_ml_featuretile"
_CLAUSE = "(key = %s AND res = %s AND value {values} AND start >= %s AND start < %s)"


def tiles_read(queries: pd.DataFrame) -> pd.DataFrame:
    """Stored tiles the features of `queries` (ORDER_COLUMNS) can need, summed
    over shards: one statement."""
    if len(queries) == 0:
        return empty_tiles()
    values = {
        key: sorted({v for v in key_values(queries, key) if v is not None})
        for key in KEYS
    }
    ts = queries["ts"].to_numpy(dtype=np.int64)
    return rows_frame(_tile_rows(values, read_ranges(ts)))


def _tile_rows(
    values: dict[str, list[str]], ranges: dict[str, tuple[int, int]]
) -> list[Tile]:
    """Tiles of these key values with starts in `ranges`, summed over shards."""
    clauses: list[str] = []
    params: list[Any] = []
    postgres = connection.vendor == "postgresql"
    for key, wanted in values.items():
        if not wanted:
            continue
        for res in RESOLUTIONS:
            lo, hi = ranges[res]
            if postgres:
                clauses.append(_CLAUSE.format(values="= ANY(%s)"))
                params += [key, res, wanted, lo, hi]
            else:
                marks = ", ".join(["%s"] * len(wanted))
                clauses.append(_CLAUSE.format(values=f"IN ({marks})"))
                params += [key, res, *wanted, lo, hi]
    if not clauses:
        return []
    sums = ", ".join(f"SUM({f})" for f in TILE_FIELDS)
    sql = (
        f"SELECT key, value, res, start, {sums} FROM {TABLE} "
        f"WHERE {' OR '.join(clauses)} GROUP BY key, value, res, start"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)  # type: ignore[arg-type]
        return list(cursor.fetchall())


def tiles_add(deltas: pd.DataFrame | Sequence[Tile], shard: int | None = None) -> None:
    """Add tile deltas (a TILE_COLUMNS frame, or its rows) to the stored tiles.
    Call inside the transaction that stores the orders or labels they come from."""
    if len(deltas) == 0:
        return
    shard = random.randrange(SHARDS) if shard is None else shard
    columns = ["key", "res", "value", "start", "shard", *TILE_FIELDS]
    # Rows go in one order (key, res, value, start) so that two transactions
    # adding to the same tiles cannot deadlock.
    if isinstance(deltas, pd.DataFrame):
        deltas = deltas.sort_values(["key", "res", "value", "start"], kind="stable")
        data = [deltas[c].tolist() for c in ["key", "res", "value"]]
        data += [deltas["start"].astype(np.int64).tolist(), [shard] * len(deltas)]
        data += [deltas[f].astype(np.int64).tolist() for f in TILE_FIELDS]
    else:
        rows = sorted(deltas, key=lambda t: (t[0], t[2], t[1], t[3]))
        key, value, res, start, *fields = (list(c) for c in zip(*rows, strict=True))
        data = [key, res, value, start, [shard] * len(rows), *fields]
    updates = ", ".join(f"{f} = {TABLE}.{f} + excluded.{f}" for f in TILE_FIELDS)
    conflict = f"ON CONFLICT (key, res, value, start, shard) DO UPDATE SET {updates}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types = ["text", "text", "text", "bigint", "smallint"] + ["bigint"] * len(
                TILE_FIELDS
            )
            arrays = ", ".join(f"%s::{t}[]" for t in types)
            cursor.execute(
                f"INSERT INTO {TABLE} ({', '.join(columns)}) "
                f"SELECT * FROM unnest({arrays}) {conflict}",
                data,
            )
        else:
            marks = ", ".join(["%s"] * len(columns))
            insert = f"INSERT INTO {TABLE} ({', '.join(columns)}) VALUES ({marks})"
            cursor.executemany(
                f"{insert} {conflict}",
                list(zip(*data, strict=True)),
            )


def features_read(
    queries: pd.DataFrame, *, fresh: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """FEATURE_NAMES frame of `queries` from the stored tiles, and the deltas to
    add when they are stored (fresh orders only; see tiles.features_from_tiles)."""
    return features_from_tiles(tiles_read(queries), queries, fresh=fresh)


def tiles_clear() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")


def tiles_lock() -> None:
    """Hold off tile writes (not reads) until the transaction ends: call first
    in a transaction that replaces tiles from the stored orders, so that no
    intake commits deltas between that read and the replacement."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE")


def tiles_replace(
    tenant_id: int, tiles: pd.DataFrame, values: Mapping[str, Collection[str]] | None
) -> None:
    """Replace the stored tiles of these key values (key → scoped values; all
    the tenant's tiles when None) by `tiles` (a TILE_COLUMNS frame, one row
    per tile, stored in shard 0). Call after `tiles_lock`, in its transaction.
    """
    with connection.cursor() as cursor:
        if values is None:
            cursor.execute(
                f"DELETE FROM {TABLE} WHERE value LIKE %s",
                [f"{int(tenant_id)}{TENANT_MARK}%"],
            )
        else:
            for key, wanted in values.items():
                for res in RESOLUTIONS:
                    _delete_values(cursor, key, res, sorted(wanted))
    if connection.vendor != "postgresql":
        tiles_add(tiles, shard=0)
        return
    frame = tiles[["key", "res", "value", "start"]].assign(shard=0)
    for field in TILE_FIELDS:
        frame[field] = tiles[field].astype(np.int64)
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False)
    columns = ", ".join(frame.columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {TABLE} ({columns}) FROM STDIN WITH (FORMAT csv)"
        ) as copy,
    ):
        copy.write(buffer.getvalue())


def _delete_values(cursor: Any, key: str, res: str, wanted: list[str]) -> None:
    if not wanted:
        return
    if connection.vendor == "postgresql":
        cursor.execute(
            f"DELETE FROM {TABLE} WHERE key = %s AND res = %s AND value = ANY(%s)",
            [key, res, wanted],
        )
        return
    for first in range(0, len(wanted), 500):
        part = wanted[first : first + 500]
        marks = ", ".join(["%s"] * len(part))
        cursor.execute(
            f"DELETE FROM {TABLE} WHERE key = %s AND res = %s AND value IN ({marks})",
            [key, res, *part],
        )


def tiles_expire(tenant_id: int, since: Mapping[str, int]) -> int:
    """Drop the tenant's tiles that start before since[res] (`tiles.expiry`);
    return how many rows went. Idempotent."""
    prefix = f"{int(tenant_id)}{TENANT_MARK}%"
    deleted = 0
    with connection.cursor() as cursor:
        for key in KEYS:
            for res, first in since.items():
                # One (key, res) at a time: the unique index's leading columns.
                cursor.execute(
                    f"DELETE FROM {TABLE} WHERE key = %s AND res = %s"
                    " AND value LIKE %s AND start < %s",
                    [key, res, prefix, first],
                )
                deleted += cursor.rowcount
    return deleted


def tiles_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
        return int(cursor.fetchone()[0])


def deltas_concat(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Deltas of several batches summed per tile (for bulk writes)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_tiles()
    joined = pd.concat(parts, ignore_index=True)
    return (
        joined.groupby(["key", "value", "res", "start"], sort=False)
        .sum()
        .reset_index()[TILE_COLUMNS]
    )


def _orders_frame(orders: Sequence[object]) -> pd.DataFrame:
    """ORDER_COLUMNS of Order instances, entities scoped by their tenant."""
    frame = orders_frame([[getattr(o, f) for f in ORDER_FIELDS] for o in orders])
    return scope_entities(frame, [o.tenant_id for o in orders])  # type: ignore[attr-defined]


def _key_values(
    order: object, columns: Sequence[str] = tuple(ENTITIES.values())
) -> dict[str, str]:
    """key → value of an order's keys, its entities scoped by its tenant."""
    tenant = order.tenant_id  # type: ignore[attr-defined]
    return key_values_of({c: scoped(tenant, getattr(order, c)) for c in columns})


def features_online(orders: Sequence[object]) -> pd.DataFrame:
    """Features of Order instances as of their own created_at, from the tiles.

    Unsaved orders (intake) see the earlier orders of their batch as if sent
    one by one; `orders_record` must then add them in the same transaction.
    """
    if len(orders) == 1:
        return _one_order_features(orders[0])
    fresh = all(getattr(o, "pk", None) is None for o in orders)
    features, _deltas = features_read(_orders_frame(orders), fresh=fresh)
    return features


def _one_order_features(order: object) -> pd.DataFrame:
    """Whether stored or not, one order sees the same tiles: its own minute
    is outside its windows. No frames but the last: single-order intake."""
    ts = to_ms(order.created_at)  # type: ignore[attr-defined]
    values = _key_values(order)
    rows = _tile_rows({k: [v] for k, v in values.items()}, read_ranges(np.array([ts])))
    queries = _orders_frame([order])
    out: dict[str, Any] = {}
    add_order_features(out, queries)
    out.update(one_window_features(ts, values, rows))
    return features_frame(out, queries.index)


def orders_record(orders: Sequence[object], features: Sequence[dict[str, Any]]) -> None:
    """Add stored orders to the tiles; `features` are the ones they were scored
    with (their own "card new to this device" comes from them)."""
    events = (
        (
            to_ms(order.created_at),  # type: ignore[attr-defined]
            _key_values(order),
            {
                "n": 1,
                "cents": round(float(order.amount) * 100),  # type: ignore[attr-defined]
                "new_cards": 1 if seen.get(NEW_CARD_SOURCE.name) == 0 else 0,
            },
        )
        for order, seen in zip(orders, features, strict=True)
    )
    tiles_add(event_tiles(events, "orders"))


def orders_load_record(orders: Sequence[object]) -> None:
    """Add orders stored without scoring (bulk loads) to the tiles."""
    if not orders:
        return
    frame = _orders_frame(orders)
    stored = tiles_read(frame)
    overlay = order_tiles(frame, np.zeros(len(frame), dtype=np.int64))
    out = window_features_from_tiles(
        pd.concat([stored, overlay]), frame, {NEW_CARD_SOURCE.name}
    )
    tiles_add(order_tiles(frame[HISTORY_COLUMNS], new_cards_of(out)))


def labels_record(labels: Sequence[object]) -> None:
    """Add Label instances (with their order) to the tiles at their known_at."""
    tiles_add(_label_deltas(labels))


def labels_withdraw(labels: Sequence[object]) -> None:
    """Take labels_record's deltas back out, for labels deleted again (an
    undone decision)."""
    tiles_add([(*t[:4], *(-v for v in t[4:])) for t in _label_deltas(labels)])


def _label_deltas(labels: Sequence[object]) -> list[Tile]:
    events = (
        (
            to_ms(label.known_at),  # type: ignore[attr-defined]
            _key_values(label.order, LABEL_ORDER_FIELDS),  # type: ignore[attr-defined]
            {"labels": 1, "frauds": int(label.value == "fraud")},  # type: ignore[attr-defined]
        )
        for label in labels
    )
    return event_tiles(events, "labels")
