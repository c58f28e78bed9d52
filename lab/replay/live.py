"""The learning loop from a cold start, replayed one simulated day at a time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cases.services.linked import orders_linked_rescore
from cases.services.maturity import labels_mature
from lab.evaluation import day_metrics
from lab.replay.common import (
    Progress,
    Stopwatch,
    config_dict,
    mean,
    midnight,
    pooled_ranking,
    progress_none,
    source_read,
)
from lab.replay.source import TRUTH_FIELD, payloads_build
from lab.replay.world import (
    capacity_threshold,
    chargebacks_record,
    confirmations_record,
    known_compromised,
    label_counts,
    latest_probabilities,
    orders_ingest_day,
    orders_load,
    queue_mix_day,
    replay_database_prepare,
    replay_model_train,
    reviews_decide,
    rule_declined,
)
from models_ml.models import ModelVersion
from models_ml.policy import decision_policy

# With a capacity-driven threshold, a day's queue holds about this many times
# what the reviewers can decide.
QUEUE_PER_REVIEW = 2


@dataclass(frozen=True)
class LiveConfig:
    start: date
    days: int
    k: int = 100
    delay_days: int = 7
    warmup_days: int | None = None
    # The product trains nightly (RETRAIN_NIGHTLY_HOUR, after the night's
    # chargebacks and matured labels) and whenever RETRAIN_MIN_NEW_LABELS have
    # come, which the daily maturity batch always brings: every day, at the
    # day's start. 7 trains weekly (the earlier replays).
    retrain_every_days: int = 1
    exploration_share: float = 0.10
    audit_share: float = 0.05
    # None: capacity-driven. After each new model, the probability that would
    # have queued QUEUE_PER_REVIEW × k orders a day over the week before.
    review_threshold: float | None = None
    # 1.0: nothing is declined unseen; the reviewers' capacity decides.
    decline_threshold: float = 1.0
    # Orders that had no chargeback after the delay are confirmed legitimate
    # (the handbook's assumption that every label is known after the delay).
    confirm_legitimate: bool = False
    # The product's loop (issue 12), on by default: the unbiased gate decides
    # promotions; approved orders mature into legitimate labels after
    # `maturity_days` (None: the delay; 0: never); the day's reviews come in
    # `review_rounds`, each fraud decision re-scoring its linked orders before
    # the next round (1: no same-day propagation).
    gate: bool = True
    maturity_days: int | None = None
    review_rounds: int = 4
    seed: int = 0
    chunk_size: int = 10_000


def replay_live_run(
    path: Path,
    mapping: Mapping[str, str],
    config: LiveConfig,
    *,
    reset: bool = False,
    progress: Progress = progress_none,
    model_dir: Path | None = None,
    rescore: bool = False,
) -> dict[str, Any]:
    """The learning loop from a cold start, one simulated day at a time.

    Each day: the chargebacks known that day are recorded (frauds no reviewer
    caught, known `delay_days` after the order), and with `confirm_legitimate`
    the other orders of that age are confirmed legitimate; the day's orders go
    through intake in time order; the queue mix adds exploration and audit
    cases; reviewers decide the day's k open cases with the highest priority,
    using the truth, known at the end of the day. `model_train` runs at the
    day's start, after the night's labels (the product's nightly point), when
    a retrain is due (every `retrain_every_days`, and every day while no model
    is active). Warm-up orders before `start` are history only: unlabelled,
    unscored and never charged back, so no label is known before `start`.
    """
    watch = Stopwatch()
    start = midnight(config.start)
    end = start + timedelta(days=config.days)
    source = source_read(
        path,
        mapping,
        config.warmup_days,
        config.delay_days,
        start,
        end,
        labelled=False,
    )
    client = replay_database_prepare(reset=reset)
    watch.lap("read")
    total = len(source.frame)
    warmup = list(payloads_build(source.between(source.start, start), mapping))
    orders_load(client, warmup, None, lambda n: progress(n, "warm-up", total))
    watch.lap("bulk_load")

    loop = _Loop(config, client, source.between(start, end), source.card_field)
    loop.model_dir, loop.rescore = model_dir, rescore
    for offset in range(config.days):
        loop.day(offset, mapping, watch)
        progress(loop.days[-1]["orders"], loop.days[-1]["day"], total)
    return {
        "mode": "live",
        "data": str(path),
        "config": config_dict(config),
        "summary": loop.summary(watch.report()),
        "weeks": loop.weeks(),
        "trainings": loop.trainings,
        "days": loop.days,
    }


class _Loop:
    """The state the replay carries from one simulated day to the next."""

    def __init__(
        self, config: LiveConfig, client: Any, live: pd.DataFrame, card_field: str
    ) -> None:
        self.config, self.client, self.live = config, client, live
        self.card_field = card_field
        self.delay = timedelta(days=config.delay_days)
        self.truth = dict(zip(live["order_id"], live[TRUTH_FIELD], strict=True))
        self.known_at = live["created_at"] + self.delay
        self.threshold = (
            config.review_threshold
            if config.review_threshold is not None
            else decision_policy().review_threshold
        )
        self.last_trained = -config.retrain_every_days
        self._maturity_days = (
            config.delay_days if config.maturity_days is None else config.maturity_days
        )
        self.model_dir: Path | None = None
        self.rescore = False
        self.days: list[dict[str, Any]] = []
        self.pooled: list[tuple[np.ndarray, np.ndarray] | None] = []
        self.trainings: list[dict[str, Any]] = []

    def day(self, offset: int, mapping: Mapping[str, str], watch: Stopwatch) -> None:
        config = self.config
        start = midnight(config.start) + timedelta(days=offset)
        end = start + timedelta(days=1)
        reported = self.live[(self.known_at >= start) & (self.known_at < end)]
        frauds = reported[reported[TRUTH_FIELD]]
        chargebacks = chargebacks_record(self.client, frauds, self.delay)
        confirmed = 0
        if config.confirm_legitimate:
            legitimate = reported[~reported[TRUTH_FIELD]]
            confirmed = confirmations_record(self.client, legitimate, self.delay)
        matured = 0
        if self._maturity_days:
            matured = labels_mature(
                now=start,
                maturity_days=self._maturity_days,
                tenant_id=self.client.tenant_id,
                # The warm-up's frauds are never charged back: only the
                # replayed days' orders can mature.
                since=midnight(config.start),
            )
        known = known_compromised(self.client, self.card_field, start)
        watch.lap("labels")
        before = _active_version()
        training = self._train_if_due(offset, start)
        watch.lap("training")
        if config.review_threshold is None and _active_version() != before:
            self._threshold_for_capacity(start)
            watch.lap("threshold")

        in_day = (self.live["created_at"] >= start) & (self.live["created_at"] < end)
        rows = self.live[in_day]
        orders = [o for o, _ in payloads_build(rows, mapping)]
        model_used = _active_version()
        threshold = self.threshold
        policy = replace(
            decision_policy(),
            review_threshold=threshold,
            decline_threshold=max(threshold, config.decline_threshold),
            exploration_share=config.exploration_share,
            audit_share=config.audit_share,
        )
        intake = orders_ingest_day(self.client, orders, config.chunk_size, policy)
        watch.lap("intake")
        high, explored, audited = queue_mix_day(
            self.client, start, end, policy, config.seed + offset
        )
        watch.lap("queue")
        reviews = reviews_decide(
            self.client,
            start,
            end,
            config.k,
            self.truth,
            rounds=config.review_rounds,
            propagate=(
                (lambda label: orders_linked_rescore(label.pk, policy))
                if config.review_rounds > 1
                else None
            ),
        )
        watch.lap("reviews")
        final = latest_probabilities(self.client, rows["order_id"].tolist())
        declined = rule_declined(self.client, start, end)
        watch.lap("rules")
        metrics = self._metrics(rows, intake.probabilities, known, start)
        after = self._metrics(rows, final, known, start, pool=False)
        metrics["cp_at_k_final"] = after.get("cp_at_k")
        self.days.append(
            {
                **metrics,
                "orders": len(orders),
                "review_threshold": threshold,
                "cases": intake.cases,
                "high_risk": high,
                "exploration": explored,
                "audit": audited,
                "reviewed": reviews.decided,
                "reviewed_frauds": reviews.frauds,
                "reviewed_by_reason": reviews.by_reason,
                "propagated_frauds": reviews.propagated_frauds,
                "rule_declined": len(declined),
                "rule_frauds": sum(self.truth[o] for o in declined),
                "chargebacks": chargebacks,
                "matured": matured,
                "confirmed_legitimate": confirmed,
                "labels": label_counts()["total"],
                "known_cards": len(known),
                "model_version": model_used,
                "training": training["status"] if training else None,
            }
        )

    def _threshold_for_capacity(self, end: datetime) -> None:
        """After a new model: the threshold that would have queued
        QUEUE_PER_REVIEW × k orders a day over the last week (before `end`)
        under it."""
        first = max(midnight(self.config.start), end - timedelta(days=7))
        days = (end - first) // timedelta(days=1)
        if days < 1:
            return
        cut = capacity_threshold(
            self.client, first, end, QUEUE_PER_REVIEW * self.config.k * days
        )
        if cut is not None:
            self.threshold = cut

    def _train_if_due(self, offset: int, day: datetime) -> dict[str, Any] | None:
        from models_ml.services import TrainingDataError

        due = offset - self.last_trained >= self.config.retrain_every_days
        if _active_version() is not None and not due:
            return None
        try:
            version = replay_model_train(
                model_dir=self.model_dir,
                rescore=self.rescore,
                gate_maturity_days=(self._maturity_days if self.config.gate else None),
            )
        except TrainingDataError as exc:
            training: dict[str, Any] = {"day": f"{day:%Y-%m-%d}", "status": str(exc)}
        else:
            self.last_trained = offset
            holdout = (version.metrics or {}).get("holdout") or {}
            training = {
                "day": f"{day:%Y-%m-%d}",
                "version": version.pk,
                "status": version.status,
                "labels": version.label_counts,
                "training_rows": version.training_rows,
                "training_seconds": version.training_seconds,
                "holdout_ap": holdout.get("ap"),
                "reason": version.promotion_reason,
                "gate_verdict": version.gate_verdict or None,
                "gate": version.gate or None,
            }
        self.trainings.append(training)
        return training

    def _metrics(
        self,
        rows: pd.DataFrame,
        probabilities: dict[str, float | None],
        known: set,
        day: datetime,
        *,
        pool: bool = True,
    ) -> dict[str, Any]:
        """The day's metrics on the cards not known compromised at its start
        (`pool`: kept for the week's pooled AP and AUC)."""
        scores = rows["order_id"].map(probabilities).astype(float).to_numpy()
        cards = rows[self.card_field].to_numpy()
        frauds = rows[TRUTH_FIELD].to_numpy(dtype=int)
        keep = ~np.isin(cards, np.asarray(list(known), dtype=object))
        base = {"day": f"{day:%Y-%m-%d}", "frauds_all": int(frauds.sum())}
        if np.isnan(scores).any():
            # No model yet: intake queued orders by policy; nothing ranked.
            if pool:
                self.pooled.append(None)
            empty = dict.fromkeys(["auc", "ap", "p_at_k", "cp_at_k"])
            return {**base, **empty, "rows": int(keep.sum())}
        if pool:
            self.pooled.append((scores[keep], frauds[keep]))
        k = self.config.k
        result = day_metrics(day, cards[keep], scores[keep], frauds[keep], k)
        # A perfect ranker puts every compromised card in the top k.
        perfect = min(result.compromised_cards, k) / k
        return {**result.as_dict(), **base, "cp_at_k_perfect": perfect}

    def summary(self, seconds: dict[str, float]) -> dict[str, Any]:
        scored = [d for d in self.days if d["cp_at_k"] is not None]
        labels = label_counts()
        trained = [t for t in self.trainings if "version" in t]
        return {
            **pooled_ranking([p for p in self.pooled if p is not None]),
            "cp_at_k": mean([d["cp_at_k"] for d in scored]),
            "cp_at_k_perfect": mean([d["cp_at_k_perfect"] for d in scored]),
            "p_at_k": mean([d["p_at_k"] for d in scored]),
            "k": self.config.k,
            "days": len(self.days),
            "days_scored": len(scored),
            "labels": labels,
            "labels_used": labels["total"],
            "reviewed": sum(d["reviewed"] for d in self.days),
            "reviewed_frauds": sum(d["reviewed_frauds"] for d in self.days),
            "trainings": len(trained),
            "promotions": len([t for t in trained if t["status"] == "active"]),
            "gate_verdicts": {
                v: sum(t.get("gate_verdict") == v for t in trained)
                for v in ("promote", "reject", "held")
            },
            "matured": sum(d["matured"] for d in self.days),
            "propagated_frauds": sum(d["propagated_frauds"] for d in self.days),
            "rule_declined": sum(d["rule_declined"] for d in self.days),
            "rule_frauds": sum(d["rule_frauds"] for d in self.days),
            "training_seconds": round(
                sum(t["training_seconds"] or 0.0 for t in trained), 1
            ),
            "seconds": seconds,
        }

    def weeks(self) -> list[dict[str, Any]]:
        """Seven-day blocks from the first day: mean CP@k and P@k, pooled AUC/AP."""
        weeks = []
        for first in range(0, len(self.days), 7):
            block = self.days[first : first + 7]
            arrays = [p for p in self.pooled[first : first + 7] if p is not None]
            scored = [d for d in block if d["cp_at_k"] is not None]
            weeks.append(
                {
                    "week": first // 7 + 1,
                    "first_day": block[0]["day"],
                    "last_day": block[-1]["day"],
                    "days_scored": len(scored),
                    **pooled_ranking(arrays),
                    "cp_at_k": mean([d["cp_at_k"] for d in scored]),
                    "cp_at_k_perfect": mean([d["cp_at_k_perfect"] for d in scored]),
                    "share_of_perfect": _share(scored, "cp_at_k"),
                    "cp_at_k_final": mean([d["cp_at_k_final"] for d in scored]),
                    "final_share_of_perfect": _share(scored, "cp_at_k_final"),
                    "p_at_k": mean([d["p_at_k"] for d in scored]),
                    "reviewed_frauds": sum(d["reviewed_frauds"] for d in block),
                    "propagated_frauds": sum(d["propagated_frauds"] for d in block),
                    "rule_declined": sum(d["rule_declined"] for d in block),
                    "rule_frauds": sum(d["rule_frauds"] for d in block),
                    "labels": block[-1]["labels"],
                }
            )
        return weeks


def _share(days: list[dict[str, Any]], key: str) -> float | None:
    """The week's mean CP@k over the perfect ranker's mean on the same days."""
    ours = mean([d[key] for d in days if d.get(key) is not None])
    perfect = mean([d["cp_at_k_perfect"] for d in days])
    if ours is None or not perfect:
        return None
    return ours / perfect


def _active_version() -> int | None:
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE)
    return active.values_list("pk", flat=True).first()
