"""Review operations: cases opened and decided, backlog, throughput and
decision time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    QuerySet,
)
from django.db.models.functions import TruncDate

from cases.models import Case as ReviewCase
from cases.models import Claim
from dashboard.selectors.common import (
    MetricsWindow,
    by_day,
    counts_below,
    quantiles,
)
from models_ml import metrics

# Medians and 90th percentiles come from counts below these edges.
DECISION_EDGES_SECONDS = (15, 30, 60, 120, 180, 300, 450, 600, 900, 1800, 3600)


def daily_workload(window: MetricsWindow) -> list[dict[str, Any]]:
    """Cases opened and finally decided per day, and the backlog at day end.

    A case leaves the backlog at its final decision (`decided_at` of a case
    whose status is decided); QA and escalated cases are still pending.
    """
    decided = ReviewCase.Status.DECIDED
    opened = (
        ReviewCase.objects.filter(window.q("created_at"))
        .values(day=TruncDate("created_at"))
        .annotate(opened=Count("id"))
    )
    closed = (
        ReviewCase.objects.filter(window.q("decided_at"), status=decided)
        .values(day=TruncDate("decided_at"))
        .annotate(closed=Count("id"))
    )
    start = (
        ReviewCase.objects.filter(window.tenant_q(), created_at__lt=window.since)
        .exclude(status=decided, decided_at__lt=window.since)
        .count()
    )
    days = by_day(window, list(opened), {"opened": 0, "closed": 0})
    closed_by_day = {row["day"]: row["closed"] for row in closed}
    for row in days:
        row["closed"] = closed_by_day.get(row["day"], 0)
    pending = metrics.backlog(
        start, [r["opened"] for r in days], [r["closed"] for r in days]
    )
    for row, backlog in zip(days, pending, strict=True):
        row["backlog"] = backlog
    return days


def _decided_claims(window: MetricsWindow) -> QuerySet[Claim]:
    return Claim.objects.filter(
        window.q("released_at", tenant="case__tenant_id"), end=Claim.End.DECIDED
    ).annotate(
        seconds=ExpressionWrapper(
            F("released_at") - F("claimed_at"), output_field=DurationField()
        )
    )


def _throughput_row(row: Mapping[str, Any]) -> dict[str, Any]:
    median, p90 = quantiles(row, DECISION_EDGES_SECONDS, row["decisions"])
    mean = row["mean"].total_seconds() if row["mean"] is not None else float("nan")
    return {
        **{k: v for k, v in row.items() if not k.startswith("below_") and k != "mean"},
        "mean_seconds": mean,
        "median_seconds": median,
        "p90_seconds": p90,
    }


def daily_throughput(window: MetricsWindow) -> list[dict[str, Any]]:
    """Decisions per day, reviewers active, and time from claim to decision."""
    rows = (
        _decided_claims(window)
        .values(day=TruncDate("released_at"))
        .annotate(
            decisions=Count("id"),
            reviewers=Count("reviewer", distinct=True),
            mean=Avg("seconds"),
            **counts_below(
                "released_at", "claimed_at", DECISION_EDGES_SECONDS, "seconds"
            ),
        )
    )
    found = {row["day"]: _throughput_row(row) for row in rows}
    days = []
    for day in window.days:
        row = found.get(day) or {
            "day": day,
            "decisions": 0,
            "reviewers": 0,
            "mean_seconds": float("nan"),
            "median_seconds": float("nan"),
            "p90_seconds": float("nan"),
        }
        row["per_reviewer"] = metrics.ratio(row["decisions"], row["reviewers"])
        days.append(row)
    return days


def reviewer_throughput(window: MetricsWindow) -> list[dict[str, Any]]:
    """Per reviewer over the window: decisions, active days, decision time."""
    rows = (
        _decided_claims(window)
        .values(reviewer_name=F("reviewer__username"))
        .annotate(
            decisions=Count("id"),
            active_days=Count(TruncDate("released_at"), distinct=True),
            mean=Avg("seconds"),
            **counts_below(
                "released_at", "claimed_at", DECISION_EDGES_SECONDS, "seconds"
            ),
        )
        .order_by("-decisions", "reviewer_name")
    )
    result = []
    for row in rows:
        out = _throughput_row(row)
        out["per_day"] = metrics.ratio(out["decisions"], out["active_days"])
        result.append(out)
    return result
