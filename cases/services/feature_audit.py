"""Online/offline mismatch: the feature vectors served with scores, checked
against the offline backfill on a sample of customers."""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from cases.datasets import stored_tables
from models_ml.features import FEATURE_NAMES, HISTORY_COLUMNS, build_features
from models_ml.frames import to_ms
from models_ml.models import Score

logger = logging.getLogger(__name__)
BUCKETS = 10_000


@dataclass(frozen=True)
class MismatchReport:
    orders: int  # scored orders in the sample
    mismatched: int  # of those, orders with at least one feature off
    by_feature: dict[str, int] = field(default_factory=dict)


def in_sample(values: object, share: float) -> np.ndarray:
    """Whether each key value is in a `share` of all values: a stable hash
    (CRC-32), so a key is in or out of every check, and its orders are
    checked together."""
    cut = share * BUCKETS
    return np.array(
        [zlib.crc32(str(v).encode()) % BUCKETS < cut for v in values],  # type: ignore[attr-defined]
        dtype=bool,
    )


def features_mismatch_count(
    share: float = 0.01, since: datetime | None = None, atol: float = 1e-9
) -> MismatchReport:
    """Recompute with the offline backfill the features of the scored orders
    of a `share` of customers (created since `since`), and count the orders,
    and per feature the values, where the vector served with the order's
    first score differs by more than `atol` (NaN equals NaN).

    Reads every stored order and label, like the training set: a periodic
    check, not a request. Logs a warning when anything differs.
    """
    ids, history, labels = stored_tables()
    sampled = in_sample(history["customer_id"], share)
    if since is not None:
        sampled &= history["ts"].to_numpy() >= to_ms(since)
    served: dict[int, dict] = {}
    scores = Score.objects.filter(order_id__in=ids[sampled].tolist()).order_by(
        "order_id", "id"
    )
    for order_id, features in scores.values_list("order_id", "features"):
        served.setdefault(order_id, features)
    keep = sampled & np.isin(ids, np.fromiter(served, dtype=np.int64))
    if not keep.any():
        return MismatchReport(0, 0)
    queries = history[keep].reset_index(drop=True)
    offline = build_features(history[HISTORY_COLUMNS], queries, labels).to_numpy()
    online = np.array(
        [[_value(served[i].get(n)) for n in FEATURE_NAMES] for i in ids[keep]],
        dtype=float,
    )
    off = ~((np.abs(online - offline) <= atol) | (np.isnan(online) & np.isnan(offline)))
    counts = off.sum(axis=0)
    report = MismatchReport(
        orders=len(queries),
        mismatched=int(off.any(axis=1).sum()),
        by_feature={n: int(c) for n, c in zip(FEATURE_NAMES, counts) if c},
    )
    if report.mismatched:
        logger.warning(
            "online/offline feature mismatch: %d of %d sampled orders; %s",
            report.mismatched,
            report.orders,
            report.by_feature,
        )
    return report


def _value(value: object) -> float:
    return np.nan if value is None else float(value)  # type: ignore[arg-type]
