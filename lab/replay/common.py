"""What the static and live replays share: reading the file, days, metrics."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lab.evaluation import ranking_metrics
from lab.replay.source import (
    LabelledOrders,
    labelled_orders_read,
    mapping_resolve,
)
from models_ml.feature_spec import DAY
from models_ml.features import ENTITIES, LABEL_WINDOW, WINDOWS, lookback_ms

# progress(orders done since the last call, what is happening, orders in all)
Progress = Callable[[int, str, int], None]


def progress_none(_rows: int, _note: str, _total: int) -> None:
    return None


def history_days(fields: tuple[str, ...], delay_days: int, *, labelled: bool) -> int:
    """Days of history the features of the first replayed order look back on.

    Windows over orders reach back lookback_ms(column) for each mapped entity;
    with labelled history, label windows reach LABEL_WINDOW behind the moment
    a label is known, i.e. that plus the delay behind the order.
    """
    days = max(lookback_ms(c) for c in ENTITIES.values() if c in fields) // DAY
    if labelled:
        days = max(days, WINDOWS[LABEL_WINDOW] // DAY + delay_days)
    return int(days)


def source_read(
    path: Path,
    mapping: Mapping[str, str],
    warmup_days: int | None,
    delay_days: int,
    first: datetime,
    end: datetime,
    *,
    labelled: bool,
) -> LabelledOrders:
    """The file's orders from `warmup_days` before `first` (default: what the
    features look back on) up to `end`."""
    fields = mapping_resolve(path, mapping)
    warmup = (
        warmup_days
        if warmup_days is not None
        else history_days(tuple(fields), delay_days, labelled=labelled)
    )
    return labelled_orders_read(path, fields, first - timedelta(days=warmup), end)


class Stopwatch:
    """Seconds spent per stage, added up."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = {}
        self._clock = self.started

    def lap(self, stage: str) -> None:
        """Charge the time since the last lap to `stage`."""
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._clock
        self._clock = now

    def report(self) -> dict[str, float]:
        total = time.perf_counter() - self.started
        return {**{k: round(v, 1) for k, v in self.seconds.items()}, "total": total}


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def day_numbers(times: pd.Series) -> np.ndarray:
    """Days since the epoch (UTC) of aware timestamps."""
    return times.dt.tz_convert(None).to_numpy().astype("datetime64[D]").astype(int)


def day_number(moment: datetime) -> int:
    return int(np.datetime64(moment.replace(tzinfo=None), "D").astype(int))


def day_text(number: int) -> str:
    return str(np.datetime64(number, "D"))


def pooled_ranking(
    arrays: list[tuple[np.ndarray, np.ndarray]],
) -> dict[str, float | None]:
    """AUC and AP over (scores, frauds) pairs put together."""
    if not arrays:
        return {"auc": None, "ap": None}
    scores = np.concatenate([a[0] for a in arrays])
    frauds = np.concatenate([a[1] for a in arrays])
    return {k: clean(v) for k, v in ranking_metrics(frauds, scores).items()}


def mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def clean(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def config_dict(config: Any) -> dict[str, Any]:
    return {
        k: (str(v) if isinstance(v, date) else v) for k, v in asdict(config).items()
    }
