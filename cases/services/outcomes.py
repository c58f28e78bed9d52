"""Delayed ground truth from clients: chargebacks and merchant confirmations."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from cases.models import ApiClient, Label, Order
from cases.schemas import OutcomeIn
from cases.services.audit import audit_record

_OUTCOMES = {
    "chargeback": (Label.Value.FRAUD, Label.Source.CHARGEBACK),
    "confirmed_fraud": (Label.Value.FRAUD, Label.Source.MERCHANT),
    "confirmed_legitimate": (Label.Value.LEGITIMATE, Label.Source.MERCHANT),
}


@transaction.atomic
def outcome_record(
    client: ApiClient, order: Order, outcome: OutcomeIn
) -> tuple[Label, bool]:
    """A Label for the outcome; the same outcome reported again is not duplicated.

    The label is known from now (when we hear of it), whatever `occurred_at`
    says: features only ever see labels that were known at the time.
    """
    value, source = _OUTCOMES[outcome.outcome]
    Order.objects.select_for_update().filter(pk=order.pk).first()
    existing = Label.objects.filter(order=order, value=value, source=source).first()
    if existing is not None:
        return existing, False
    label = Label.objects.create(
        order=order,
        value=value,
        source=source,
        note=outcome.note,
        client=client,
        known_at=timezone.now(),
        reasons=[outcome.outcome],
    )
    audit_record(
        f"client:{client.name}",
        "label.outcome",
        label,
        after={"order": order.order_id, "value": value, "source": source},
    )
    return label, True
