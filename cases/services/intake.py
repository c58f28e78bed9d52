"""Order intake: validate → features → score → explain → case, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from django.db import IntegrityError, OperationalError, transaction

from cases.models import ApiClient, Case, Order
from cases.schemas import OrderIn
from cases.services.cold_start import cold_start_decide
from cases.services.db_retry import is_retryable, retry_pause
from cases.services.opening import cases_open, openings_for_review
from cases.services.scoring import orders_decide
from models_ml.feature_state import orders_record
from models_ml.models import Score
from models_ml.policy import DecisionPolicy, decision_policy
from models_ml.services import scores_save

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class IntakeResult:
    order: Order
    score: Score | None
    case: Case | None
    created: bool


def orders_ingest(
    client: ApiClient,
    payloads: Sequence[OrderIn],
    *,
    explain_all: bool,
    policy: DecisionPolicy | None = None,
) -> list[IntakeResult]:
    """Store, score and queue new orders; return the stored result for repeats.

    Decided by `policy` (the configured one by default). Idempotent per
    (client, order_id): an order sent again is not stored, scored or queued
    again. Orders that become cases are always explained (SHAP); others only
    when `explain_all`, since SHAP costs more than scoring.

    Rows are inserted in order_id order, so two batches that share orders wait
    for each other instead of deadlocking; a deadlock or serialisation failure
    that happens anyway (other tables, other writers) is retried.
    """
    policy = policy or decision_policy()
    for attempt in range(MAX_ATTEMPTS):
        try:
            return _ingest_once(client, payloads, policy, explain_all=explain_all)
        except IntegrityError:
            # A concurrent request stored one of these order_ids first; the
            # next attempt finds it and answers with the stored result.
            continue
        except OperationalError as exc:
            if not is_retryable(exc):
                raise
            retry_pause(attempt)
    raise RuntimeError("order intake kept colliding with concurrent requests")


def _ingest_once(
    client: ApiClient,
    payloads: Sequence[OrderIn],
    policy: DecisionPolicy,
    *,
    explain_all: bool,
) -> list[IntakeResult]:
    ids = [p.order_id for p in payloads]
    first: dict[str, OrderIn] = {}
    for payload in payloads:
        first.setdefault(payload.order_id, payload)  # a repeat in a batch is a resend
    stored = {
        o.order_id: o for o in Order.objects.filter(client=client, order_id__in=ids)
    }
    fresh = [
        Order(
            client=client,
            tenant_id=client.tenant_id,
            **first[order_id].model_fields_for_db(),
        )
        for order_id in sorted(first)
        if order_id not in stored
    ]
    by_id: dict[str, IntakeResult] = {}
    if fresh:
        scores = orders_decide(
            fresh, policy, explain=lambda d: explain_all or d != Score.Decision.APPROVE
        )
        cold_start_decide(scores, policy)
        with transaction.atomic():
            Order.objects.bulk_create(fresh)
            orders_record(fresh, [s.features for s in scores])
            scores_save(scores)
            cases = cases_open(openings_for_review(scores, policy))
        for score in scores:
            case = cases.get(score.order.pk)
            by_id[score.order.order_id] = IntakeResult(
                score.order, score, case, created=True
            )
    for order_id, result in _stored_results(stored).items():
        by_id[order_id] = result
    seen: set[str] = set()
    results = []
    for order_id in ids:
        result = by_id[order_id]
        results.append(replace(result, created=False) if order_id in seen else result)
        seen.add(order_id)
    return results


def _stored_results(stored: dict[str, Order]) -> dict[str, IntakeResult]:
    if not stored:
        return {}
    latest = {
        s.order_id: s
        for s in Score.objects.filter(order__in=stored.values()).latest_per_order()
    }
    cases = {c.order_id: c for c in Case.objects.filter(order__in=stored.values())}
    return {
        order_id: IntakeResult(
            order, latest.get(order.pk), cases.get(order.pk), created=False
        )
        for order_id, order in stored.items()
    }
