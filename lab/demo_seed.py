"""Demo data a lead can read: a month of generated orders ending today.

The older weeks are history whose truth is known a week after each order
(chargebacks and merchant confirmations); a first model is trained on them;
the last week then goes through intake day by day, so its orders carry scores,
reasons and cases, and simulated reviewers decide the day's riskiest cases at
the end of each day, leaving the newest days' cases open for you. Frauds of
the last week are not charged back yet: that truth arrives later, as in life.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cases.datasets import training_set
from cases.models import Case, Label, Order
from cases.schemas import OrderIn
from cases.services.bulk import import_client, orders_bulk_load
from lab.demo_data import TRUTH_KEYS, generate_orders
from lab.replay.world import (
    orders_ingest_day,
    orders_load,
    queue_mix_day,
    reviews_decide,
)
from models_ml.policy import decision_policy
from models_ml.services import TrainingDataError, model_train

DEMO_CLIENT = "demo"
LABEL_DELAY = timedelta(days=7)
LIVE_DAYS = 7  # at least LABEL_DELAY: no history label is known in the future
OPEN_DAYS = 2  # the newest days' cases stay open for the person trying the demo
REVIEWS_PER_DAY = 12
INTAKE_CHUNK = 200
HISTORY_LABELLED_SHARE = 0.75


@dataclass(frozen=True)
class DemoReport:
    history: int  # orders loaded unscored; those older than a week labelled
    live: int
    model: str
    decided: int
    open_cases: int

    def summary(self) -> str:
        return (
            f"Stored {self.history} labelled history orders and {self.live} orders "
            f"of the last {LIVE_DAYS} days through intake; model {self.model}; "
            f"{self.decided} cases decided by simulated reviewers, "
            f"{self.open_cases} open for you."
        )


def demo_history_load(orders: int, seed: int, days: int) -> tuple[int, int]:
    """Only history, from the generator's fixed start, the older three quarters
    labelled a week after each order (the benchmarks' fixed world); idempotent.
    Returns (orders stored, labels stored)."""
    rows = generate_orders(orders, seed=seed, days=days)
    payloads = [
        OrderIn.model_validate({k: v for k, v in r.items() if k not in TRUTH_KEYS})
        for r in rows
    ]
    cutoff = int(len(rows) * HISTORY_LABELLED_SHARE)
    labels = [
        (
            r["order_id"],
            Label.Value.FRAUD if r["is_fraud"] else Label.Value.LEGITIMATE,
            r["created_at"] + LABEL_DELAY,
        )
        for r in rows[:cutoff]
    ]
    return orders_bulk_load(import_client(DEMO_CLIENT), payloads, labels)


def demo_seed(orders: int, seed: int, days: int, now: datetime) -> DemoReport | None:
    """Seed the demo once; None when the demo client already has orders."""
    client = import_client(DEMO_CLIENT)
    if Order.objects.filter(client=client).exists():
        return None
    day0 = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = day0 - timedelta(days=days - 1)
    rows = generate_orders(orders, seed=seed, start=start, days=days)
    rows = [r for r in rows if r["created_at"] < now]
    live_start = day0 - timedelta(days=LIVE_DAYS - 1)
    pairs = [
        (
            OrderIn.model_validate({k: v for k, v in r.items() if k not in TRUTH_KEYS}),
            bool(r["is_fraud"]),
        )
        for r in rows
    ]
    known_by = now - LABEL_DELAY
    labelled = [p for p in pairs if p[0].created_at < known_by]
    unlabelled = [p for p in pairs if known_by <= p[0].created_at < live_start]
    live = [p for p in pairs if p[0].created_at >= live_start]
    orders_load(client, labelled, LABEL_DELAY)
    orders_load(client, unlabelled, None)
    try:
        version = model_train(
            lambda: training_set(client.tenant_id), tenant_id=client.tenant_id
        )
        model = f"v{version.pk} {version.status}"
    except TrainingDataError as exc:  # too few labels: cases open without a model
        model = f"not trained ({exc})"
    truth = {order.order_id: fraud for order, fraud in live}
    decided = 0
    for offset in range(LIVE_DAYS):
        day = live_start + timedelta(days=offset)
        end = min(day + timedelta(days=1), now)
        todays = [o for o, _ in live if day <= o.created_at < end]
        orders_ingest_day(client, todays, INTAKE_CHUNK)
        queue_mix_day(client, day, end, decision_policy(), seed + offset)
        if offset < LIVE_DAYS - OPEN_DAYS:
            decided += reviews_decide(client, day, end, REVIEWS_PER_DAY, truth).decided
    return DemoReport(
        history=len(labelled) + len(unlabelled),
        live=len(live),
        model=model,
        decided=decided,
        open_cases=Case.objects.pending().filter(order__client=client).count(),
    )
