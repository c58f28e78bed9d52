"""Delayed ground truth from clients: chargebacks and merchant confirmations."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from cases.models import ApiClient, Case, Label, Order
from cases.schemas import OutcomeIn
from cases.services.audit import audit_record
from cases.services.linked import linked_rescore_after_commit
from models_ml.feature_state import labels_record

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
    labels_record([label])
    linked_rescore_after_commit(label)
    audit_record(
        f"client:{client.name}",
        "label.outcome",
        label,
        after={"order": order.order_id, "value": value, "source": source},
    )
    _flag_disagreement(order, label)
    return label, True


def _flag_disagreement(order: Order, outcome: Label) -> None:
    """An outcome that contradicts the reviewers' decision sends the case to a
    lead (training already trusts the outcome over the reviewer label)."""
    reviewed = (
        Label.objects.filter(order=order, source=Label.Source.REVIEWER)
        .order_by("-id")
        .first()
    )
    if reviewed is None or reviewed.value == outcome.value or reviewed.case_id is None:
        return
    case = Case.objects.select_for_update().get(pk=reviewed.case_id)
    before = case.status
    case.status = Case.Status.ESCALATED
    case.save(update_fields=["status"])
    audit_record(
        "system",
        "case.outcome_disagrees",
        case,
        before={"status": before, "label": reviewed.value},
        after={"status": case.status, "outcome": outcome.value},
    )
