"""Scoring stored orders again with the active model, and re-queueing them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import Max

from cases.models import Case, Order
from cases.services.intake import case_priority, case_top_reason, cases_open
from cases.services.scoring import orders_score
from cases.services.webhooks import webhook_events_emit
from models_ml.models import Score
from models_ml.scoring import active_model
from models_ml.services import scores_save

BATCH_SIZE = 500
RECENT = timedelta(days=7)


def rescore_candidates() -> list[int]:
    """Open cases, and unlabelled orders without a case from the last 7 days
    of order time (order time, not wall time: replays and demos live in the past)."""
    newest = Order.objects.aggregate(newest=Max("created_at"))["newest"]
    if newest is None:
        return []
    recent = Order.objects.filter(
        created_at__gte=newest - RECENT, labels__isnull=True, case__isnull=True
    ).values_list("id", flat=True)
    open_cases = Case.objects.pending().values_list("order_id", flat=True)
    return sorted(set(recent) | set(open_cases))


def orders_rescore(order_ids: Iterable[int], batch_size: int = BATCH_SIZE) -> int:
    """Add a Score per order with the active model; open or re-prioritise cases.

    Idempotent per model version: an order already scored by the active
    version is skipped.
    """
    ids = list(order_ids)
    done = 0
    for start in range(0, len(ids), batch_size):
        done += _rescore_batch(ids[start : start + batch_size])
    return done


def _rescore_batch(ids: list[int]) -> int:
    loaded = active_model()
    if loaded is None:
        return 0
    orders = list(
        Order.objects.filter(pk__in=ids)
        .exclude(scores__model_version_id=loaded.version_id)
        .order_by("created_at", "id")
    )
    if not orders:
        return 0
    previous = _latest_decisions(orders)
    scores = orders_score(orders, explain=lambda d: d != Score.Decision.APPROVE)
    cases = {c.order_id: c for c in Case.objects.filter(order__in=orders)}
    with transaction.atomic():
        scores_save(scores)
        cases_open([s for s in scores if s.order.pk not in cases])
        changed = []
        for score in scores:
            case = cases.get(score.order.pk)
            if case is not None and case.status in Case.PENDING:
                case.priority = case_priority(
                    score.probability, float(score.order.amount)
                )
                case.probability = score.probability
                case.top_reason = case_top_reason(score)
                changed.append(case)
            was = previous.get(score.order.pk)
            if was is not None and was != score.decision:
                webhook_events_emit(
                    score.order,
                    "order.decision_changed",
                    {
                        "previous_decision": was,
                        "decision": score.decision,
                        "risk_score": score.probability,
                        "model_version": score.model_version_id,
                    },
                )
        Case.objects.bulk_update(changed, ["priority", "probability", "top_reason"])
    return len(scores)


def _latest_decisions(orders: list[Order]) -> dict[int, str]:
    latest: dict[int, str] = {}
    rows = Score.objects.filter(order__in=orders).order_by("order_id", "-id")
    for order_id, decision in rows.values_list("order_id", "decision"):
        latest.setdefault(order_id, decision)
    return latest
