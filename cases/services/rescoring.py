"""Scoring stored orders again with the active model, and re-queueing them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import Max

from cases.models import Case, Order
from cases.services.opening import (
    cases_open,
    cases_rescored,
    openings_for_review,
)
from cases.services.scoring import orders_decide, scores_latest
from cases.services.webhooks import order_decision_changed_emit
from models_ml.models import ModelVersion, Score
from models_ml.policy import DecisionPolicy, decision_policy
from models_ml.scoring import active_model
from models_ml.services import scores_save

BATCH_SIZE = 500
RECENT = timedelta(days=7)


def rescore_tenants() -> list[int]:
    """Tenants with an active model."""
    actives = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE)
    return sorted(actives.values_list("tenant_id", flat=True))


def rescore_candidates(tenant_id: int) -> list[int]:
    """The tenant's open cases, and its unlabelled orders without a case from
    its last 7 days of order time (order time, not wall time: replays and
    demos live in the past)."""
    orders = Order.objects.filter(tenant_id=tenant_id)
    newest = orders.aggregate(newest=Max("created_at"))["newest"]
    if newest is None:
        return []
    recent = orders.filter(
        created_at__gte=newest - RECENT, labels__isnull=True, case__isnull=True
    ).values_list("id", flat=True)
    open_cases = (
        Case.objects.pending()
        .filter(tenant_id=tenant_id)
        .values_list("order_id", flat=True)
    )
    return sorted(set(recent) | set(open_cases))


def orders_rescore(
    order_ids: Iterable[int],
    batch_size: int = BATCH_SIZE,
    policy: DecisionPolicy | None = None,
) -> int:
    """Add a Score per order with its tenant's active model; open or
    re-prioritise cases.

    Decided by `policy` (the configured one by default). Idempotent per model
    version: an order already scored by its tenant's active version is skipped.
    """
    policy = policy or decision_policy()
    ids = list(order_ids)
    done = 0
    for start in range(0, len(ids), batch_size):
        done += _rescore_batch(ids[start : start + batch_size], policy)
    return done


def _rescore_batch(ids: list[int], policy: DecisionPolicy) -> int:
    batch = Order.objects.filter(pk__in=ids)
    orders: list[Order] = []
    for tenant_id in sorted(set(batch.values_list("tenant_id", flat=True))):
        loaded = active_model(tenant_id)
        if loaded is None:
            continue
        # Through the score table's order index: an anti-join on the version
        # rescanned all of the version's scores for every order of the batch.
        done = Score.objects.filter(
            order_id__in=ids, model_version_id=loaded.version_id
        ).values_list("order_id", flat=True)
        orders += batch.filter(tenant_id=tenant_id).exclude(pk__in=list(done))
    orders.sort(key=lambda o: (o.created_at, o.pk))
    if not orders:
        return 0
    previous = _latest_decisions(orders)
    scores = orders_decide(
        orders, policy, lambda d: d != Score.Decision.APPROVE, served=True
    )
    cases = {c.order_id: c for c in Case.objects.filter(order__in=orders)}
    with transaction.atomic():
        scores_save(scores)
        cases_open(openings_for_review([s for s in scores if s.order.pk not in cases]))
        cases_rescored(cases, scores)
        for score in scores:
            order_decision_changed_emit(score, previous.get(score.order.pk))
    return len(scores)


def _latest_decisions(orders: list[Order]) -> dict[int, str]:
    latest = scores_latest([o.pk for o in orders], "decision")
    return {order_id: decision for order_id, (decision,) in latest.items()}
