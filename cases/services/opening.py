"""Opening cases: the one place a case is created, whoever asks for one.

Intake and re-scoring open a case for each order the decision policy sends
to review; the queue mix opens exploration and audit cases; the replay goes
through both. A new reason to review an order (a rule, a list) becomes a
`CaseOpening` with its own queue reason, and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cases.models import AuditEvent, Case, Order
from cases.services.audit import audit_event
from cases.services.cold_start import cold_start_priority, cold_start_reason
from models_ml.models import Score
from models_ml.policy import DecisionPolicy, decision_policy
from rules.engine import hits_boost


@dataclass(frozen=True)
class CaseOpening:
    order_id: int
    probability: float | None
    queue_reason: str
    priority: float
    top_reason: str = ""
    selection_probability: float = 1.0  # π of a sampled case, for 1/π estimates
    tenant_id: int | None = None  # the order's; looked up when not given


def cases_open(openings: Sequence[CaseOpening]) -> dict[int, Case]:
    """Create the cases, each with a `case.opened` audit event, in the caller's
    transaction. Returns order id → case, for the cases created: an order that
    already has a case (one per order) is skipped, as is a second opening for
    one order. Race-free only where the caller holds the orders' locks (the
    linked re-scoring does); elsewhere the constraint still refuses."""
    existing = set(
        Case.objects.filter(order_id__in=[o.order_id for o in openings]).values_list(
            "order_id", flat=True
        )
        if openings
        else []
    )
    fresh: dict[int, CaseOpening] = {}
    for opening in openings:
        if opening.order_id not in existing:
            fresh.setdefault(opening.order_id, opening)
    openings = list(fresh.values())
    unknown = [o.order_id for o in openings if o.tenant_id is None]
    tenants = dict(
        Order.objects.filter(pk__in=unknown).values_list("pk", "tenant_id")
        if unknown
        else []
    )
    cases = [
        Case(
            order_id=o.order_id,
            tenant_id=o.tenant_id if o.tenant_id is not None else tenants[o.order_id],
            probability=o.probability,
            queue_reason=o.queue_reason,
            priority=o.priority,
            top_reason=o.top_reason,
            selection_probability=o.selection_probability,
        )
        for o in openings
    ]
    Case.objects.bulk_create(cases)
    AuditEvent.objects.bulk_create(
        audit_event("system", "case.opened", c, {"reason": c.queue_reason})
        for c in cases
    )
    return {c.order_id: c for c in cases}


def openings_for_review(
    scores: Sequence[Score], policy: DecisionPolicy | None = None
) -> list[CaseOpening]:
    """A case for every score whose decision is review: a rule case when a
    review rule sent it (the model approved), else high-risk; an unscored one
    (no model yet) opens by the cold-start policy's reason and π. Boost rules
    add to the priority."""
    policy = policy or decision_policy()
    openings = []
    for s in scores:
        if s.decision != Score.Decision.REVIEW:
            continue
        reason, pi, priority = _queue_reason(s), 1.0, score_priority(s)
        if reason == Case.QueueReason.NO_MODEL:
            reason, pi = cold_start_reason(s.order, policy) or (reason, 1.0)
            if reason == Case.QueueReason.AUDIT:
                priority = cold_start_priority(s.order, policy)
        openings.append(
            CaseOpening(
                order_id=s.order.pk,
                probability=s.probability,
                queue_reason=reason,
                priority=priority,
                top_reason=case_top_reason(s),
                tenant_id=s.order.tenant_id,
                selection_probability=pi,
            )
        )
    return openings


def _queue_reason(score: Score) -> str:
    if score.deciding_hit is not None:
        return Case.QueueReason.RULE
    if score.probability is None:
        return Case.QueueReason.NO_MODEL
    return Case.QueueReason.HIGH_RISK


def score_priority(score: Score) -> float:
    """The priority of the score's case: expected loss plus rule boosts."""
    base = case_priority(score.probability, float(score.order.amount))
    return round(base + hits_boost(score.rule_hits or []), 4)


def rule_reasons(score: Score | None) -> list[dict[str, Any]]:
    """The rules and list entries that matched, as the API, the case page and
    webhooks show them beside the SHAP reasons."""
    keys = ("kind", "action", "id", "name", "list", "entity_type", "text", "decided")
    return [
        {k: hit[k] for k in keys if k in hit}
        for hit in (score.rule_hits if score is not None else None) or []
    ]


def case_top_reason(score: Score) -> str:
    """The strongest reason: the rule or list entry that decided, else the
    strongest SHAP reason pushing towards fraud, for the queue's column."""
    if (hit := score.deciding_hit) is not None:
        return str(hit["text"])[:200]
    for reason in score.contributions or []:
        if reason["contribution"] > 0:
            return reason["text"][:200]
    return ""


def cases_rescored(cases: dict[int, Case], scores: Sequence[Score]) -> None:
    """Re-prioritise the pending cases (by order id) from their orders' new
    scores, in one UPDATE."""
    changed = []
    for score in scores:
        case = cases.get(score.order.pk)
        if case is not None and case.status in Case.PENDING:
            case.priority = score_priority(score)
            case.probability = score.probability
            case.top_reason = case_top_reason(score)
            changed.append(case)
    Case.objects.bulk_update(changed, ["priority", "probability", "top_reason"])


def case_priority(probability: float | None, amount: float) -> float:
    """Expected loss if the order is fraud: probability × amount."""
    return round((1.0 if probability is None else probability) * amount, 4)
