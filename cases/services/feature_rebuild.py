"""Rebuilding the online feature tiles from the stored orders and labels."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from cases.datasets import stored_tables
from models_ml.feature_state import tiles_add, tiles_clear
from models_ml.features import HISTORY_COLUMNS, order_new_cards
from models_ml.tiles import label_tiles, order_tiles

CHUNK = 100_000


def feature_tiles_rebuild(progress: Callable[[int, int], None] | None = None) -> int:
    """Replace every tile by tiles computed offline from the stored orders and
    labels (after a restore, a schema change or a new feature); return the
    number of events added. One transaction: intake sees the old tiles or the
    new ones. `progress(done, total)` is called after each chunk of events.
    """
    _ids, history, labels = stored_tables()
    history = history.sort_values("ts", kind="stable").reset_index(drop=True)
    new_cards = order_new_cards(history)
    total, done = len(history) + len(labels), 0
    with transaction.atomic():
        tiles_clear()
        for first in range(0, len(history), CHUNK):
            part = history.iloc[first : first + CHUNK][HISTORY_COLUMNS]
            tiles_add(order_tiles(part, new_cards[first : first + CHUNK]), shard=0)
            done += len(part)
            if progress:
                progress(done, total)
        for first in range(0, len(labels), CHUNK):
            part = labels.iloc[first : first + CHUNK]
            tiles_add(label_tiles(part), shard=0)
            done += len(part)
            if progress:
                progress(done, total)
    return total
