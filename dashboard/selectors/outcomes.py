"""What happened to the orders: the model's decisions, frauds caught and
missed, and how long labels take to arrive."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDate

from cases.models import Case as ReviewCase
from cases.models import Label, Order
from dashboard.selectors.common import (
    FRAUD,
    OUTCOME_SOURCES,
    MetricsWindow,
    by_day,
    counts_below,
    flag,
    label_value,
    latest_scores,
    quantiles,
)
from models_ml import metrics
from models_ml.models import Score

if TYPE_CHECKING:
    # Typing only (from django-stubs): a queryset whose rows carry annotations.
    from datetime import date
    from typing import TypedDict

    from django_stubs_ext import WithAnnotations

    class _Labelled(TypedDict):
        day: date
        outcome: str | None
        reviewed: str | None
        truth: str | None
        decision: str | None
        model_scored: bool
        stopped: bool
        queue: bool


# Medians and 90th percentiles come from counts below these edges.
LATENCY_EDGES_HOURS = (1, 4, 12, 24, 72, 168, 336, 720, 1440, 2160, 4320)


def daily_decisions(window: MetricsWindow) -> list[dict[str, Any]]:
    """Orders per day by the model's decision, and cases opened on them."""
    decisions = {d: Count("id", filter=Q(decision=d)) for d in Score.Decision.values}
    rows = (
        latest_scores(window)
        .annotate(day=TruncDate("order__created_at"))
        .values("day")
        .annotate(orders=Count("id"), cases=Count("order__case"), **decisions)
    )
    zero = {"orders": 0, "cases": 0, **{d: 0 for d in decisions}}
    days = by_day(window, list(rows), zero)
    for row in days:
        shares = metrics.decision_rates({d: row[d] for d in decisions})
        row.update({f"{d}_share": share for d, share in shares.items()})
        # Review rate: orders that became cases (high-risk, exploration, audit).
        row["review_rate"] = metrics.ratio(row["cases"], row["orders"])
    return days


def _labelled_orders(
    window: MetricsWindow,
) -> QuerySet[WithAnnotations[Order, _Labelled]]:
    """Orders of the window with at least one label (the only ones whose
    truth is known), with their truth and whether they were stopped."""
    latest = Score.objects.filter(order_id=OuterRef("pk")).order_by("-id")
    stopped = Q(case__status=ReviewCase.Status.DECIDED, reviewed=FRAUD) | Q(
        decision=Score.Decision.DECLINE
    )
    queue = Q(
        case__queue_reason=ReviewCase.QueueReason.HIGH_RISK,
        case__status=ReviewCase.Status.DECIDED,
    )
    return (
        Order.objects.filter(window.q("created_at"))
        .filter(Exists(Label.objects.filter(order_id=OuterRef("pk"))))
        .annotate(
            day=TruncDate("created_at"),
            outcome=label_value("pk", OUTCOME_SOURCES),
            reviewed=label_value("pk", (Label.Source.REVIEWER,)),
            truth=Coalesce("outcome", "reviewed"),
            decision=Subquery(latest.values("decision")[:1]),
            model_scored=Exists(
                Score.objects.filter(order_id=OuterRef("pk"), probability__isnull=False)
            ),
            stopped=flag(stopped),
            queue=flag(queue),
        )
    )


def daily_outcomes(window: MetricsWindow) -> list[dict[str, Any]]:
    """Per order day: frauds caught and missed, amount saved, false-positive
    cost (metrics.fraud_outcomes), and the precision of the high-risk
    queue (decided high-risk cases whose truth is fraud).

    Orders are grouped by their flags in SQL, so each subquery runs once per
    labelled order and Python sees a few rows per day.
    """
    groups = pd.DataFrame(
        list(
            _labelled_orders(window)
            .values("day", "truth", "outcome", "stopped", "queue", "model_scored")
            .annotate(orders=Count("id"), amount=Sum("amount"))
        ),
        columns=[
            "day",
            *("truth", "outcome", "stopped", "queue", "model_scored"),
            *("orders", "amount"),
        ],
    )
    groups["amount"] = groups["amount"].astype(float)
    by_day = dict(list(groups.groupby("day")))
    days = []
    for day in window.days:
        g = by_day.get(day, groups.iloc[:0])
        queue = g[g["queue"].astype(bool)]
        totals = metrics.fraud_outcomes(
            g["truth"],
            g["outcome"],
            g["stopped"],
            g["orders"],
            g["amount"],
            model_scored=g["model_scored"],
        )
        queue_frauds = int(queue[queue["truth"] == FRAUD]["orders"].sum())
        days.append(
            {
                "day": day,
                "labelled": int(g["orders"].sum()),
                **totals,
                "queue_decided": int(queue["orders"].sum()),
                "queue_frauds": queue_frauds,
                "queue_precision": metrics.ratio(queue_frauds, queue["orders"].sum()),
            }
        )
    return days


def daily_label_latency(window: MetricsWindow) -> list[dict[str, Any]]:
    """Time from order to label, per order day and label source (hours)."""
    rows = (
        Label.objects.filter(window.q("order__created_at"))
        .annotate(
            day=TruncDate("order__created_at"),
            latency=ExpressionWrapper(
                F("known_at") - F("order__created_at"), output_field=DurationField()
            ),
        )
        .values("day", "source")
        .annotate(
            labels=Count("id"),
            mean=Avg("latency"),
            **counts_below(
                "known_at", "order__created_at", LATENCY_EDGES_HOURS, "hours"
            ),
        )
        .order_by("day", "source")
    )
    result = []
    for row in rows:
        median, p90 = quantiles(row, LATENCY_EDGES_HOURS, row["labels"])
        result.append(
            {
                "day": row["day"],
                "source": row["source"],
                "labels": row["labels"],
                "mean_hours": row["mean"].total_seconds() / 3600,
                "median_hours": median,
                "p90_hours": p90,
            }
        )
    return result
