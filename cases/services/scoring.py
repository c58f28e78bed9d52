"""Scores of orders: their features read here, the model applied by the registry."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cases.models import Order
from cases.selectors import order_latest_score
from models_ml.feature_state import features_online
from models_ml.models import Score
from models_ml.policy import DecisionPolicy, decision_policy
from models_ml.services import scores_compute
from rules.engine import scores_rules_apply


def orders_score(
    orders: Sequence[Order],
    policy: DecisionPolicy,
    explain: Callable[[str], bool] | None = None,
) -> list[Score]:
    """Unsaved Score rows for `orders` (saved or not), features as of each
    order's own created_at, decided by `policy`; `explain(decision)` picks who
    gets SHAP reasons."""
    return scores_compute(orders, features_online(orders), policy, explain)


def orders_decide(
    orders: Sequence[Order],
    policy: DecisionPolicy,
    explain: Callable[[str], bool] | None = None,
) -> list[Score]:
    """The one decision path of intake, re-scoring and the replay: the model's
    score, then the tenant's lists and rules (`rules.engine`: allow list and
    allow rules, block list and decline rules, the model, review rules,
    boosts). Unsaved Score rows; `explain(final decision)` picks who gets SHAP
    reasons."""
    features = features_online(orders)
    scores = scores_compute(orders, features, policy)
    scores_rules_apply(scores)
    chosen = [i for i, s in enumerate(scores) if explain and explain(s.decision)]
    if chosen:
        explained = scores_compute(
            [orders[i] for i in chosen],
            features.iloc[chosen],
            policy,
            explain=lambda _d: True,
        )
        for i, fresh in zip(chosen, explained, strict=True):
            scores[i].base_value = fresh.base_value
            scores[i].contributions = fresh.contributions
    return scores


def order_score_explained(order: Order) -> Score | None:
    """The order's latest score, with its SHAP reasons.

    Intake explains only orders it does not approve; a score stored without
    reasons is explained when someone asks about the order, and the reasons
    are kept on the row, if the model that made the score is still active.
    """
    score = order_latest_score(order)
    if score is None or score.contributions is not None or not score.model_version_id:
        return score
    (fresh,) = orders_score([order], decision_policy(), explain=lambda _d: True)
    if fresh.model_version_id == score.model_version_id and fresh.contributions:
        Score.objects.filter(pk=score.pk).update(
            base_value=fresh.base_value, contributions=fresh.contributions
        )
        score.base_value, score.contributions = fresh.base_value, fresh.contributions
    return score
