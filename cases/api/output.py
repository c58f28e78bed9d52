"""Plain-dict representations of domain objects for API responses."""

from __future__ import annotations

from typing import Any

from cases.models import Case, Label, Order
from cases.schemas import OrderIn
from cases.services.intake import IntakeResult
from cases.services.opening import rule_reasons

# An order reads back with exactly the fields it was sent with.
_ORDER_FIELDS = list(OrderIn.model_fields)


def order_result_output(result: IntakeResult) -> dict[str, Any]:
    score = result.score
    return {
        "order_id": result.order.order_id,
        "risk_score": None
        if score is None or score.probability is None
        else round(score.probability, 6),
        "decision": score.decision if score else "review",
        "case_id": result.case.pk if result.case else None,
        "model_version": score.model_version_id if score else None,
        "reasons": score.contributions if score else None,
        "rule_reasons": rule_reasons(score),
        "created": result.created,
    }


def order_fields_output(order: Order) -> dict[str, Any]:
    data = {name: getattr(order, name) for name in _ORDER_FIELDS}
    data["amount"] = str(order.amount)
    for name in ("created_at", "account_created_at"):
        data[name] = data[name].isoformat() if data[name] else None
    data["ip_address"] = order.ip_address or None
    return data


def label_output(label: Label) -> dict[str, Any]:
    return {
        "id": label.pk,
        "value": label.value,
        "source": label.source,
        "reasons": label.reasons,
        "note": label.note,
        "known_at": label.known_at.isoformat(),
    }


def case_output(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "order_id": case.order.order_id,
        "status": case.status,
        "priority": case.priority,
        "queue_reason": case.queue_reason,
        "selection_probability": case.selection_probability,
        "created_at": case.created_at.isoformat(),
        "decided_at": case.decided_at.isoformat() if case.decided_at else None,
        "labels": [
            label_output(label) for label in case.labels.order_by("known_at", "id")
        ],
    }
