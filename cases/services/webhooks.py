"""Decision webhooks: signed, retried with backoff, ordered per order, at least once.

Each event is a WebhookDelivery row written in the same transaction as the
decision it reports, and sent by a Celery task after commit. The receiver
verifies `Riskreview-Signature: t=<unix time>,v1=<hex>[,v1=<hex>]`, an
HMAC-SHA256 over "<t>.<body>" with its secret (two v1 values while a secret is
being rotated), and de-duplicates by the event id (also sent as
`Idempotency-Key`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases.models import ApiClient, Order, WebhookDelivery, WebhookEndpoint
from cases.services.audit import audit_record
from cases.services.jobs import task_enqueue_after_commit
from cases.services.opening import rule_reasons
from cases.services.webhook_http import (
    WebhookUrlRefused,
    webhook_host_allowed,
    webhook_post,
    webhook_url_check,
)
from models_ml.models import Score

SIGNATURE_HEADER = "Riskreview-Signature"
ORDER_WAIT_SECONDS = 5.0
Poster = Callable[[str, bytes, dict[str, str]], int]
_DELIVER = "cases.tasks.webhook_deliver"


def webhook_endpoint_create(
    client: ApiClient, url: str, events: Iterable[str], *, actor: str
) -> tuple[WebhookEndpoint, str]:
    """Register a callback URL; return it with its signing secret (shown once).

    Raises ValidationError for a URL that resolves to a non-public address."""
    webhook_url_validate(url)
    secret = "whsec_" + secrets.token_hex(24)
    endpoint = WebhookEndpoint.objects.create(
        client=client, url=url, events=sorted(set(events)), secret=secret
    )
    audit_record(actor, "webhook.created", endpoint, after={"url": url})
    return endpoint, secret


def webhook_url_validate(url: str) -> None:
    """At save time: a well-formed URL whose host resolves to public addresses
    only (or is listed in WEBHOOK_ALLOWED_HOSTS). Checked again on every send."""
    try:
        host = urlsplit(url).hostname or ""
        if not webhook_host_allowed(host):
            webhook_url_check(url)
    except WebhookUrlRefused as exc:
        raise ValidationError({"url": [f"URL {exc}."]}) from None


def webhook_endpoint_deactivate(endpoint: WebhookEndpoint, *, actor: str) -> int:
    """Stop sending to `endpoint`; its pending deliveries are cancelled."""
    with transaction.atomic():
        endpoint.active = False
        endpoint.save(update_fields=["active"])
        cancelled = _deliveries_cancel(endpoint.pk)
        audit_record(
            actor, "webhook.deactivated", endpoint, after={"url": endpoint.url}
        )
    return cancelled


def _deliveries_cancel(endpoint_id: int) -> int:
    return WebhookDelivery.objects.filter(
        endpoint_id=endpoint_id, status=WebhookDelivery.Status.PENDING
    ).update(
        status=WebhookDelivery.Status.CANCELLED,
        last_error="endpoint deactivated",
        next_attempt_at=None,
    )


def webhook_secret_rotate(
    endpoint: WebhookEndpoint, *, actor: str, overlap: timedelta = timedelta(hours=24)
) -> str:
    """A new secret; the old one keeps signing too until `overlap` has passed."""
    new = "whsec_" + secrets.token_hex(24)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + overlap
    endpoint.secret = new
    endpoint.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at"]
    )
    audit_record(actor, "webhook.secret_rotated", endpoint)
    return new


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(endpoint: WebhookEndpoint, timestamp: int, body: bytes) -> str:
    parts = [f"t={timestamp}", f"v1={signature(endpoint.secret, timestamp, body)}"]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires and expires > timezone.now():
        parts.append(f"v1={signature(endpoint.previous_secret, timestamp, body)}")
    return ",".join(parts)


def signature_verify(
    header: str,
    body: bytes,
    secret: str,
    *,
    tolerance: int = 300,
    now: float | None = None,
) -> bool:
    """What a receiver does: right secret, body unchanged, timestamp recent."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [v for k, v in fields if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, v) for k, v in fields if k == "v1")


def webhook_events_emit(
    order: Order, event_type: str, data: dict[str, Any]
) -> list[int]:
    """Queue `event_type` for every endpoint of the order's client that wants it.

    Call inside the transaction that makes the change: the rows commit with it,
    and the sends are enqueued only after commit.
    """
    endpoints = WebhookEndpoint.objects.filter(client_id=order.client_id, active=True)
    deliveries = []
    for endpoint in endpoints:
        if event_type not in endpoint.events:
            continue
        event_id = uuid.uuid4()
        payload = {
            "id": str(event_id),
            "type": event_type,
            "created_at": timezone.now().isoformat(),
            "data": {"order_id": order.order_id, **data},
        }
        deliveries.append(
            WebhookDelivery(
                event_id=event_id,
                endpoint=endpoint,
                event_type=event_type,
                order=order,
                payload=payload,
                next_attempt_at=timezone.now(),
            )
        )
    WebhookDelivery.objects.bulk_create(deliveries)
    ids = [d.pk for d in deliveries]
    for delivery_id in ids:
        task_enqueue_after_commit(_DELIVER, delivery_id)
    return ids


def order_decision_changed_emit(score: Score, previous: str | None) -> None:
    """Queue `order.decision_changed` when a new score's decision differs
    from the order's previous one (None: the order had no score, nothing to
    report). Call inside the transaction that saves the score."""
    if previous is None or previous == score.decision:
        return
    webhook_events_emit(
        score.order,
        "order.decision_changed",
        {
            "previous_decision": previous,
            "decision": score.decision,
            "risk_score": score.probability,
            "model_version": score.model_version_id,
            "rule_reasons": rule_reasons(score),
        },
    )


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full ±50 % jitter, capped."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
    return min(base, settings.WEBHOOK_RETRY_MAX_SECONDS) * random.uniform(0.5, 1.5)  # noqa: S311


def webhook_attempt(delivery_id: int, post: Poster | None = None) -> float | None:
    """Try to send one delivery. Returns seconds until the next try, or None when
    it needs no more tries (delivered, dead, cancelled, or not pending).

    The attempt is counted before the request goes out, so a send that never
    returns (a worker killed at its time limit) still moves the delivery
    towards the dead-letter list instead of being retried forever.
    """
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return None
        if not delivery.endpoint.active:
            _deliveries_cancel(delivery.endpoint_id)
            return None
        earlier = WebhookDelivery.objects.filter(
            endpoint=delivery.endpoint,
            order_id=delivery.order_id,
            id__lt=delivery.pk,
            status=WebhookDelivery.Status.PENDING,
        )
        if earlier.exists():
            return ORDER_WAIT_SECONDS  # keep each order's events in order
        if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            return _record_attempt(delivery, delivery.last_error or "no answer")
        delivery.attempts += 1
        delivery.last_error = "no answer (the attempt did not finish)"
        delivery.next_attempt_at = timezone.now() + timedelta(
            seconds=backoff_seconds(delivery.attempts)
        )
        delivery.save(update_fields=["attempts", "last_error", "next_attempt_at"])
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": str(delivery.event_id),
        "Riskreview-Event-Id": str(delivery.event_id),
        "Riskreview-Event-Type": delivery.event_type,
        SIGNATURE_HEADER: signature_header(delivery.endpoint, int(time.time()), body),
    }
    error = ""
    try:
        status = (post or _post)(delivery.endpoint.url, body, headers)
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except Exception as exc:  # any failure, a time limit included, is a failed try
        error = f"{type(exc).__name__}: {exc}"[:1000]
    return _record_attempt(delivery, error)


def _record_attempt(delivery: WebhookDelivery, error: str) -> float | None:
    """Store the outcome of the attempt already counted in `delivery.attempts`."""
    delivery.last_error = error
    delay = None
    if not error:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = timezone.now()
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status = WebhookDelivery.Status.DEAD
    else:
        delay = backoff_seconds(delivery.attempts)
        delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)
    WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.PENDING
    ).update(
        last_error=delivery.last_error,
        status=delivery.status,
        delivered_at=delivery.delivered_at,
        next_attempt_at=delivery.next_attempt_at,
    )
    return delay


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    return webhook_post(
        url, body, headers, deadline_seconds=settings.WEBHOOK_TIMEOUT_SECONDS
    )


def webhook_replay(delivery: WebhookDelivery, *, actor: str) -> None:
    """Send a dead letter again from scratch."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
    )
    audit_record(actor, "webhook.replayed", delivery)
    task_enqueue_after_commit(_DELIVER, delivery.pk)


def webhook_deliveries_due() -> list[int]:
    """Pending deliveries whose next try is due (a safety net for lost retries)."""
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now()
        ).values_list("id", flat=True)[:1000]
    )
