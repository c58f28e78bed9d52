"""Turning order and label records into the frames `features` expects."""

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
