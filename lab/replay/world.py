"""The replay's side effects: a throwaway database, orders, cases and labels.

Everything goes through the services the product uses (`orders_bulk_load`,
`orders_ingest`, `queue_mix_select`, `model_train`); the only writes made here
directly are the simulated people: reviewers' decisions and chargebacks, each
stamped with the simulated moment it became known.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Count

from cases.datasets import training_set
from cases.models import ApiClient, AuditEvent, Case, Claim, Label, Order
from cases.schemas import OrderIn
from cases.services.audit import audit_event
from cases.services.bulk import bulk_tables_analyze, import_client, orders_bulk_load
from cases.services.feature_rebuild import feature_tiles_refresh
from cases.services.gate_samples import gate_policy, gate_sample
from cases.services.intake import orders_ingest
from cases.services.queue_mix import queue_mix_select
from cases.services.rescoring import orders_rescore, rescore_candidates
from models_ml.feature_state import labels_record
from models_ml.frames import LABEL_ORDER_FIELDS
from models_ml.models import FeatureTile, ModelVersion, Score, deciding_hit
from models_ml.policy import DecisionPolicy
from models_ml.scoring import active_model_forget
from models_ml.services import model_train

REPLAY_CLIENT = "replay"
REVIEWER = "replay:reviewer"
BULK_CHUNK = 5000


class ReplayRefused(Exception):
    """The database holds data the replay would mix with (or must delete)."""


def replay_database_prepare(*, reset: bool) -> ApiClient:
    """The replay's API client in an empty database; empties it when `reset`.

    Refuses a database that has orders, labels or model versions unless
    `reset`, which deletes all orders, cases, claims, labels, scores, model
    versions and feature tiles (the append-only audit trail is kept): tiles
    left behind would count the deleted orders in the next replay's features.
    """
    counts = {
        "orders": Order.objects.count(),
        "labels": Label.objects.count(),
        "model versions": ModelVersion.objects.count(),
    }
    if any(counts.values()):
        if not reset:
            held = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
            raise ReplayRefused(
                f"database {connection.settings_dict['NAME']!r} already holds {held}. "
                "Replay on a throwaway database (createdb riskreview_replay and "
                "point DATABASE_URL at it), or pass --reset to delete its orders, "
                "cases, labels, scores and model versions."
            )
        _replay_tables_empty()
    active_model_forget()
    return import_client(REPLAY_CLIENT)


def _replay_tables_empty() -> None:
    # CASCADE also empties the tables whose rows point at these (webhook
    # deliveries of the deleted orders, say): they could not outlive them.
    # The audit trail has no foreign keys, so it stays.
    tables = [
        m._meta.db_table
        for m in (Score, Claim, Label, Case, Order, ModelVersion, FeatureTile)
    ]
    quoted = ", ".join(connection.ops.quote_name(t) for t in tables)
    with connection.cursor() as cursor:
        # Inside a transaction, deferred foreign-key checks must run first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {quoted} CASCADE")


def orders_load(
    client: ApiClient,
    orders: Sequence[tuple[OrderIn, bool]],
    label_delay: timedelta | None,
    on_progress: object = None,
) -> int:
    """Store history without scoring it; with `label_delay`, every order's
    truth is known that long after the order (chargeback or merchant). The
    feature tiles are computed once, from the whole tenant, at the end."""
    stored = 0
    for start in range(0, len(orders), BULK_CHUNK):
        chunk = orders[start : start + BULK_CHUNK]
        labels = (
            [
                (
                    o.order_id,
                    "fraud" if fraud else "legitimate",
                    o.created_at + label_delay,
                )
                for o, fraud in chunk
            ]
            if label_delay is not None
            else []
        )
        payloads = [o for o, _ in chunk]
        stored += orders_bulk_load(client, payloads, labels, tiles=False)[0]
        if on_progress is not None:
            on_progress(len(chunk))  # type: ignore[operator]
    feature_tiles_refresh(client.tenant_id, None)
    bulk_tables_analyze()
    return stored


@dataclass
class IntakeDay:
    """What intake made of one day's orders."""

    probabilities: dict[str, float | None]
    cases: int
    seconds: float


def orders_ingest_day(
    client: ApiClient,
    orders: Sequence[OrderIn],
    chunk_size: int,
    policy: DecisionPolicy | None = None,
) -> IntakeDay:
    """Send the day's orders through intake in time-ordered batches."""
    started = time.perf_counter()
    probabilities: dict[str, float | None] = {}
    cases = 0
    for start in range(0, len(orders), chunk_size):
        results = orders_ingest(
            client,
            orders[start : start + chunk_size],
            explain_all=False,
            policy=policy,
        )
        for result in results:
            probabilities[result.order.order_id] = (
                result.score.probability if result.score else None
            )
            cases += result.case is not None
    return IntakeDay(probabilities, cases, time.perf_counter() - started)


def queue_mix_day(
    client: ApiClient,
    start: datetime,
    end: datetime,
    policy: DecisionPolicy,
    seed: int,
) -> tuple[int, int, int]:
    """The queue mix over the day's orders: (high-risk, exploration, audit)."""
    window = Order.objects.filter(
        client=client, created_at__gte=start, created_at__lt=end
    )
    return queue_mix_select(window, policy, np.random.default_rng(seed))


@dataclass
class Reviews:
    decided: int
    frauds: int
    by_reason: dict[str, int]
    # Frauds decided on cases that same-day propagation opened or re-scored.
    propagated_frauds: int = 0


def reviews_decide(
    client: ApiClient,
    start: datetime,
    end: datetime,
    k: int,
    truth: dict[str, bool],
    *,
    rounds: int = 1,
    propagate: Callable[[Label], object] | None = None,
) -> Reviews:
    """Reviewers decide the k open cases of the day's orders with the highest
    priority (the queue page's order), knowing the truth.

    The day's work is split into `rounds`: the labels of round r are known at
    its end (the last round's at `end`), and `propagate(label)` runs on each
    fraud label before the next round picks its cases, as the product's task
    does within seconds of a decision (same-day feedback).
    """
    total = Reviews(0, 0, {})
    step = (end - start) / rounds
    for r in range(rounds):
        share = k * (r + 1) // rounds - k * r // rounds
        known_at = end if r == rounds - 1 else start + step * (r + 1)
        with transaction.atomic():
            labels, part = _review_round(client, start, end, share, truth, known_at)
        total.decided += part.decided
        total.frauds += part.frauds
        total.propagated_frauds += part.propagated_frauds
        for reason, n in part.by_reason.items():
            total.by_reason[reason] = total.by_reason.get(reason, 0) + n
        if propagate is not None:
            for label in labels:
                if label.value == Label.Value.FRAUD:
                    propagate(label)
    return total


def _review_round(
    client: ApiClient,
    start: datetime,
    end: datetime,
    k: int,
    truth: dict[str, bool],
    known_at: datetime,
) -> tuple[list[Label], Reviews]:
    cases = list(
        Case.objects.pending()
        .filter(
            order__client=client,
            order__created_at__gte=start,
            order__created_at__lt=end,
        )
        .by_priority()
        .select_related("order")[:k]
    )
    caused = set(
        Score.objects.filter(order__in=[c.order_id for c in cases])
        .latest_per_order()
        .filter(cause_label__isnull=False)
        .values_list("order_id", flat=True)
    )
    labels = []
    by_reason: dict[str, int] = {}
    for case in cases:
        fraud = truth[case.order.order_id]
        labels.append(
            Label(
                order=case.order,
                case=case,
                value=Label.Value.FRAUD if fraud else Label.Value.LEGITIMATE,
                source=Label.Source.REVIEWER,
                reasons=["replay"],
                known_at=known_at,
            )
        )
        case.status, case.decided_at = Case.Status.DECIDED, known_at
        by_reason[case.queue_reason] = by_reason.get(case.queue_reason, 0) + 1
    Label.objects.bulk_create(labels)
    labels_record(labels)
    Case.objects.bulk_update(cases, ["status", "decided_at"])
    AuditEvent.objects.bulk_create(
        audit_event(
            REVIEWER,
            "case.decided",
            case,
            {"status": Case.Status.DECIDED, "label": label.value},
        )
        for label, case in zip(labels, cases, strict=True)
    )
    frauds = [label for label in labels if label.value == Label.Value.FRAUD]
    return labels, Reviews(
        decided=len(labels),
        frauds=len(frauds),
        by_reason=by_reason,
        propagated_frauds=sum(label.order.pk in caused for label in frauds),
    )


def latest_probabilities(client: ApiClient, order_ids: Sequence[str]) -> dict:
    """order id → the probability of its latest score (after any re-scoring)."""
    rows = (
        Score.objects.filter(order__client=client, order__order_id__in=list(order_ids))
        .latest_per_order()
        .values_list("order__order_id", "probability")
    )
    return dict(rows)


def rule_declined(client: ApiClient, start: datetime, end: datetime) -> list[str]:
    """The orders of [start, end) whose latest decision is a decline that a
    rule or block-list entry made (no reviewer saw them)."""
    rows = (
        Score.objects.filter(
            order__client=client,
            order__created_at__gte=start,
            order__created_at__lt=end,
        )
        .latest_per_order()
        .filter(decision=Score.Decision.DECLINE)
        .values_list("order__order_id", "rule_hits")
    )
    return [
        order_id
        for order_id, hits in rows
        if (hit := deciding_hit(hits)) is not None and hit["action"] == "decline"
    ]


def chargebacks_record(
    client: ApiClient, frauds: pd.DataFrame, delay: timedelta
) -> int:
    """A chargeback for each of these fraudulent orders not already labelled
    fraud, known `delay` after the order."""
    ids = frauds["order_id"].tolist()
    if not ids:
        return 0
    orders = Order.objects.filter(client=client, order_id__in=ids).exclude(
        labels__value=Label.Value.FRAUD
    )
    labels = [
        Label(
            order=order,
            value=Label.Value.FRAUD,
            source=Label.Source.CHARGEBACK,
            reasons=["replay"],
            known_at=order.created_at + delay,
        )
        for order in orders
    ]
    Label.objects.bulk_create(labels)
    labels_record(labels)
    return len(labels)


def confirmations_record(
    client: ApiClient, legitimate: pd.DataFrame, delay: timedelta
) -> int:
    """A merchant confirmation for each of these legitimate orders that no one
    labelled: no chargeback came within `delay`, so the order was fine."""
    ids = legitimate["order_id"].tolist()
    if not ids:
        return 0
    orders = Order.objects.filter(
        client=client, order_id__in=ids, labels__isnull=True
    ).only("pk", "tenant_id", "created_at", *LABEL_ORDER_FIELDS)
    labels = [
        Label(
            order=order,
            value=Label.Value.LEGITIMATE,
            source=Label.Source.MERCHANT,
            reasons=["replay: no chargeback"],
            known_at=order.created_at + delay,
        )
        for order in orders
    ]
    Label.objects.bulk_create(labels, batch_size=BULK_CHUNK)
    labels_record(labels)
    return len(labels)


def capacity_threshold(
    client: ApiClient, start: datetime, end: datetime, cases: int
) -> float | None:
    """The probability the active model gives the `cases`-th riskiest order
    of [start, end), from the features stored when they were first scored;
    None without a model or orders."""
    from models_ml.features import FEATURE_NAMES
    from models_ml.scoring import active_model

    loaded = active_model(client.tenant_id)
    if loaded is None:
        return None
    features: dict[int, dict] = {}
    rows = Score.objects.filter(
        order__client=client, order__created_at__gte=start, order__created_at__lt=end
    ).values_list("order_id", "features")
    for order_id, values in rows.order_by("-id"):
        features[order_id] = values  # features are the same in every scoring
    if not features:
        return None
    matrix = np.array(
        [
            [np.nan if f.get(n) is None else f[n] for n in FEATURE_NAMES]
            for f in features.values()
        ],
        dtype=float,
    )
    ranked = np.sort(loaded.predict(matrix))[::-1]
    return float(ranked[min(cases, len(ranked)) - 1])


def known_compromised(client: ApiClient, card_field: str, moment: datetime) -> set:
    """Cards with a fraud label known before `moment`."""
    return set(
        Label.objects.filter(
            order__client=client, value=Label.Value.FRAUD, known_at__lt=moment
        )
        .values_list(f"order__{card_field}", flat=True)
        .distinct()
    )


def label_counts() -> dict[str, int]:
    """Labels by source and by value, and their total."""
    counts = dict.fromkeys([*Label.Source.values, *Label.Value.values], 0)
    rows = Label.objects.values_list("source", "value").annotate(n=Count("id"))
    for source, value, n in rows.order_by():
        counts[source] += n
        counts[value] += n
    counts["total"] = sum(counts[source] for source in Label.Source.values)
    return counts


def replay_model_train(
    *,
    model_dir: Path | None,
    rescore: bool,
    gate_maturity_days: int | None = None,
    **options: Any,
) -> ModelVersion:
    """The product's training (`model_train` with `options`) on the replayed
    orders. After a promotion the product enqueues a re-scoring; with
    `rescore` it runs here and now, otherwise it is skipped (the simulated
    reviewers only work each day's new cases). The replay's orders are one
    tenant's, the replay client's. With `gate_maturity_days` the product's
    gate decides the promotion (`cases.services.gate_samples`, that window).
    """
    tenant_id = import_client(REPLAY_CLIENT).tenant_id
    if gate_maturity_days is not None:
        options["gate_sample"] = lambda data: gate_sample(
            tenant_id, data, gate_maturity_days
        )
        options["gate_policy"] = gate_policy()
    version = model_train(
        lambda: training_set(tenant_id),
        tenant_id=tenant_id,
        model_dir=model_dir,
        **options,
    )
    if rescore and version.status == ModelVersion.Status.ACTIVE:
        orders_rescore(rescore_candidates(tenant_id))
    return version
