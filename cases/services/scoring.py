"""Scores of orders: their features read here, the model applied by the registry."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cases.models import Order
from models_ml.feature_state import features_online
from models_ml.models import Score
from models_ml.services import scores_compute


def orders_score(
    orders: Sequence[Order], explain: Callable[[str], bool] | None = None
) -> list[Score]:
    """Unsaved Score rows for `orders` (saved or not), features as of each
    order's own created_at; `explain(decision)` picks who gets SHAP reasons."""
    return scores_compute(orders, features_online(orders), explain)
