"""Turning order and label records into the frames `features` expects.

**An entity is (tenant, value).** Two tenants' customers, cards or sellers
with the same identifier are different entities: before any feature code
sees an entity column, its value is scoped by the order's tenant
(`scoped`, `scope_entities`: one definition, used by the online tiles and
the offline backfill alike). The pure feature code (`features`, `tiles`)
knows nothing of tenants: it only ever sees scoped values, so the parity of
the two paths holds across tenants as it does within one, and reading an
order's features still costs one indexed read of its own key values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, overload

import numpy as np
import pandas as pd

from models_ml.feature_spec import LABEL_ENTITIES
from models_ml.features import ENTITIES, LABEL_COLUMNS, ORDER_COLUMNS

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

# Field names on the Order model, in the order ORDER_COLUMNS wants them.
ORDER_FIELDS = [
    "created_at",
    "amount",
    *ENTITIES.values(),
    "account_created_at",
    "card_country",
    "billing_country",
    "shipping_country",
    "channel",
    "item_count",
]
LABEL_ORDER_FIELDS = [ENTITIES[e] for e in LABEL_ENTITIES]
# Between the tenant and the value of a scoped entity (ASCII record separator;
# pair keys join two scoped values with the unit separator, tiles.SEPARATOR).
TENANT_MARK = "\x1e"


def scoped(tenant: object, value: object) -> object:
    """An entity column's value as features see it: "<tenant>\x1e<value>".
    Missing ("" or None) stays missing."""
    if value is None or value == "":
        return value
    return f"{tenant}{TENANT_MARK}{value}"


def scope_entities(
    frame: pd.DataFrame, tenants: Sequence[Any] | np.ndarray
) -> pd.DataFrame:
    """`frame` with each entity column it has scoped by its row's tenant
    (`scoped`, vectorised), in place; returned for chaining."""
    if len(frame) == 0:
        return frame
    prefix = (pd.Series(tenants, dtype=object).astype(str) + TENANT_MARK).to_numpy(
        dtype=object
    )
    for column in ENTITIES.values():
        if column not in frame.columns:
            continue
        values = frame[column].to_numpy(dtype=object, na_value=None)
        present = (values != "") & (values != None)  # noqa: E711 - elementwise
        out = values.copy()
        out[present] = prefix[present] + values[present]
        frame[column] = out
    return frame


@overload
def to_ms(moment: datetime) -> int: ...
@overload
def to_ms(moment: None) -> None: ...
def to_ms(moment: datetime | None) -> int | None:
    """Exact integer milliseconds since the epoch (no float rounding)."""
    if moment is None:
        return None
    return (moment - _EPOCH) // _MS


def orders_frame(rows: Iterable[Sequence[Any]]) -> pd.DataFrame:
    """Rows of ORDER_FIELDS values (as from values_list) → an ORDER_COLUMNS frame."""
    frame = pd.DataFrame.from_records(list(rows), columns=ORDER_COLUMNS)
    frame["ts"] = _ms_column(frame["ts"])
    created = frame["account_created_ts"]
    frame["account_created_ts"] = [np.nan if v is None else to_ms(v) for v in created]
    frame["account_created_ts"] = frame["account_created_ts"].astype(float)
    frame["amount"] = frame["amount"].astype(float)
    frame["item_count"] = frame["item_count"].astype(float)
    return frame


def labels_frame(rows: Iterable[Sequence[Any]]) -> pd.DataFrame:
    """Rows of (known_at, is_fraud, *LABEL_ORDER_FIELDS) → a LABEL_COLUMNS frame."""
    frame = pd.DataFrame.from_records(list(rows), columns=LABEL_COLUMNS)
    frame["known_ts"] = _ms_column(frame["known_ts"])
    frame["is_fraud"] = frame["is_fraud"].astype(bool)
    return frame


def _ms_column(values: pd.Series) -> pd.Series:
    return pd.Series([to_ms(v) for v in values], index=values.index, dtype="int64")
