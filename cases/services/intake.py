"""Order intake: validate → features → score → explain → case, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from django.db import IntegrityError, OperationalError, transaction

from cases.models import ApiClient, AuditEvent, Case, Order
from cases.schemas import OrderIn
from cases.services.audit import audit_event
from cases.services.db_retry import is_retryable, retry_pause
from cases.services.scoring import orders_score
from models_ml.feature_state import orders_record
from models_ml.models import Score
from models_ml.services import scores_save

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class IntakeResult:
    order: Order
    score: Score | None
    case: Case | None
    created: bool


def orders_ingest(
    client: ApiClient, payloads: Sequence[OrderIn], *, explain_all: bool
) -> list[IntakeResult]:
    """Store, score and queue new orders; return the stored result for repeats.

    Idempotent per (client, order_id): an order sent again is not stored,
    scored or queued again. Orders that become cases are always explained
    (SHAP); others only when `explain_all`, since SHAP costs more than scoring.

    Rows are inserted in order_id order, so two batches that share orders wait
    for each other instead of deadlocking; a deadlock or serialisation failure
    that happens anyway (other tables, other writers) is retried.
    """
    for attempt in range(MAX_ATTEMPTS):
        try:
            return _ingest_once(client, payloads, explain_all=explain_all)
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
    client: ApiClient, payloads: Sequence[OrderIn], *, explain_all: bool
) -> list[IntakeResult]:
    ids = [p.order_id for p in payloads]
    first: dict[str, OrderIn] = {}
    for payload in payloads:
        first.setdefault(payload.order_id, payload)  # a repeat in a batch is a resend
    stored = {
        o.order_id: o for o in Order.objects.filter(client=client, order_id__in=ids)
    }
    fresh = [
        Order(client=client, **first[order_id].model_fields_for_db())
        for order_id in sorted(first)
        if order_id not in stored
    ]
    by_id: dict[str, IntakeResult] = {}
    if fresh:
        scores = orders_score(
            fresh, explain=lambda d: explain_all or d != Score.Decision.APPROVE
        )
        with transaction.atomic():
            Order.objects.bulk_create(fresh)
            orders_record(fresh, [s.features for s in scores])
            scores_save(scores)
            cases = cases_open(scores)
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


def cases_open(scores: list[Score]) -> dict[int, Case]:
    cases = [
        Case(
            order=s.order,
            probability=s.probability,
            top_reason=case_top_reason(s),
            priority=case_priority(s.probability, float(s.order.amount)),
            queue_reason=(
                Case.QueueReason.HIGH_RISK
                if s.probability is not None
                else Case.QueueReason.NO_MODEL
            ),
        )
        for s in scores
        if s.decision == Score.Decision.REVIEW
    ]
    Case.objects.bulk_create(cases)
    AuditEvent.objects.bulk_create(
        audit_event("system", "case.opened", c, {"reason": c.queue_reason})
        for c in cases
    )
    return {c.order.pk: c for c in cases}


def case_top_reason(score: Score) -> str:
    """The strongest reason pushing towards fraud, for the queue's column."""
    for reason in score.contributions or []:
        if reason["contribution"] > 0:
            return reason["text"][:200]
    return ""


def case_priority(probability: float | None, amount: float) -> float:
    """Expected loss if the order is fraud: probability × amount."""
    return round((1.0 if probability is None else probability) * amount, 4)


def _stored_results(stored: dict[str, Order]) -> dict[str, IntakeResult]:
    if not stored:
        return {}
    latest: dict[int, Score] = {}
    for score in Score.objects.filter(order__in=stored.values()).order_by(
        "order", "-id"
    ):
        latest.setdefault(score.order_id, score)
    cases = {c.order_id: c for c in Case.objects.filter(order__in=stored.values())}
    return {
        order_id: IntakeResult(
            order, latest.get(order.pk), cases.get(order.pk), created=False
        )
        for order_id, order in stored.items()
    }
