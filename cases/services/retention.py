"""Data retention: orders older than RETENTION_DAYS go, with their features."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from cases.models import AuditEvent, IdempotencyRecord, Label, LabelDailyStats, Order

BATCH = 5000


@dataclass(frozen=True)
class PurgeReport:
    orders: int
    label_stats_kept: int


def orders_purge(before: datetime | None = None) -> PurgeReport:
    """Delete orders created before `before` (default: RETENTION_DAYS ago) with
    their scores (the stored feature vectors), cases, claims and labels, and
    the idempotency records that hold request bodies. Labels are first added to
    LabelDailyStats if RETENTION_KEEP_LABEL_STATS. Audit events stay.
    """
    if before is None:
        if settings.RETENTION_DAYS <= 0:
            return PurgeReport(0, 0)
        before = timezone.now() - timedelta(days=settings.RETENTION_DAYS)
    deleted = kept = 0
    while True:
        with transaction.atomic():
            ids = list(
                Order.objects.filter(created_at__lt=before).values_list(
                    "id", flat=True
                )[:BATCH]
            )
            if not ids:
                break
            if settings.RETENTION_KEEP_LABEL_STATS:
                kept += _label_stats_add(ids)
            Order.objects.filter(id__in=ids).delete()
            deleted += len(ids)
    IdempotencyRecord.objects.filter(created_at__lt=before).delete()
    if deleted:
        AuditEvent.objects.create(
            actor="system:retention",
            action="orders.purged",
            object_type="order",
            object_id="*",
            after={"before": before.isoformat(), "orders": deleted},
        )
    return PurgeReport(deleted, kept)


def _label_stats_add(order_ids: list[int]) -> int:
    rows = (
        Label.objects.filter(order_id__in=order_ids)
        .annotate(day=TruncDate("order__created_at"))
        .values("day", "source", "value")
        .annotate(n=Count("id"), total=Sum("order__amount"))
    )
    for row in rows:
        stats, _ = LabelDailyStats.objects.select_for_update().get_or_create(
            day=row["day"], source=row["source"], value=row["value"]
        )
        LabelDailyStats.objects.filter(pk=stats.pk).update(
            labels=F("labels") + row["n"], amount=F("amount") + (row["total"] or 0)
        )
    return sum(row["n"] for row in rows)
