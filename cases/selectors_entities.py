"""An entity's profile (customer, card, device, IP, email or seller) within one
tenant (an entity is (tenant, value): another tenant's `cust-17` is another
customer), and the per-entity summaries the case page shows.

Every read walks one of the orders' (entity, created_at) indexes and stops at a
fixed number of rows, so a seller with a million orders costs what a fresh
card does: counts are exact up to COUNT_CAP and then say "more than";
aggregates cover the latest WINDOW orders and say so.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from cases.models import Case, Label, Order

# kind in the URL → (Order field, noun)
ENTITY_KINDS: dict[str, tuple[str, str]] = {
    "customer": ("customer_id", "customer"),
    "card": ("card_fingerprint", "card"),
    "device": ("device_id", "device"),
    "ip": ("ip_address", "IP address"),
    "email": ("email", "email"),
    "seller": ("seller_id", "seller"),
}
PLURAL = {"ip": "es"}
KIND_OF_FIELD = {f: kind for kind, (f, _noun) in ENTITY_KINDS.items()}
COUNT_CAP = 10_000
WINDOW = 1_000
PAGE = 50


@dataclass
class EntityOrder:
    order: Order
    case_id: int | None = None
    case_status: str = ""
    probability: float | None = None
    label: str = ""
    chargeback: bool = False


@dataclass(frozen=True)
class UsedWith:
    kind: str
    noun: str
    distinct: int
    top: list[tuple[str, int]]


@dataclass
class EntityProfile:
    kind: str
    field_name: str
    noun: str
    value: str
    tenant_id: int
    orders_count: int = 0
    count_capped: bool = False
    window: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    amounts: dict[str, Decimal] = dataclasses.field(default_factory=dict)
    fraud: int = 0
    legitimate: int = 0
    chargebacks: int = 0
    open_cases: int = 0
    used_with: list[UsedWith] = dataclasses.field(default_factory=list)
    orders: list[EntityOrder] = dataclasses.field(default_factory=list)
    next_cursor: str | None = None


def entity_orders(tenant_id: int, kind: str, value: str) -> QuerySet[Order]:
    """The tenant's orders of one entity (its (tenant, entity) index)."""
    field_name = ENTITY_KINDS[kind][0]
    return Order.objects.filter(tenant_id=tenant_id, **{field_name: value})


def entity_profile(
    tenant_id: int, kind: str, value: str, *, before: str | None = None
) -> EntityProfile:
    """The profile of one entity of a tenant; `before` is the orders table's
    keyset cursor (`<created_at iso>_<id>` of the last row shown)."""
    field_name, noun = ENTITY_KINDS[kind]
    profile = EntityProfile(kind, field_name, noun, value, tenant_id)
    orders = entity_orders(tenant_id, kind, value)
    counted = orders.order_by()[: COUNT_CAP + 1].count()
    profile.orders_count = min(counted, COUNT_CAP)
    profile.count_capped = counted > COUNT_CAP
    first = orders.order_by("created_at").values_list("created_at", flat=True)[:1]
    profile.first_seen = next(iter(first), None)
    # Plain rows for the aggregates: a thousand model instances cost more
    # than the query that reads them.
    columns = ["id", "created_at", "amount", "currency"]
    columns += [f for f, _noun in ENTITY_KINDS.values()]
    recent = list(orders.order_by("-created_at", "-id").values(*columns)[:WINDOW])
    profile.window = len(recent)
    if not recent:
        return profile
    profile.last_seen = recent[0]["created_at"]
    ids = [row["id"] for row in recent]
    labels, chargebacks = orders_labels(ids)
    cases = orders_cases(ids)
    for row in recent:
        currency = row["currency"]
        profile.amounts[currency] = profile.amounts.get(currency, 0) + row["amount"]
    profile.fraud = sum(v == Label.Value.FRAUD for v in labels.values())
    profile.legitimate = sum(v == Label.Value.LEGITIMATE for v in labels.values())
    profile.chargebacks = len(chargebacks)
    profile.open_cases = sum(s in Case.PENDING for _pk, s, _p in cases.values())
    _used_with(profile, recent)
    _orders_page(profile, orders, before)
    return profile


def _orders_page(
    profile: EntityProfile, orders: QuerySet[Order], before: str | None
) -> None:
    """The orders table: PAGE rows, newest first, from the keyset cursor on."""
    if before is not None:
        stamp, _sep, pk = before.rpartition("_")
        at = datetime.fromisoformat(stamp)
        orders = orders.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=int(pk)))
    rows = list(orders.order_by("-created_at", "-id")[: PAGE + 1])
    ids = [o.pk for o in rows[:PAGE]]
    labels, chargebacks = orders_labels(ids)
    cases = orders_cases(ids)
    for o in rows[:PAGE]:
        case_id, status, probability = cases.get(o.pk, (None, "", None))
        profile.orders.append(
            EntityOrder(
                o,
                case_id,
                status,
                probability,
                labels.get(o.pk, ""),
                o.pk in chargebacks,
            )
        )
    if len(rows) > PAGE:
        last = rows[PAGE - 1]
        profile.next_cursor = f"{last.created_at.isoformat()}_{last.pk}"


def orders_labels(ids: list[int]) -> tuple[dict[int, str], set[int]]:
    """Each order's latest label value, and the orders with a chargeback."""
    latest: dict[int, str] = {}
    chargebacks: set[int] = set()
    rows = Label.objects.filter(order_id__in=ids).order_by(
        "order_id", "-known_at", "-id"
    )
    for order_id, value, source in rows.values_list("order_id", "value", "source"):
        latest.setdefault(order_id, value)
        if source == Label.Source.CHARGEBACK:
            chargebacks.add(order_id)
    return latest, chargebacks


def orders_cases(ids: list[int]) -> dict[int, tuple[int, str, float | None]]:
    rows = Case.objects.filter(order_id__in=ids).values_list(
        "order_id", "id", "status", "probability"
    )
    return {order_id: (pk, s, p) for order_id, pk, s, p in rows}


def _used_with(profile: EntityProfile, recent: list[dict[str, Any]]) -> None:
    for kind, (field_name, noun) in ENTITY_KINDS.items():
        if field_name == profile.field_name:
            continue
        counts = Counter(row[field_name] for row in recent if row[field_name])
        if counts:
            profile.used_with.append(
                UsedWith(kind, noun, len(counts), counts.most_common(5))
            )


def used_with_sentence(profile: EntityProfile) -> str:
    """ "This device was used with 4 customers, 6 cards and 1 seller."."""
    parts = [
        f"{u.distinct} {u.noun}{'' if u.distinct == 1 else PLURAL.get(u.kind, 's')}"
        for u in profile.used_with
    ]
    if not parts:
        return f"This {profile.noun} was not used with anything else."
    listed = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    return f"This {profile.noun} was used with {listed}."


@dataclass(frozen=True)
class EntitySummary:
    kind: str
    noun: str
    value: str
    orders: int
    capped: bool
    fraud: int
    chargebacks: int
    open_cases: int


def entity_summaries(order: Order, window: int = 200) -> list[EntitySummary]:
    """For each entity of the order: its other orders (exact up to `window`),
    and the fraud labels, chargebacks and open cases among them — "3 other
    orders on this card, 1 chargeback". The order itself is left out, so a
    blind QA review learns nothing of its first decision."""
    ids_by_kind: dict[str, list[int]] = {}
    for kind, (field_name, _noun) in ENTITY_KINDS.items():
        value = getattr(order, field_name)
        if value:
            ids_by_kind[kind] = list(
                entity_orders(order.tenant_id, kind, value)
                .exclude(pk=order.pk)
                .order_by("-created_at")
                .values_list("id", flat=True)[: window + 1]
            )
    every = {pk for ids in ids_by_kind.values() for pk in ids}
    labels, chargebacks = orders_labels(list(every))
    open_ids = set(
        Case.objects.pending()
        .filter(order_id__in=every)
        .values_list("order_id", flat=True)
    )
    result = []
    for kind, ids in ids_by_kind.items():
        shown = ids[:window]
        result.append(
            EntitySummary(
                kind,
                ENTITY_KINDS[kind][1],
                getattr(order, ENTITY_KINDS[kind][0]),
                len(shown),
                len(ids) > window,
                sum(labels.get(pk) == Label.Value.FRAUD for pk in shown),
                sum(pk in chargebacks for pk in shown),
                sum(pk in open_ids for pk in shown),
            )
        )
    return result
