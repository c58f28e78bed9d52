"""The queue mix: besides the highest expected losses, an exploration share
chosen by model uncertainty and a random audit share.

Both extra shares use Poisson sampling: each order is drawn independently with
a known inclusion probability π, recorded on its case. That makes inverse-
propensity estimates (weight 1/π) of precision and recall unbiased.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from cases.models import Case, Order, QueueMixRun
from cases.services.opening import CaseOpening, cases_open
from models_ml.models import Score
from models_ml.policy import DecisionPolicy, decision_policy


def uncertainty(p: np.ndarray) -> np.ndarray:
    """Binary entropy in bits: 1 at p = 0.5, 0 at p = 0 or 1."""
    q = np.clip(p, 1e-12, 1 - 1e-12)
    return -(q * np.log2(q) + (1 - q) * np.log2(1 - q))


def poisson_probabilities(weights: np.ndarray, expected: float) -> np.ndarray:
    """π_i ∝ weights, capped at 1, summing to `expected` (or all ones)."""
    pi = np.zeros(len(weights))
    if expected <= 0 or len(weights) == 0 or weights.sum() <= 0:
        return pi
    if expected >= np.count_nonzero(weights):
        return (weights > 0).astype(float)
    capped = np.zeros(len(weights), dtype=bool)
    for _ in range(len(weights)):
        free = ~capped
        scale = (expected - capped.sum()) / weights[free].sum()
        pi = np.where(capped, 1.0, weights * scale)
        newly = (pi > 1) & free
        if not newly.any():
            break
        capped |= newly
    return np.minimum(pi, 1.0)


def queue_mix_select(
    orders: QuerySet[Order], policy: DecisionPolicy, rng: np.random.Generator
) -> tuple[int, int, int]:
    """Open exploration and audit cases among `orders` (one window, one
    tenant: the queue-mix run calls it per tenant).

    The window's high-risk cases fix the size of the queue; the policy's two
    extra shares are drawn to match it in expectation, exploration among the
    orders below its review threshold. Extra cases get priorities
    spread over the high-risk range, so reviewers see them interleaved.
    """
    candidates = list(
        orders.filter(case__isnull=True).values_list("id", flat=True).order_by("id")
    )
    high = list(
        Case.objects.filter(
            order__in=orders, queue_reason=Case.QueueReason.HIGH_RISK
        ).values_list("priority", flat=True)
    )
    if not high or not candidates or policy.high_risk_share <= 0:
        return len(high), 0, 0
    queue_size = len(high) / policy.high_risk_share
    ids = np.array(candidates)
    probabilities = _latest_probabilities(ids)
    audit_pi = np.full(len(ids), min(1.0, queue_size * policy.audit_share / len(ids)))
    audit = rng.random(len(ids)) < audit_pi
    below = (probabilities < policy.review_threshold) & ~audit
    weights = np.where(below, uncertainty(np.nan_to_num(probabilities)), 0.0)
    explore_pi = poisson_probabilities(weights, queue_size * policy.exploration_share)
    explore = (rng.random(len(ids)) < explore_pi) & below
    openings = []
    for mask, pi, reason in (
        (audit, audit_pi, Case.QueueReason.AUDIT),
        (explore, explore_pi, Case.QueueReason.EXPLORATION),
    ):
        for i in np.flatnonzero(mask):
            p = None if np.isnan(probabilities[i]) else float(probabilities[i])
            openings.append(
                CaseOpening(
                    order_id=int(ids[i]),
                    probability=p,
                    queue_reason=reason,
                    priority=float(rng.choice(high)),
                    selection_probability=float(pi[i]),
                )
            )
    with transaction.atomic():
        cases_open(openings)
    return len(high), int(explore.sum()), int(audit.sum())


def _latest_probabilities(order_ids: np.ndarray) -> np.ndarray:
    rows = Score.objects.filter(order_id__in=order_ids.tolist()).latest_per_order()
    latest = dict(rows.values_list("order_id", "probability"))
    return np.array(
        [np.nan if latest.get(int(i)) is None else latest[int(i)] for i in order_ids]
    )


def queue_mix_fill(now: datetime | None = None) -> QueueMixRun:
    """Run the mix over orders received since the last run (idempotent per window)."""
    now = now or timezone.now()
    last = QueueMixRun.objects.order_by("-window_end").first()
    start = (
        last.window_end if last else now - timedelta(minutes=settings.QUEUE_MIX_MINUTES)
    )
    window = Order.objects.filter(received_at__gte=start, received_at__lt=now)
    rng = np.random.default_rng()
    with transaction.atomic():
        run = QueueMixRun.objects.select_for_update().filter(window_end=now).first()
        if run is not None:
            return run
        # Each tenant's queue is sized by its own high-risk cases.
        counts = np.zeros(3, dtype=int)
        policy = decision_policy()
        tenants = window.values_list("tenant_id", flat=True).distinct()
        for tenant_id in sorted(tenants):
            mine = window.filter(tenant_id=tenant_id)
            counts += np.array(queue_mix_select(mine, policy, rng))
        high, explore, audit = (int(c) for c in counts)
        return QueueMixRun.objects.create(
            window_start=start,
            window_end=now,
            high_risk=high,
            exploration=explore,
            audit=audit,
        )
