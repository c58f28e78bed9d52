"""Reads that span several models: API lookups, the queue, the case page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from cases.exceptions import OrderNotFound
from cases.models import (
    ApiClient,
    AuditEvent,
    Case,
    CaseQuerySet,
    Claim,
    Label,
    Order,
)
from cases.selectors_entities import EntitySummary, entity_summaries
from cases.selectors_links import LinkGroup, linked_order_groups
from cases.selectors_review import KeyedReason, reasons_keyed
from models_ml.models import Score
from tenants.models import Tenant

SEARCH_FIELDS = (
    "order_id",
    "customer_id",
    "email",
    "device_id",
    "ip_address",
    "card_fingerprint",
    "seller_id",
)


def order_get_for_client(client: ApiClient, order_id: str) -> Order:
    """The client's order by its own id; OrderNotFound otherwise."""
    # PostgreSQL cannot even compare a string holding NUL: no such order.
    if "\x00" in order_id:
        raise OrderNotFound()
    order = Order.objects.filter(client=client, order_id=order_id).first()
    if order is None:
        raise OrderNotFound()
    return order


def order_latest_score(order: Order) -> Score | None:
    return order.scores.latest_per_order().first()


def order_labels(order: Order) -> list[Label]:
    return list(order.labels.order_by("known_at", "id"))


def case_get_for_client(client: ApiClient, case_id: int) -> Case:
    return get_object_or_404(
        Case.objects.select_related("order"), pk=case_id, order__client=client
    )


@dataclass(frozen=True)
class QueuePage:
    cases: list[Case]
    next_cursor: str | None


def queue_page(filters: dict[str, Any], page_size: int, tenant: Tenant) -> QueuePage:
    """One page of the tenant's queue, by priority, with keyset pagination.

    The cursor is the (priority, id) of the last row shown: the next page
    starts strictly after it, so deep pages cost what the first one does.
    """
    now = timezone.now()
    live = Claim.objects.filter(
        case=OuterRef("pk"), released_at__isnull=True, expires_at__gt=now
    )
    cases = (
        _filtered(tenant, filters, live)
        .select_related("order")
        .annotate(assignee=Subquery(live.values("reviewer__username")[:1]))
        .by_priority()
    )
    if filters.get("after"):
        priority, case_id = filters["after"].split("_")
        p = float(priority)
        # priority <= p lets the index scan start at the cursor; the OR only
        # filters the ties that were already shown.
        cases = cases.filter(priority__lte=p).filter(
            Q(priority__lt=p) | Q(id__gt=int(case_id))
        )
    rows = list(cases[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    cursor = f"{rows[-1].priority!r}_{rows[-1].pk}" if more and rows else None
    return QueuePage(rows, cursor)


def _filtered(tenant: Tenant, f: dict[str, Any], live: QuerySet[Claim]) -> CaseQuerySet:
    """The tenant's cases that match the queue's filters."""
    cases = Case.objects.filter(tenant=tenant)
    status = f.get("status") or "pending"
    cases = cases.pending() if status == "pending" else cases.filter(status=status)
    # Entity filters go through the orders' own indexes first; joined to the
    # priority scan, PostgreSQL would walk the whole queue to find them.
    orders = Order.objects.filter(tenant=tenant)
    if f.get("q"):
        match = Q()
        for field in SEARCH_FIELDS:
            match |= Q(**{field: f["q"]})
        cases = cases.filter(order_id__in=_order_ids(orders.filter(match)))
    if f.get("seller"):
        sold = orders.filter(seller_id=f["seller"])
        cases = cases.filter(order_id__in=_order_ids(sold))
    bounds = {
        "score_min": "probability__gte",
        "score_max": "probability__lte",
        "amount_min": "order__amount__gte",
        "amount_max": "order__amount__lte",
        "reason": "queue_reason",
        "country": "order__billing_country",
    }
    for key, lookup in bounds.items():
        if f.get(key) not in (None, ""):
            cases = cases.filter(**{lookup: f[key]})
    if f.get("date_from"):
        cases = cases.filter(order__created_at__gte=_day_start(f["date_from"]))
    if f.get("date_to"):
        cases = cases.filter(
            order__created_at__lt=_day_start(f["date_to"], next_day=True)
        )
    if f.get("assignee"):
        cases = cases.filter(Exists(live.filter(reviewer__username=f["assignee"])))
    return cases


def _order_ids(orders: QuerySet, cap: int = 5000) -> list[int] | QuerySet:
    """The ids themselves when there are few (PostgreSQL then fetches their
    cases by index and sorts them), else a subquery (a frequent entity is
    found soon enough walking the queue by priority)."""
    ids = list(orders.values_list("id", flat=True)[: cap + 1])
    return ids if len(ids) <= cap else orders.values("id")


def _day_start(day: Any, *, next_day: bool = False) -> datetime:
    from datetime import timedelta

    start = datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
    return start + timedelta(days=1) if next_day else start


def case_live_claim(case: Case) -> Claim | None:
    return (
        Claim.objects.select_related("reviewer")
        .filter(case=case, released_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )


def case_timeline(case: Case) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(object_type="case", object_id=str(case.pk)).order_by(
            "created_at", "id"
        )
    )


@dataclass(frozen=True)
class CaseReview:
    """Everything the case page shows besides the case and its order."""

    score: Score | None
    claim: Claim | None
    linked: list[LinkGroup]
    entity_summaries: list[EntitySummary]
    labels: list[Label]  # empty when the reader reviews blind
    timeline: list[AuditEvent]  # empty when the reader reviews blind
    reason_codes: list[KeyedReason]
    reviewers: list[User]  # for a lead's reassignment, else empty


def case_review_get(case: Case, *, blind: bool, is_lead: bool) -> CaseReview:
    """The case page's reads. A blind (QA) reader sees no earlier labels and no
    history; only leads get the list of reviewers."""
    return CaseReview(
        score=order_latest_score(case.order),
        claim=case_live_claim(case),
        linked=linked_order_groups(case.order),
        entity_summaries=entity_summaries(case.order),
        labels=[]
        if blind
        else list(case.labels.select_related("created_by").order_by("id")),
        timeline=[] if blind else case_timeline(case),
        reason_codes=reasons_keyed(),
        reviewers=list(
            User.objects.filter(
                is_active=True, membership__tenant=case.tenant_id
            ).order_by("username")
        )
        if is_lead
        else [],
    )
