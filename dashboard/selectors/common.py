"""Reads for the leads' dashboard.

Counts and sums are aggregated in SQL, one row per day (`TruncDate`, in the
site's time zone); only metrics that need individual scores (precision@k,
AP, ROC AUC, drift) read score rows, and those reads are capped: the top k
per day, or a deterministic sample (ordered by a hash of the order id).

Definitions, stated once here and on the dashboard:

- The *truth* of an order is its latest outcome label (chargeback or
  merchant confirmation) if it has one, else its latest reviewer label, else
  its matured label (approved and undisputed past the dispute window). An
  order without labels counts as legitimate in the ranking metrics.
- An order's *model decision* and *score* are those of its latest Score.
- A fraud is *caught* when its case was decided fraud or the model declined
  it; *missed* when an outcome label says fraud, neither happened, and a
  model scored the order. Fraud on an order no model ever scored (it came
  before the first model) is counted apart, as *before any model*.
- *Amount saved* is the amount of caught fraud; the *false-positive cost* is
  the amount of orders whose truth is legitimate but that were declined by
  the model or decided fraud by a reviewer. Declines nobody labelled are in
  neither (we never learn their truth), so both are lower bounds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils import timezone

from cases.models import Label, Order
from cases.truth import label_value_expression, truth_expression
from models_ml import metrics
from models_ml.models import Score

if TYPE_CHECKING:
    # Typing only (from django-stubs): a queryset whose rows carry annotations.
    from typing import TypedDict

    from django_stubs_ext import WithAnnotations

    class _DayCard(TypedDict):
        day: date
        entity: str


FRAUD = Label.Value.FRAUD
LEGITIMATE = Label.Value.LEGITIMATE
# AP and ROC AUC resting on fewer frauds, or fewer legitimate orders, than
# this are flagged as a small sample: one order more or less moves them by
# several points, so they cannot be compared with a holdout figure.
MIN_CLASS_SAMPLE = 10
# Knuth's multiplicative hash: a fixed pseudo-random order of rows.
HASH = (F("order_id") * 2654435761) % 4294967296


@dataclass(frozen=True)
class MetricsWindow:
    """Whole days from `first` to `last`, both included, of one tenant's
    orders, cases and reviews (`tenant_id`; the views always set it to the
    lead's tenant. None reads every tenant: platform-wide checks only)."""

    first: date
    last: date
    tenant_id: int | None = None

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first, time.min))

    @property
    def until(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.last, time.min)) + timedelta(
            days=1
        )

    @property
    def days(self) -> list[date]:
        return [
            self.first + timedelta(days=i)
            for i in range((self.last - self.first).days + 1)
        ]

    def q(self, field: str, tenant: str | None = None) -> Q:
        """Rows whose `field` falls in the window, of the window's tenant:
        `tenant` is the path to the row's tenant, by default the one beside
        `field` ("order__created_at" → "order__tenant_id")."""
        return Q(
            **{f"{field}__gte": self.since, f"{field}__lt": self.until}
        ) & self.tenant_q(tenant or _beside(field, "tenant_id"))

    def tenant_q(self, path: str = "tenant_id") -> Q:
        """Rows of the window's tenant (`path` leads to the tenant id)."""
        return Q() if self.tenant_id is None else Q(**{path: self.tenant_id})

    def day(self, day: date) -> MetricsWindow:
        """One day of the same tenant."""
        return replace(self, first=day, last=day)


def _beside(field: str, name: str) -> str:
    head, _sep, _tail = field.rpartition("__")
    return f"{head}__{name}" if head else name


def small_sample(frauds: int, orders: int) -> bool:
    """Too few frauds or legitimate orders for AP and ROC AUC to be read."""
    return min(frauds, orders - frauds) < MIN_CLASS_SAMPLE


@contextmanager
def metrics_reads() -> Iterator[None]:
    """One transaction for a page's reads, with PostgreSQL's JIT switched off.

    The per-order subqueries inflate the planner's cost estimates, and JIT
    then spends longer compiling than the queries take to run (1.4 s against
    0.1 s for the outcomes on 300k orders).
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


def by_day(
    window: MetricsWindow, rows: Iterable[Mapping[str, Any]], zero: dict[str, Any]
) -> list[dict[str, Any]]:
    """One row per day of the window, zeros where the SQL returned none."""
    found = {row["day"]: row for row in rows}
    return [{**zero, **found.get(day, {}), "day": day} for day in window.days]


def counts_below(field: str, start: str, edges: tuple[int, ...], unit: str) -> dict:
    """COUNTs of rows whose `field` is under `start` + each edge."""
    return {
        f"below_{i}": Count(
            "id", filter=Q(**{f"{field}__lt": F(start) + timedelta(**{unit: edge})})
        )
        for i, edge in enumerate(edges)
    }


def quantiles(row: Mapping[str, Any], edges: tuple[int, ...], total: int) -> tuple:
    below = [row[f"below_{i}"] for i in range(len(edges))]
    return tuple(metrics.binned_quantile(edges, below, total, q) for q in (0.5, 0.9))


# --- Truth, scores -----------------------------------------------------------


# The truth of an order ('fraud', 'legitimate' or NULL) is cases.truth's rule,
# the same one training reads.
label_value = label_value_expression
truth = truth_expression


def card_of(prefix: str = "") -> Coalesce:
    """The card, or the customer when the order has no card fingerprint."""
    return Coalesce(
        NullIf(f"{prefix}card_fingerprint", Value("")), f"{prefix}customer_id"
    )


def latest_scores(window: MetricsWindow) -> QuerySet[Score]:
    """The latest Score of each order created in the window."""
    return Score.objects.filter(window.q("order__created_at")).latest_per_order()


def latest_scored(window: MetricsWindow) -> QuerySet[WithAnnotations[Score, _DayCard]]:
    """Latest scores with a probability, with the order's day and card."""
    return (
        latest_scores(window)
        .filter(probability__isnull=False)
        .annotate(day=TruncDate("order__created_at"), entity=card_of("order__"))
    )


def fraud_orders(window: MetricsWindow) -> pd.DataFrame:
    """Orders of the window whose truth is fraud: day, order_id, entity and
    whether the order has a score. A few percent of orders at most."""
    latest = Score.objects.filter(order_id=OuterRef("pk")).order_by("-id")
    rows = (
        Order.objects.filter(window.q("created_at"))
        .filter(Exists(Label.objects.filter(order_id=OuterRef("pk"), value=FRAUD)))
        .annotate(
            truth=truth("pk"),
            day=TruncDate("created_at"),
            entity=card_of(),
            probability=Subquery(latest.values("probability")[:1]),
        )
        .filter(truth=FRAUD)
        .values_list("day", "pk", "entity", "probability")
    )
    frame = pd.DataFrame(list(rows), columns=["day", "order_id", "entity", "p"])
    frame["scored"] = frame["p"].notna()
    return frame


def flag(condition: Q) -> Case:
    return Case(
        When(condition, then=Value(value=True)),
        default=Value(value=False),
        output_field=BooleanField(),
    )
