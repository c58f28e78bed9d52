"""Matured labels: an approved order nobody disputed is, in practice, legitimate.

Only reviewed cases and outcomes are labels otherwise, so most orders never
get one, and training sees a population made of the queue. Once the dispute
window (RISK_MATURITY_DAYS) has passed, an order that was let through (the
decision served at intake, its first score, is approve, or it was never
scored: an imported history, or one the cold-start policy did not queue), has
no case waiting and no label gets a `legitimate` label of source `matured`,
known from the window's end. A later re-score does not count: an order
declined at intake was never fulfilled, whatever a newer model says of it.
A later chargeback or review still wins (`cases.truth`).

At most one matured label per order: a partial unique index
(`label_one_matured_per_order`) and INSERT … ON CONFLICT DO NOTHING, so two
concurrent runs (each seeing the order unlabelled in its snapshot) add one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cases.models import Case, Label, Order
from models_ml.feature_state import labels_record
from models_ml.models import Score

BATCH = 5000


def labels_mature(
    now: datetime | None = None,
    maturity_days: int | None = None,
    tenant_id: int | None = None,
    since: datetime | None = None,
) -> int:
    """Add the matured labels due at `now` (wall time by default), for orders
    created from `since` if given; returns how many. Idempotent: an order with
    any label is never matured again."""
    now = now or timezone.now()
    days = settings.RISK_MATURITY_DAYS if maturity_days is None else maturity_days
    window = timedelta(days=days)
    due = maturity_candidates(now - window, tenant_id)
    if since is not None:
        due = due.filter(created_at__gte=since)
    done, last = 0, 0
    while True:
        with transaction.atomic():
            locked = due.filter(pk__gt=last).select_for_update(
                skip_locked=True, of=("self",)
            )
            batch = list(locked[:BATCH])
            if not batch:
                return done
            last = batch[-1].pk  # onwards: a skipped conflict is not retried
            labels = _matured_insert(batch, window)
            labels_record(labels)
        done += len(labels)


def _matured_insert(batch: list[Order], window: timedelta) -> list[Label]:
    """Insert a matured label for each order of `batch`, skipping an order
    that already has one (another run's, committed after this run's
    snapshot); returns the labels this call inserted, with their orders."""
    sql = f"""
        INSERT INTO {Label._meta.db_table}
            (order_id, value, source, reasons, note, known_at, created_at)
        SELECT t.order_id, %s, %s, '[]'::jsonb, '', t.known_at, %s
        FROM unnest(%s::bigint[], %s::timestamptz[]) AS t(order_id, known_at)
        ON CONFLICT DO NOTHING
        RETURNING id
    """  # the table name is ours; every value is a parameter
    params: list[Any] = [
        Label.Value.LEGITIMATE.value,
        Label.Source.MATURED.value,
        timezone.now(),
        [o.pk for o in batch],
        [o.created_at + window for o in batch],
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    return list(Label.objects.filter(pk__in=ids).select_related("order").order_by("id"))


def maturity_candidates(
    cutoff: datetime, tenant_id: int | None = None
) -> QuerySet[Order]:
    """Orders created before `cutoff`, unlabelled, without a pending case,
    whose first score (the decision served at intake), if any, is an
    approval."""
    first = Score.objects.filter(order_id=OuterRef("pk")).order_by("id")
    orders = Order.objects.filter(created_at__lt=cutoff)
    if tenant_id is not None:
        orders = orders.filter(tenant_id=tenant_id)
    return (
        orders.exclude(Exists(Label.objects.filter(order_id=OuterRef("pk"))))
        .exclude(Exists(Case.objects.pending().filter(order_id=OuterRef("pk"))))
        .annotate(decision=first.values("decision")[:1])
        .filter(Q(decision=Score.Decision.APPROVE) | Q(decision__isnull=True))
        .order_by("id")
    )
