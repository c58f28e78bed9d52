"""The Fraud Detection Handbook's static protocol, through the product."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from cases.datasets import training_set
from cases.services.training import rescore_after_commit
from lab.evaluation import handbook_protocol, ranking_metrics
from lab.replay.common import (
    Progress,
    Stopwatch,
    config_dict,
    day_number,
    day_numbers,
    day_text,
    midnight,
    progress_none,
    source_read,
)
from lab.replay.source import TRUTH_FIELD, payloads_build
from lab.replay.world import (
    orders_ingest_day,
    orders_load,
    replay_database_prepare,
)
from models_ml.models import ModelVersion
from models_ml.services import model_train


@dataclass(frozen=True)
class StaticConfig:
    train_start: date
    train_days: int = 7
    delay_days: int = 7
    test_days: int = 7
    k: int = 100
    warmup_days: int | None = None
    chunk_size: int = 10_000


def replay_static_run(
    path: Path,
    mapping: Mapping[str, str],
    config: StaticConfig,
    *,
    reset: bool = False,
    progress: Progress = progress_none,
) -> dict[str, Any]:
    """The handbook's protocol through the product's services.

    History, training and delay weeks are bulk-loaded with every label known
    `delay_days` after its order; a model is fitted on the training week only
    (the product's features and estimator) and promoted; the test week goes
    through intake day by day, and its intake scores are evaluated as the
    handbook does (AUC and AP on all test transactions of cards not known
    compromised, CP@k per day).
    """
    watch = Stopwatch()
    train_start = midnight(config.train_start)
    train_end = train_start + timedelta(days=config.train_days)
    test_start = train_end + timedelta(days=config.delay_days)
    test_end = test_start + timedelta(days=config.test_days)
    source = source_read(
        path,
        mapping,
        config.warmup_days,
        config.delay_days,
        train_start,
        test_end,
        labelled=True,
    )
    client = replay_database_prepare(reset=reset)
    watch.lap("read")

    total = len(source.frame)
    before = list(payloads_build(source.between(source.start, test_start), mapping))
    delay = timedelta(days=config.delay_days)
    orders_load(client, before, delay, lambda n: progress(n, "bulk load", total))
    watch.lap("bulk_load")
    version = static_model_train(train_start, train_end)
    watch.lap("training")

    probabilities: dict[str, float | None] = {}
    cases = 0
    for offset in range(config.test_days):
        day = test_start + timedelta(days=offset)
        rows = source.between(day, day + timedelta(days=1))
        orders = [o for o, _ in payloads_build(rows, mapping)]
        intake = orders_ingest_day(client, orders, config.chunk_size)
        probabilities.update(intake.probabilities)
        cases += intake.cases
        progress(len(orders), f"intake {day:%Y-%m-%d}", total)
    watch.lap("intake")

    frame = source.between(train_start, test_end)
    days = day_numbers(frame["created_at"])
    scores = frame["order_id"].map(probabilities).astype(float).fillna(0.0).to_numpy()
    cards = frame[source.card_field].to_numpy()
    frauds = frame[TRUTH_FIELD].to_numpy(dtype=int)
    protocol = {
        "first_day": int(days.min()),
        "test_days": range(day_number(test_start), day_number(test_end)),
        "delay_days": config.delay_days,
        "k": config.k,
    }
    summary, results = handbook_protocol(days, cards, scores, frauds, **protocol)
    perfect, _ = handbook_protocol(
        days, cards, frauds.astype(float), frauds, **protocol
    )
    on_test = days >= day_number(test_start)
    everything = ranking_metrics(frauds[on_test], scores[on_test])
    return {
        "mode": "static",
        "data": str(path),
        "config": config_dict(config),
        "summary": {
            **summary,
            "k": config.k,
            "cp_at_k_perfect": perfect["cp_at_k"],
            "cp_at_k_share_of_perfect": summary["cp_at_k"] / perfect["cp_at_k"],
            "auc_all_test": everything["auc"],
            "ap_all_test": everything["ap"],
            "cases_opened": cases,
            "model_version": version.pk,
            "labels": version.label_counts,
            "labels_used": version.training_rows,
            "training_seconds": version.training_seconds,
            "seconds": watch.report(),
        },
        "days": [
            {
                **r.as_dict(),
                "day": day_text(int(r.day)),  # type: ignore[call-overload]
                "labels": version.training_rows,
            }
            for r in results
        ],
    }


def static_model_train(start: datetime, end: datetime) -> ModelVersion:
    """Fit the product's model on the labelled orders of [start, end), with
    the product's training, and promote it.

    The protocol trains on the whole window: nothing is held out, so the
    registry promotes the model without a comparison.
    """
    version = model_train(
        training_set, force=True, window=(start, end), holdout_share=0.0
    )
    rescore_after_commit()
    return version
