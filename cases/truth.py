"""The truth of an order, defined once.

An order's truth is its latest outcome label (a chargeback or a merchant
confirmation) if it has one, else its latest reviewer label, else its
matured label (approved and undisputed past the dispute window: a later
chargeback or review overrides it); "latest" is the
greatest `known_at`, then the greatest id. An order without labels has no
truth. The rule exists in two forms because two kinds of reader need it: SQL
(an expression for querysets, the dashboard) and Python (a dict over every
label, for training sets). A test holds them equal on the same labels.
"""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce

from cases.models import Label

OUTCOME_SOURCES = (Label.Source.CHARGEBACK, Label.Source.MERCHANT)


def truth_expression(order_ref: str = "pk") -> Coalesce:
    """'fraud', 'legitimate' or NULL for the order that `order_ref` names."""
    return Coalesce(
        label_value_expression(order_ref, OUTCOME_SOURCES),
        label_value_expression(order_ref, (Label.Source.REVIEWER,)),
        label_value_expression(order_ref, (Label.Source.MATURED,)),
    )


def label_value_expression(order_ref: str, sources: tuple[str, ...]) -> Subquery:
    """The value of the order's latest label from `sources`, or NULL."""
    labels = Label.objects.filter(order_id=OuterRef(order_ref), source__in=sources)
    return Subquery(labels.order_by("-known_at", "-id").values("value")[:1])


def _tier(source: str) -> int:
    """Outcomes beat reviewers, who beat the maturity rule."""
    if source in OUTCOME_SOURCES:
        return 2
    return 0 if source == Label.Source.MATURED else 1


def orders_truth() -> dict[int, int]:
    """order id → 1 (fraud) or 0 (legitimate), for every labelled order."""
    best: dict[int, tuple[int, object, int, int]] = {}
    rows = Label.objects.values_list("order_id", "source", "known_at", "id", "value")
    for order_id, source, known_at, label_id, value in rows:
        candidate = (
            _tier(source),
            known_at,
            label_id,
            int(value == Label.Value.FRAUD),
        )
        current = best.get(order_id)
        if current is None or candidate[:3] > current[:3]:
            best[order_id] = candidate
    return {order_id: t[3] for order_id, t in best.items()}
