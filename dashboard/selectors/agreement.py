"""Reviewer agreement on QA double reviews."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db.models import (
    Count,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
)
from django.db.models.functions import Cast, TruncDate

from cases.models import Case as ReviewCase
from cases.models import Label
from dashboard.selectors.common import (
    FRAUD,
    LEGITIMATE,
    MetricsWindow,
)
from models_ml import metrics

if TYPE_CHECKING:
    # Typing only (from django-stubs): a queryset whose rows carry annotations.
    from datetime import datetime
    from typing import TypedDict

    from django_stubs_ext import WithAnnotations

    class _Pair(TypedDict):
        first: str
        second: str
        second_at: datetime


def _qa_pairs(window: MetricsWindow) -> QuerySet[WithAnnotations[ReviewCase, _Pair]]:
    """Cases with a blind double review whose second label falls in the window.

    The pair is a case's first two reviewer labels; a lead's override is not
    a review of its own, so labels with the lead_override reason are skipped.
    """
    reviews = (
        Label.objects.filter(case_id=OuterRef("pk"), source=Label.Source.REVIEWER)
        .annotate(reasons_text=Cast("reasons", TextField()))
        .exclude(reasons_text__contains="lead_override")
        .order_by("id")
    )
    return (
        ReviewCase.objects.filter(window.tenant_q(), decided_at__gte=window.since)
        .annotate(
            first=Subquery(reviews.values("value")[:1]),
            second=Subquery(reviews.values("value")[1:2]),
            second_at=Subquery(reviews.values("known_at")[1:2]),
        )
        .filter(second__isnull=False, second_at__gte=window.since)
        .filter(second_at__lt=window.until)
    )


def daily_agreement(window: MetricsWindow) -> tuple[list[dict[str, Any]], dict]:
    """Per QA day, and over the whole window: double reviews, agreement and
    Cohen's kappa."""
    rows = list(
        _qa_pairs(window)
        .values("first", "second", day=TruncDate("second_at"))
        .annotate(n=Count("id"))
    )
    categories = [FRAUD, LEGITIMATE]

    def summary(pairs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        table = metrics.pair_table(
            ((p["first"], p["second"], p["n"]) for p in pairs), categories
        )
        total = int(table.sum())
        return {
            "pairs": total,
            "agreements": int(np.trace(table)),
            "agreement_rate": metrics.ratio(float(np.trace(table)), total),
            "kappa": metrics.cohen_kappa(table),
            "both_fraud": int(table[0, 0]),
            "both_legitimate": int(table[1, 1]),
            "first_fraud_only": int(table[0, 1]),
            "second_fraud_only": int(table[1, 0]),
        }

    days = [
        {"day": day, **summary([r for r in rows if r["day"] == day])}
        for day in window.days
    ]
    return days, {"day": None, **summary(rows)}
