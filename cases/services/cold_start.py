"""The cold start: which orders are reviewed before a tenant's first model.

Without a model every order used to become a case. The policy instead
(`DecisionPolicy.cold_start_*`, from COLD_START_AMOUNT and
COLD_START_AUDIT_SHARE) reviews orders from an amount, where a miss costs
most, and a random audit share of the rest, drawn by a hash of the order's
identity (the same order always draws the same), with its inclusion
probability recorded on the case: those audit cases are the unbiased sample
the promotion gate needs, so the first model trains as soon as the gate's
minimum is met (`training.model_retrain_if_due`). The rest are approved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cases.models import Case, Order
from models_ml.models import Score
from models_ml.policy import DecisionPolicy


def cold_start_draw(order: Order, purpose: str = "audit") -> float:
    """A uniform number in [0, 1) fixed by the order's tenant, client and id
    (and `purpose`: independent draws for different uses)."""
    key = f"{purpose}:{order.tenant_id}:{order.client_id}:{order.order_id}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2.0**64


def cold_start_reason(order: Order, policy: DecisionPolicy) -> tuple[str, float] | None:
    """(queue reason, inclusion probability) of an unscored order the policy
    reviews, or None when it lets the order through."""
    if float(order.amount) >= policy.cold_start_amount:
        return Case.QueueReason.NO_MODEL, 1.0
    if cold_start_draw(order) < policy.cold_start_audit_share:
        return Case.QueueReason.AUDIT, policy.cold_start_audit_share
    return None


def cold_start_priority(order: Order, policy: DecisionPolicy) -> float:
    """An audit case's priority: random, below every case opened for its
    amount, so reviewers work a random subset of the audit cases (their
    labels stay an unbiased sample)."""
    return round(cold_start_draw(order, "priority") * policy.cold_start_amount, 4)


def cold_start_decide(scores: Sequence[Score], policy: DecisionPolicy) -> None:
    """Approve the unscored orders the policy does not review (in place); a
    rule's or a list's decision stands."""
    for score in scores:
        if (
            score.probability is None
            and score.decision == Score.Decision.REVIEW
            and score.deciding_hit is None
            and cold_start_reason(score.order, policy) is None
        ):
            score.decision = Score.Decision.APPROVE
