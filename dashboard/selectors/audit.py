"""Inverse-propensity estimates of precision and recall from the random audit."""

from __future__ import annotations

from typing import Any

from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Subquery,
    Sum,
    Value,
)

from cases.models import Case as ReviewCase
from dashboard.selectors.common import (
    FRAUD,
    MetricsWindow,
    truth,
)
from models_ml import metrics
from models_ml.models import Score


def ipw_estimates(window: MetricsWindow) -> list[dict[str, Any]]:
    """Horvitz–Thompson precision and recall of two rules over orders of the
    window: the model's flag (review or decline) and the review queue.

    Decided high-risk cases stand for themselves (π = 1); decided random-audit
    cases stand for 1/π orders each, π being their recorded selection
    probability. Exploration cases are left out: they are not a random sample.
    Without a decided audit case nothing stands for the rest of the orders,
    so the estimates are NaN rather than a recall of 100%.
    """
    rows = list(
        ReviewCase.objects.filter(
            window.q("order__created_at"),
            status=ReviewCase.Status.DECIDED,
            queue_reason__in=[
                ReviewCase.QueueReason.HIGH_RISK,
                ReviewCase.QueueReason.NO_MODEL,
                ReviewCase.QueueReason.AUDIT,
            ],
        )
        .annotate(
            truth=truth("order_id"),
            decision=Subquery(
                Score.objects.filter(order_id=OuterRef("order_id"))
                .order_by("-id")
                .values("decision")[:1]
            ),
        )
        .values("queue_reason", "truth", "decision")
        .annotate(
            cases=Count("id"),
            weight=Sum(
                ExpressionWrapper(
                    Value(1.0) / F("selection_probability"), output_field=FloatField()
                )
            ),
        )
    )
    audit = [r for r in rows if r["queue_reason"] == ReviewCase.QueueReason.AUDIT]
    y = [r["truth"] == FRAUD for r in rows]
    weights = [r["weight"] for r in rows]
    rules = {
        "Model flag (review or decline)": [
            r["decision"] != Score.Decision.APPROVE for r in rows
        ],
        "Review queue (high-risk cases)": [
            r["queue_reason"] != ReviewCase.QueueReason.AUDIT for r in rows
        ],
    }
    audit_cases = sum(r["cases"] for r in audit)
    counts = {
        "audit_cases": audit_cases,
        "audit_frauds": sum(r["cases"] for r in audit if r["truth"] == FRAUD),
        "queue_cases": sum(r["cases"] for r in rows) - audit_cases,
    }
    result = []
    for rule, flagged in rules.items():
        estimate = metrics.ipw_precision_recall(y, flagged, weights)
        nan = float("nan")
        result.append(
            {
                "rule": rule,
                **counts,
                "est_frauds": estimate.frauds if audit_cases else nan,
                "est_flagged": estimate.flagged if audit_cases else nan,
                "precision": estimate.precision if audit_cases else nan,
                "recall": estimate.recall if audit_cases else nan,
            }
        )
    return result
