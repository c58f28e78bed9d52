"""Which labelled orders the promotion gate compares models on.

The review side knows how each order came to be labelled, so it picks the
gate's sample (`models_ml.gate` explains why these two are unbiased):

- the tenant's decided **audit** cases, weighted by 1/π (the inclusion
  probability the queue mix recorded). Every order with an audit case is
  reserved: no gated fit learns from it, the served one included, so a
  champion has seen none of them and the sample grows with every audit
  decision;
- a **matured** window: the newest GATE_MATURED_WINDOW_DAYS of order time
  ending RISK_MATURITY_DAYS before the tenant's newest order (or at the newest
  order the maturity task has matured, if that is earlier), eligible only
  when nearly all of its orders have a truth (then the labelled orders are
  the population, weight 1).

The audit sample is the gate's whenever it meets the policy's minimum. Below
it, the one with more frauds is used (the AP difference's interval narrows
with the frauds, not the cases): a new tenant's matured week can hold more
frauds than its first audit cases.

A matured window keeps only the orders the champion has not trained on:
those with no label created before its training began. A version promoted on
a matured window is refit on every label but the reserved ones, so it has
seen every such order labelled before it, and a comparison on those would
favour it in-sample. That leaves the orders the queue did not catch (reviewers
label an order the day it comes, maturity waits RISK_MATURITY_DAYS), the same
for both models but a thin, hard sample: the second-best choice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db.models import Max, Min, QuerySet

from cases.models import Case, Label, Order
from models_ml.gate import GatePolicy, GateSample
from models_ml.models import ModelVersion
from models_ml.training import TrainingSet

GATE_MATURED_WINDOW_DAYS = 7
MATURED_COVERAGE = 0.95


def gate_policy() -> GatePolicy:
    return GatePolicy(
        min_cases=settings.GATE_MIN_CASES, min_frauds=settings.GATE_MIN_FRAUDS
    )


def gate_sample(
    tenant_id: int, data: TrainingSet, maturity_days: int | None = None
) -> GateSample:
    """The audit sample when it meets the policy's minimum, else the audit
    sample or the eligible matured window, whichever holds more frauds (on a
    tie, more cases; then audit), with `why` saying which and why. The gate
    holds when the chosen one is still too small. Either way the audit cases
    are `reserved`."""
    reserved = audit_orders(tenant_id, data)
    audit = champion_unseen(tenant_id, audit_sample(tenant_id, data))
    a = (_frauds(audit, data), len(audit.order_ids))
    counts = f"audit {a[1]} cases, {a[0]} frauds"
    policy = gate_policy()
    if a[1] >= policy.min_cases and a[0] >= policy.min_frauds:
        why = f"audit: enough cases and frauds ({counts})"
        return replace(audit, why=why, reserved=reserved)
    matured = matured_sample(tenant_id, data, maturity_days)
    if matured is None:
        why = f"audit: no fully labelled matured window ({counts})"
        return replace(audit, why=why, reserved=reserved)
    matured = champion_unseen(tenant_id, matured)
    m = (_frauds(matured, data), len(matured.order_ids))
    counts += f"; matured window {m[1]} cases, {m[0]} frauds"
    if m > a:
        why = f"matured window: more frauds ({counts})"
        return replace(matured, why=why, reserved=reserved)
    why = f"audit: at least as many frauds ({counts})"
    return replace(audit, why=why, reserved=reserved)


def champion_unseen(tenant_id: int, sample: GateSample) -> GateSample:
    """The sample's orders the tenant's active version cannot have trained on:
    every label of theirs created after its training began, and, when it
    reserved the audit cases, every audit case that existed then. The whole
    sample when there is no active version."""
    champion = ModelVersion.objects.filter(
        tenant_id=tenant_id, status=ModelVersion.Status.ACTIVE
    ).first()
    if champion is None or len(sample.order_ids) == 0:
        return sample
    ids = sample.order_ids.tolist()
    unseen = set(
        Label.objects.filter(order__tenant_id=tenant_id, order_id__in=ids)
        .values("order_id")
        .annotate(first=Min("created_at"))
        .filter(first__gte=champion.created_at)
        .values_list("order_id", flat=True)
    )
    if (champion.gate or {}).get("reserved_rows") is not None:
        unseen.update(
            Case.objects.filter(
                tenant_id=tenant_id,
                queue_reason=Case.QueueReason.AUDIT,
                order_id__in=ids,
                created_at__lt=champion.created_at,
            ).values_list("order_id", flat=True)
        )
    keep = np.isin(sample.order_ids, np.fromiter(unseen, dtype=np.int64))
    return replace(
        sample, order_ids=sample.order_ids[keep], weights=sample.weights[keep]
    )


def audit_orders(tenant_id: int, data: TrainingSet) -> np.ndarray:
    """The labelled orders in `data` with an audit case, decided or not: no
    gated fit learns from them."""
    rows = _audit_cases(tenant_id, data).values_list("order_id", flat=True)
    return np.array(sorted(rows), dtype=np.int64)


def _frauds(sample: GateSample, data: TrainingSet) -> int:
    return int(data.target[np.isin(data.order_ids, sample.order_ids)].sum())


def audit_sample(tenant_id: int, data: TrainingSet) -> GateSample:
    """The tenant's decided audit cases whose orders are labelled in `data`.

    Decided only: an audit case nobody reviewed is labelled only if a
    chargeback came, and counting those would over-sample frauds."""
    decided = _audit_cases(tenant_id, data).filter(status=Case.Status.DECIDED)
    pairs = sorted(decided.values_list("order_id", "selection_probability"))
    return GateSample(
        order_ids=np.array([p[0] for p in pairs], dtype=np.int64),
        weights=np.array([1.0 / p[1] for p in pairs], dtype=float),
        source="audit",
    )


def _audit_cases(tenant_id: int, data: TrainingSet) -> QuerySet[Case]:
    """The tenant's audit cases whose orders are labelled in `data`. The
    audit cases are few and the labelled orders many: the orders are kept in
    memory, not sent as an IN list of every labelled order (3 s at 300,000)."""
    ids = Case.objects.filter(
        tenant_id=tenant_id, queue_reason=Case.QueueReason.AUDIT
    ).values_list("order_id", flat=True)
    candidates = np.fromiter(ids, dtype=np.int64)
    labelled = candidates[np.isin(candidates, data.order_ids)]
    return Case.objects.filter(tenant_id=tenant_id, order_id__in=labelled.tolist())


def matured_sample(
    tenant_id: int, data: TrainingSet, maturity_days: int | None = None
) -> GateSample | None:
    """The labelled orders of the newest matured window, when at least
    MATURED_COVERAGE of the window's orders are labelled; else None. Orders
    whose case still waits for a reviewer are left out of the count: they
    cannot mature, and they are a small share once a model ranks the queue
    (before it, they are random audit cases)."""
    days = settings.RISK_MATURITY_DAYS if maturity_days is None else maturity_days
    orders = Order.objects.filter(tenant_id=tenant_id)
    newest = orders.aggregate(newest=Max("created_at"))["newest"]
    if newest is None:
        return None
    end = newest - timedelta(days=days)
    # The maturity task runs periodically (hourly; daily in the replay): orders
    # after the newest one it has matured are not decided yet, not unlabelled.
    frontier = Label.objects.filter(
        order__tenant_id=tenant_id, source=Label.Source.MATURED
    ).aggregate(newest=Max("order__created_at"))["newest"]
    if frontier is not None:
        end = min(end, frontier + timedelta(microseconds=1))
    window = orders.filter(
        created_at__gte=end - timedelta(days=GATE_MATURED_WINDOW_DAYS),
        created_at__lt=end,
    )
    window = window.exclude(case__status__in=Case.PENDING)
    ids = np.array(sorted(window.values_list("id", flat=True)), dtype=np.int64)
    labelled = ids[np.isin(ids, data.order_ids)]
    if len(ids) == 0 or len(labelled) < MATURED_COVERAGE * len(ids):
        return None
    return GateSample(
        order_ids=labelled, weights=np.ones(len(labelled)), source="matured"
    )
