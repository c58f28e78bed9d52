"""Backtest: what a rule would have done on the tenant's stored orders.

The orders of the last N days (of order time, ending at the tenant's newest
order: replays and demos live in the past) are read in bulk, only the
columns the rules read (`datasets.orders_columns`, COPY on PostgreSQL);
their features come from the offline backfill (`build_features`, the
training set's computation, equal to intake's online features by the parity
test), their score is their latest stored score, list membership is today's
lists. Each order's variables are converted as intake converts them
(`rules.language.variable_value`) and the rule is evaluated on them, with
results memoised per distinct tuple of values (CEL is pure). Truth, model
decisions, overlap and samples are then read for the hits only.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db.models import Max

from cases.datasets import orders_columns, stored_tables
from cases.models import Order
from cases.truth import truth_expression
from models_ml.feature_spec import WINDOWS
from models_ml.features import HISTORY_COLUMNS, build_features
from models_ml.models import Score
from rules.engine import active_rules
from rules.language import (
    ENTITY_TYPES,
    FEATURE_VARIABLES,
    ORDER_VARIABLES,
    Compiled,
    RuleRuntimeError,
    rule_compile,
    rule_execute,
    variable_value,
)
from rules.lists import ENTITY_FIELDS, lists_snapshot, order_pairs

MAX_DAYS = 90
# Evaluating the rule (and the overlapping rules) on the orders: a checked
# rule costs microseconds an order (500 k orders in a few seconds); one built
# to be slow is stopped here rather than holding a worker.
EVALUATE_SECONDS = 60.0
SAMPLE_SIZE = 20
_BATCH = 2000
# Twice the longest window (and hops): an order's "new card for its device"
# flag, summed by device_new_cards_30d, itself looks back 30 days.
_LOOKBACK_MS = 2 * (max(w.width for w in WINDOWS.values()) + 86_400_000)


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
    newest = Order.objects.filter(tenant_id=tenant_id).aggregate(
        newest=Max("created_at")
    )["newest"]
    if newest is None:
        return result
    others = [
        r
        for r in active_rules([tenant_id]).get(tenant_id, [])
        if r.id != exclude_rule_id
    ]
    wanted = set(compiled.variables).union(*(r.compiled.variables for r in others))
    reads = {"amount"} | (wanted & set(ORDER_VARIABLES))
    if wanted & {"block", "allow"}:
        reads |= set(ENTITY_FIELDS.values())
    since = newest - timedelta(days=days)
    ids, raw = orders_columns(tenant_id, since, sorted(reads))
    result.orders = len(ids)
    columns = _variables(tenant_id, since, ids, raw, wanted)
    deadline = time.perf_counter() + EVALUATE_SECONDS
    hits = _evaluate(compiled, columns, range(len(ids)), result, deadline)
    result.hit_ids = [int(ids[i]) for i in hits]
    result.hits = len(hits)
    result.amount = round(sum(raw["amount"][i] for i in hits), 2)
    overlap: Counter[str] = Counter()
    for other in others:
        found = _evaluate(other.compiled, columns, hits, None, deadline)
        overlap[other.name] = len(found)
    result.overlap = [(n, c) for n, c in overlap.most_common() if c]
    _describe_hits(result)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _evaluate(
    compiled: Compiled,
    columns: dict[str, list[Any]],
    rows: Any,
    result: BacktestResult | None,
    deadline: float,
) -> list[int]:
    """The rows (indices) on which the rule is true; failures counted on
    `result`. Results are memoised per tuple of values when they hash.
    ValidationError once past `deadline` (time.perf_counter)."""
    names = sorted(compiled.variables)
    picked = [columns[n] for n in names]
    memo: dict[tuple, bool | str] = {}
    hits = []
    for i in rows:
        values = tuple(column[i] for column in picked)
        try:
            outcome = memo.get(values)
        except TypeError:  # a map (attributes, lists): not hashable
            outcome, values = None, ()
        if outcome is None:
            if time.perf_counter() > deadline:
                raise ValidationError(
                    {
                        "expression": [
                            f"Line 1, column 1: The backtest was stopped after "
                            f"{EVALUATE_SECONDS:g} s of evaluating rules: simplify "
                            "the rule (smaller lists, fewer comprehensions)."
                        ]
                    }
                )
            row = values or tuple(column[i] for column in picked)
            try:
                outcome = rule_execute(compiled, _as_variables(names, row))
            except RuleRuntimeError as exc:
                outcome = str(exc)
            if values:
                memo[values] = outcome
        if outcome is True:
            hits.append(i)
        elif outcome is not False and result is not None:
            result.errors += 1
            result.first_error = result.first_error or str(outcome)
    return hits


def _as_variables(names: list[str], row: tuple) -> dict[str, Any]:
    variables = dict(zip(names, row, strict=True))
    for kind in ("block", "allow"):
        if kind in variables:
            variables[kind] = dict(zip(ENTITY_TYPES, variables[kind], strict=True))
    return variables


def _variables(
    tenant_id: int,
    since: datetime,
    ids: np.ndarray,
    raw: dict[str, list[Any]],
    wanted: set[str],
) -> dict[str, list[Any]]:
    """Each wanted variable as a column of values, converted as intake does."""
    columns: dict[str, list[Any]] = {}
    for name in wanted & set(ORDER_VARIABLES):
        columns[name] = [variable_value(name, v) for v in raw[name]]
    features = _features(tenant_id, ids, wanted)
    for name, values in features.items():
        columns[name] = [variable_value(name, v) for v in values]
    if wanted & {"score", "has_score"}:
        latest = Score.objects.filter(
            order__tenant_id=tenant_id, order__created_at__gte=since
        ).latest_per_order()
        scores = dict(latest.values_list("order_id", "probability").iterator(10000))
        probabilities = [scores.get(int(i)) for i in ids]
        columns["score"] = [variable_value("score", p) for p in probabilities]
        columns["has_score"] = [variable_value("has_score", p) for p in probabilities]
    if wanted & {"block", "allow"}:
        listed = _listed(tenant_id, ids, raw)
        for kind in ("block", "allow"):
            # Kept as tuples of booleans (hashable, so memoised); made maps
            # again when the rule is evaluated (_as_variables).
            columns[kind] = [
                tuple(variable_value(kind, pairs).values()) for pairs in listed
            ]
    return columns


def _features(tenant_id: int, ids: np.ndarray, wanted: set[str]) -> dict[str, list]:
    """Offline features of the orders `ids` that the rules read, by name:
    one column each, in `ids` order (NaN when missing)."""
    names = sorted(wanted & set(FEATURE_VARIABLES))
    if not names or len(ids) == 0:
        return {}
    all_ids, history, labels = stored_tables(tenant_id)
    chosen = np.isin(all_ids, ids)  # stored_tables reads by id, as `ids` is
    queries = history[chosen].reset_index(drop=True)
    # Older history cannot change these orders' features.
    start = int(queries["ts"].min()) - _LOOKBACK_MS
    history = history[history["ts"] >= start]
    labels = labels[labels["known_ts"] >= start]
    frame = build_features(history[HISTORY_COLUMNS], queries, labels)
    return {name: frame[name].to_numpy(dtype=float).tolist() for name in names}


def _latest(ids: Any, column: str) -> dict[int, Any]:
    """order id → a column of its latest score, a query per batch."""
    found: dict[int, Any] = {}
    ids = [int(i) for i in ids]
    for start in range(0, len(ids), _BATCH * 5):
        rows = (
            Score.objects.filter(order_id__in=ids[start : start + _BATCH * 5])
            .latest_per_order()
            .values_list("order_id", column)
        )
        found.update(rows)
    return found


def _listed(
    tenant_id: int, ids: np.ndarray, raw: dict[str, list[Any]]
) -> list[list[tuple[str, str]]]:
    """(kind, entity type) pairs per order, from today's lists held in memory."""
    snapshot = lists_snapshot(tenant_id)
    row = SimpleNamespace()
    found: list[list[tuple[str, str]]] = []
    for i in range(len(ids)):
        for f in ENTITY_FIELDS.values():
            setattr(row, f, raw[f][i])
        found.append(order_pairs(row, snapshot))
    return found


def _describe_hits(result: BacktestResult) -> None:
    """Truth, the model's decisions and samples, read for the hits only."""
    truth: Counter[str | None] = Counter()
    decisions: Counter[str] = Counter()
    for start in range(0, len(result.hit_ids), _BATCH):
        chunk = result.hit_ids[start : start + _BATCH]
        truth.update(
            Order.objects.filter(pk__in=chunk)
            .annotate(truth=truth_expression())
            .values_list("truth", flat=True)
        )
        rows = (
            Score.objects.filter(order_id__in=chunk)
            .latest_per_order()
            .values_list("model_decision", "decision")
        )
        decisions.update(model or decision for model, decision in rows)
    result.fraud, result.legitimate = truth["fraud"], truth["legitimate"]
    result.unlabelled = truth[None]
    scored = sum(decisions.values())
    if scored < result.hits:
        decisions["none"] += result.hits - scored
    result.by_model_decision = dict(decisions)
    sample = result.hit_ids[:SAMPLE_SIZE]
    scores = _latest(sample, "probability")
    orders = Order.objects.filter(pk__in=sample).annotate(truth=truth_expression())
    for order in orders.order_by("id"):
        result.samples.append(
            {
                "order_id": order.order_id,
                "created_at": order.created_at.isoformat(),
                "amount": str(order.amount),
                "currency": order.currency,
                "truth": order.truth,  # type: ignore[attr-defined]
                "risk_score": scores.get(order.pk),
            }
        )
