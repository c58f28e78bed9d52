"""The online feature tiles computed from the stored orders and labels.

Bulk loads (imports, the replay's history, demo data) store their orders with
COPY and then call `feature_tiles_refresh` once: one vectorised pass of the
offline tile code (`tiles.order_tiles`, `tiles.label_tiles`) over the stored
orders of the entities they touched, instead of a tile upsert per order. The
parity tests hold those tiles equal to the ones intake keeps one order at a
time. Tiles older than every read (`tiles.expiry`) are neither written here
nor kept: `feature_tiles_expire` drops them every hour.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Max

from cases.datasets import EntityValues, stored_tables
from cases.models import Order
from models_ml.feature_spec import KEYS
from models_ml.feature_state import (
    tiles_clear,
    tiles_expire,
    tiles_lock,
    tiles_replace,
)
from models_ml.features import ENTITIES, HISTORY_COLUMNS, order_new_cards
from models_ml.frames import scoped, to_ms
from models_ml.tiles import SEPARATOR, expiry, label_tiles, order_tiles
from tenants.models import Tenant

ENTITY_COLUMNS = tuple(ENTITIES.values())


def entity_values_add(
    into: dict[str, set[str]], orders: Iterable[Mapping[str, object]]
) -> dict[str, set[str]]:
    """Add the entity values of `orders` (dicts of order fields) to `into`
    (order column → raw values): what `feature_tiles_refresh` must redo."""
    for order in orders:
        for column in ENTITY_COLUMNS:
            value = order.get(column)
            if value not in ("", None):
                into.setdefault(column, set()).add(str(value))
    return into


@transaction.atomic
def feature_tiles_refresh(tenant_id: int, entities: EntityValues | None) -> int:
    """Recompute, from the stored orders and labels, the tenant's tiles of
    these entity values (order column → raw values; every tile of the tenant
    when None) and of the pairs led by them; return the events read.

    Exact: a tile of an entity value sums all the orders and labels of that
    value, and the cards new to a device need only that device's orders, so
    reading the orders of the given values is enough. Idempotent; writes
    block (reads do not) until it commits.
    """
    tiles_lock()
    newest = Order.objects.filter(tenant_id=tenant_id).aggregate(t=Max("created_at"))
    if newest["t"] is None:
        return 0
    since = expiry(to_ms(newest["t"]))
    _ids, history, labels = stored_tables(tenant_id, entities)
    history = history.sort_values("ts", kind="stable").reset_index(drop=True)
    tiles = pd.concat(
        [
            order_tiles(history[HISTORY_COLUMNS], order_new_cards(history), since),
            label_tiles(labels, since),
        ],
        ignore_index=True,
    )
    tiles = tiles.groupby(["key", "value", "res", "start"], sort=False).sum()
    tiles = tiles.reset_index()
    values = None
    if entities is not None:
        values = _led_by(tenant_id, entities, tiles["key"], tiles["value"])
        mine = np.zeros(len(tiles), dtype=bool)
        for key, wanted in values.items():
            mine |= (tiles["key"] == key).to_numpy() & tiles["value"].isin(wanted)
        tiles = tiles[mine]
    tiles_replace(tenant_id, tiles, values)
    return len(history) + len(labels)


def _led_by(
    tenant_id: int, entities: EntityValues, keys: pd.Series, values: pd.Series
) -> dict[str, Collection[str]]:
    """key → the scoped tile values whose first column's value is one of
    `entities`: those whose every order was read."""
    out: dict[str, Collection[str]] = {}
    for key, columns in KEYS.items():
        wanted = {str(scoped(tenant_id, v)) for v in entities.get(columns[0], ())}
        if len(columns) == 1:
            out[key] = wanted
            continue
        pairs = values[keys == key]
        first = pairs.str.split(SEPARATOR, n=1).str[0]
        out[key] = {str(v) for v in pairs[first.isin(wanted)]}
    return out


def feature_tiles_rebuild(progress: Callable[[int, int], None] | None = None) -> int:
    """Replace every tile by tiles computed offline from the stored orders and
    labels (after a restore, a schema change or a new feature); return the
    number of events read. One transaction: intake sees the old tiles or the
    new ones. `progress(done, total)` is called after each tenant.
    """
    tenants = list(Tenant.objects.order_by("pk").values_list("pk", flat=True))
    done = 0
    with transaction.atomic():
        tiles_lock()
        tiles_clear()
        for i, tenant_id in enumerate(tenants, 1):
            done += feature_tiles_refresh(tenant_id, None)
            if progress:
                progress(i, len(tenants))
    return done


def feature_tiles_expire() -> int:
    """Drop, for every tenant, the tiles no read can need any more (older
    than `tiles.expiry` of its newest order); return the rows dropped.
    Idempotent: features read afterwards are unchanged."""
    newest = Order.objects.values("tenant_id").annotate(t=Max("created_at"))
    dropped = 0
    for row in newest.order_by("tenant_id"):
        with transaction.atomic():
            dropped += tiles_expire(row["tenant_id"], expiry(to_ms(row["t"])))
    return dropped
