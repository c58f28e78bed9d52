"""Backtest: what a rule would have done on the tenant's stored orders.

The orders of the last N days (of order time, ending at the tenant's newest
order: replays and demos live in the past) are read in bulk; their features
come from the offline backfill (`build_features`, the training set's
computation, equal to intake's online features by the parity test), their
score is their latest stored score, list membership is today's lists. The
rule is evaluated on the same contexts intake builds (`order_context`), so a
rule hits in the backtest exactly the orders it then hits live.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from django.db.models import Max

from cases.datasets import stored_tables
from cases.models import Order
from cases.truth import truth_expression
from models_ml.features import HISTORY_COLUMNS, build_features
from models_ml.models import Score
from rules.engine import active_rules
from rules.language import (
    FEATURE_VARIABLES,
    ORDER_VARIABLES,
    Compiled,
    RuleRuntimeError,
    order_context,
    rule_compile,
    rule_evaluate,
)
from rules.lists import ENTITY_FIELDS, listed_pairs, orders_listed

MAX_DAYS = 90
SAMPLE_SIZE = 20
_LIST_BATCH = 2000


@dataclass
class BacktestResult:
    days: int
    orders: int = 0
    hits: int = 0
    fraud: int = 0
    legitimate: int = 0
    unlabelled: int = 0
    amount: float = 0.0
    errors: int = 0
    first_error: str = ""
    by_model_decision: dict[str, int] = field(default_factory=dict)
    overlap: list[tuple[str, int]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    hit_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data.pop("hit_ids")
        data["overlap"] = [{"rule": n, "hits": c} for n, c in self.overlap]
        return data


def rule_backtest(
    tenant_id: int,
    expression: str,
    *,
    days: int = 30,
    exclude_rule_id: int | None = None,
) -> BacktestResult:
    """Evaluate `expression` on the tenant's orders of the last `days` days.

    ValidationError (with the position) when the expression does not check.
    Overlap is counted against the tenant's other active rules (not
    `exclude_rule_id`, the rule being tested).
    """
    started = time.perf_counter()
    compiled = rule_compile(expression)
    days = max(1, min(int(days), MAX_DAYS))
    result = BacktestResult(days=days)
    orders = Order.objects.filter(tenant_id=tenant_id)
    newest = orders.aggregate(newest=Max("created_at"))["newest"]
    if newest is None:
        return result
    window = orders.filter(created_at__gte=newest - timedelta(days=days))
    others = [
        r
        for r in active_rules([tenant_id]).get(tenant_id, [])
        if r.id != exclude_rule_id
    ]
    wanted = set(compiled.variables).union(*(r.compiled.variables for r in others))
    reads = {"order_id", "amount", "currency", "created_at"}
    reads |= wanted & set(ORDER_VARIABLES)
    if wanted & {"block", "allow"}:
        reads |= set(ENTITY_FIELDS.values())
    fields = sorted(reads)
    rows = list(
        window.order_by("id")
        .annotate(truth=truth_expression())
        .values_list("id", "tenant_id", "truth", *fields)
    )
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    result.orders = len(rows)
    features = _features(tenant_id, ids, wanted)
    scores = _latest_scores(window)
    listed = _listed(rows, fields) if wanted & {"block", "allow"} else None
    overlap: Counter[str] = Counter()
    by_model: Counter[str] = Counter()
    for i, row in enumerate(rows):
        values = dict(zip(fields, row[3:], strict=True))
        probability, model_decision = scores.get(row[0], (None, ""))
        context = order_context(
            values,
            {name: column[i] for name, column in features.items()},
            probability,
            listed[i] if listed is not None else (),
            wanted,
        )
        if not _matches(compiled, context, result):
            continue
        result.hits += 1
        result.hit_ids.append(row[0])
        truth = row[2]
        result.fraud += truth == "fraud"
        result.legitimate += truth == "legitimate"
        result.unlabelled += truth is None
        result.amount += float(values["amount"])
        by_model[model_decision or "none"] += 1
        for other in others:
            if _matches(other.compiled, context, None):
                overlap[other.name] += 1
        if len(result.samples) < SAMPLE_SIZE:
            result.samples.append(
                {
                    "order_id": values["order_id"],
                    "created_at": values["created_at"].isoformat(),
                    "amount": str(values["amount"]),
                    "currency": values["currency"],
                    "truth": truth,
                    "risk_score": probability,
                    "model_decision": model_decision,
                }
            )
    result.amount = round(result.amount, 2)
    result.by_model_decision = dict(by_model)
    result.overlap = overlap.most_common()
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _matches(compiled: Compiled, context: dict[str, Any], result: Any) -> bool:
    try:
        return rule_evaluate(compiled, context)
    except RuleRuntimeError as exc:
        if result is not None:
            result.errors += 1
            result.first_error = result.first_error or str(exc)
        return False


def _features(tenant_id: int, ids: np.ndarray, wanted: set[str]) -> dict[str, list]:
    """Offline features of the orders `ids` that the rules read, by name:
    one column each, in `ids` order (NaN when missing)."""
    names = sorted(wanted & set(FEATURE_VARIABLES))
    if not names or len(ids) == 0:
        return {}
    all_ids, history, labels = stored_tables(tenant_id)
    chosen = np.isin(all_ids, ids)
    queries = history[chosen].reset_index(drop=True)
    frame = build_features(history[HISTORY_COLUMNS], queries, labels)
    # stored_tables reads by id, as `ids` is sorted.
    return {name: frame[name].to_numpy(dtype=float).tolist() for name in names}


def _latest_scores(window: Any) -> dict[int, tuple[float | None, str]]:
    rows = (
        Score.objects.filter(order__in=window)
        .latest_per_order()
        .values_list("order_id", "probability", "model_decision", "decision")
    )
    return {
        order_id: (p, model_decision or decision)
        for order_id, p, model_decision, decision in rows
    }


def _listed(rows: list[tuple], fields: list[str]) -> list[list[tuple[str, str]]]:
    """(kind, entity type) pairs per row, today's lists, a query per batch."""

    class _Row:
        def __init__(self, row: tuple) -> None:
            self.tenant_id = row[1]
            self.__dict__.update(zip(fields, row[3:], strict=True))

    found: list[list[tuple[str, str]]] = []
    for start in range(0, len(rows), _LIST_BATCH):
        batch = [_Row(r) for r in rows[start : start + _LIST_BATCH]]
        found += [listed_pairs(e) for e in orders_listed(batch)]
    return found
