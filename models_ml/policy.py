"""The decision policy: what a risk score means for an order, as one value.

Built from settings by `decision_policy()` and handed to intake, scoring,
re-scoring and the queue mix; a replay or an experiment builds its own
instead of overriding settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from models_ml.models import Score


@dataclass(frozen=True)
class DecisionPolicy:
    review_threshold: float  # fraud probability from which an order is reviewed
    decline_threshold: float  # … and from which it is declined outright
    top_reasons: int = 5  # SHAP reasons kept per explained score
    exploration_share: float = 0.10  # of the queue: uncertain orders below review
    audit_share: float = 0.05  # of the queue: orders drawn at random
    # Before a tenant's first model (no score): review from this amount, and a
    # random audit share of the rest (cases.services.cold_start).
    cold_start_amount: float = 0.0
    cold_start_audit_share: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.review_threshold <= self.decline_threshold <= 1:
            raise ValueError("need 0 <= review threshold <= decline threshold <= 1")
        if min(self.exploration_share, self.audit_share) < 0 or (
            self.exploration_share + self.audit_share >= 1
        ):
            raise ValueError("the shares must be >= 0, exploration + audit < 1")
        if not 0 < self.cold_start_audit_share <= 1 or self.cold_start_amount < 0:
            raise ValueError("need 0 < cold-start audit share <= 1, amount >= 0")

    @property
    def high_risk_share(self) -> float:
        return 1.0 - self.exploration_share - self.audit_share

    def decision(self, probability: float | None) -> str:
        """approve / review / decline; no score (no model yet) means review."""
        if probability is None:
            return Score.Decision.REVIEW
        if probability >= self.decline_threshold:
            return Score.Decision.DECLINE
        if probability >= self.review_threshold:
            return Score.Decision.REVIEW
        return Score.Decision.APPROVE


def decision_policy() -> DecisionPolicy:
    """The policy the settings describe (RISK_* and QUEUE_*_SHARE)."""
    return DecisionPolicy(
        review_threshold=settings.RISK_REVIEW_THRESHOLD,
        decline_threshold=settings.RISK_DECLINE_THRESHOLD,
        top_reasons=settings.RISK_TOP_REASONS,
        exploration_share=settings.QUEUE_EXPLORATION_SHARE,
        audit_share=settings.QUEUE_AUDIT_SHARE,
        cold_start_amount=settings.COLD_START_AMOUNT,
        cold_start_audit_share=settings.COLD_START_AUDIT_SHARE,
    )
