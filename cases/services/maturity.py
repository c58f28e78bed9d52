"""Matured labels: an approved order nobody disputed is, in practice, legitimate.

Only reviewed cases and outcomes are labels otherwise, so most orders never
get one, and training sees a population made of the queue. Once the dispute
window (RISK_MATURITY_DAYS) has passed, an order that was let through (its
latest decision is approve, or it was never scored: an imported history, or
one the cold-start policy did not queue), has no case waiting and no label
gets a `legitimate` label of source `matured`, known from the window's end.
A later chargeback or review still wins (`cases.truth`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
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
    done = 0
    while True:
        with transaction.atomic():
            batch = list(due.select_for_update(skip_locked=True, of=("self",))[:BATCH])
            if not batch:
                return done
            labels = Label.objects.bulk_create(
                Label(
                    order=o,
                    value=Label.Value.LEGITIMATE,
                    source=Label.Source.MATURED,
                    known_at=o.created_at + window,
                )
                for o in batch
            )
            labels_record(labels)
        done += len(labels)


def maturity_candidates(
    cutoff: datetime, tenant_id: int | None = None
) -> QuerySet[Order]:
    """Orders created before `cutoff`, unlabelled, without a pending case,
    whose latest score (if any) is an approval."""
    latest = Score.objects.filter(order_id=OuterRef("pk")).order_by("-id")
    orders = Order.objects.filter(created_at__lt=cutoff)
    if tenant_id is not None:
        orders = orders.filter(tenant_id=tenant_id)
    return (
        orders.exclude(Exists(Label.objects.filter(order_id=OuterRef("pk"))))
        .exclude(Exists(Case.objects.pending().filter(order_id=OuterRef("pk"))))
        .annotate(decision=latest.values("decision")[:1])
        .filter(Q(decision=Score.Decision.APPROVE) | Q(decision__isnull=True))
        .order_by("id")
    )
