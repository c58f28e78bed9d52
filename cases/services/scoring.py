"""Scores of orders: their features read here, the model applied by the registry."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from django.db import connection

from cases.models import Order
from cases.selectors import order_latest_score
from models_ml.feature_state import features_online
from models_ml.features import FEATURE_NAMES, FEATURE_VERSION
from models_ml.models import Score
from models_ml.policy import DecisionPolicy, decision_policy
from models_ml.services import scores_compute, scores_explain
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
    *,
    served: bool = False,
    features: pd.DataFrame | None = None,
) -> list[Score]:
    """The one decision path of intake, re-scoring and the replay: the model's
    score, then the tenant's lists and rules (`rules.engine`: allow list and
    allow rules, block list and decline rules, the model, review rules,
    boosts). Unsaved Score rows; `explain(final decision)` picks who gets SHAP
    reasons. Features are read from the tiles (`features_online`) unless
    `served` (re-scoring: the vectors the orders were decided on,
    `features_served`), or are `features` when given (a FEATURE_NAMES frame,
    one row per order in order: the linked re-scoring's, label aggregates as
    of the label)."""
    if features is None:
        features = features_served(orders) if served else features_online(orders)
    scores = scores_compute(orders, features, policy)
    scores_rules_apply(scores)
    chosen = [i for i, s in enumerate(scores) if explain and explain(s.decision)]
    scores_explain(
        [scores[i] for i in chosen], features.iloc[chosen], policy.top_reasons
    )
    return scores


def orders_score_served(
    orders: Sequence[Order],
    policy: DecisionPolicy,
    explain: Callable[[str], bool] | None = None,
) -> list[Score]:
    """`orders_score` for stored orders, reusing the feature vector each one
    was served with (its latest score's, if of this FEATURE_VERSION) instead
    of reading the tiles again; see `features_served`. The model only: the
    decision path is `orders_decide`."""
    return scores_compute(orders, features_served(orders), policy, explain)


def features_served(orders: Sequence[Order]) -> pd.DataFrame:
    """The FEATURE_NAMES frame of stored orders: the vector stored with the
    order's latest score when it has FEATURE_VERSION (what the order was
    decided on, not recomputed); for the others (no score, or a score of an
    older feature version) the features read from the tiles as of the order's
    created_at (`features_online`), in one read for all of them."""
    stored = _vectors_served([o.pk for o in orders])
    rows = np.full((len(orders), len(FEATURE_NAMES)), np.nan)
    for i, order in enumerate(orders):
        vector = stored.get(order.pk)
        if vector is not None:
            rows[i] = [np.nan if (v := vector[n]) is None else v for n in FEATURE_NAMES]
    missing = [i for i, o in enumerate(orders) if o.pk not in stored]
    if missing:
        fresh = features_online([orders[i] for i in missing])
        rows[missing] = fresh[FEATURE_NAMES].to_numpy(dtype=float)
    return pd.DataFrame(rows, columns=FEATURE_NAMES)


def _vectors_served(order_ids: list[int]) -> dict[int, dict]:
    """order id → the vector of its latest score, if of FEATURE_VERSION."""
    latest = scores_latest(order_ids, "feature_version", "features")
    return {i: v for i, (version, v) in latest.items() if version == FEATURE_VERSION}


def scores_latest(order_ids: list[int], *fields: str) -> dict[int, tuple]:
    """order id → `fields` of its latest score (orders with one). On
    PostgreSQL one DISTINCT ON row per order through the (order, -id) index:
    `latest_per_order`'s anti-join was planned over the whole score table."""
    scores = Score.objects.filter(order_id__in=order_ids)
    if connection.vendor == "postgresql":
        rows = scores.order_by("order_id", "-id").distinct("order_id")
    else:
        rows = scores.order_by("id")  # the latest one wins below
    return {r[0]: r[1:] for r in rows.values_list("order_id", *fields)}


def order_score_explained(order: Order) -> Score | None:
    """The order's latest score, with its SHAP reasons.

    Intake explains only orders it does not approve; a score stored without
    reasons is explained when someone asks about the order, and the reasons
    are kept on the row, if the model that made the score is still active.
    """
    score = order_latest_score(order)
    if score is None or score.contributions is not None or not score.model_version_id:
        return score
    (fresh,) = orders_score_served([order], decision_policy(), lambda _d: True)
    if fresh.model_version_id == score.model_version_id and fresh.contributions:
        Score.objects.filter(pk=score.pk).update(
            base_value=fresh.base_value, contributions=fresh.contributions
        )
        score.base_value, score.contributions = fresh.base_value, fresh.contributions
    return score
