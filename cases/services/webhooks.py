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
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cases.models import ApiClient, Order, WebhookDelivery, WebhookEndpoint
from cases.services.audit import audit_record

SIGNATURE_HEADER = "Riskreview-Signature"
ORDER_WAIT_SECONDS = 5.0
Poster = Callable[[str, bytes, dict[str, str]], int]


def webhook_endpoint_create(
    client: ApiClient, url: str, events: Iterable[str], *, actor: str
) -> tuple[WebhookEndpoint, str]:
    """Register a callback URL; return it with its signing secret (shown once)."""
    secret = "whsec_" + secrets.token_hex(24)
    endpoint = WebhookEndpoint.objects.create(
        client=client, url=url, events=sorted(set(events)), secret=secret
    )
    audit_record(actor, "webhook.created", endpoint, after={"url": url})
    return endpoint, secret


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


def webhook_endpoint_deactivate(endpoint: WebhookEndpoint, *, actor: str) -> None:
    """Stop sending to an endpoint (the API's DELETE). The row stays, so its
    delivery history and the audit trail keep pointing at something."""
    endpoint.active = False
    endpoint.save(update_fields=["active"])
    audit_record(
        actor,
        "webhook.deleted",
        endpoint,
        before={"active": True},
        after={"active": False},
    )


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
    if ids:
        transaction.on_commit(lambda: _enqueue(ids))
    return ids


def _enqueue(ids: list[int]) -> None:
    from cases.tasks import webhook_deliver

    for delivery_id in ids:
        webhook_deliver.delay(delivery_id)


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full ±50 % jitter, capped."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
    return min(base, settings.WEBHOOK_RETRY_MAX_SECONDS) * random.uniform(0.5, 1.5)  # noqa: S311


def webhook_attempt(delivery_id: int, post: Poster | None = None) -> float | None:
    """Try to send one delivery. Returns seconds until the next try, or None when
    it needs no more tries (delivered, dead, or not pending)."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return None
        earlier = WebhookDelivery.objects.filter(
            endpoint=delivery.endpoint,
            order_id=delivery.order_id,
            id__lt=delivery.pk,
            status=WebhookDelivery.Status.PENDING,
        )
        if earlier.exists():
            return ORDER_WAIT_SECONDS  # keep each order's events in order
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
    except (OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
    return _record_attempt(delivery, error)


def _record_attempt(delivery: WebhookDelivery, error: str) -> float | None:
    delivery.attempts += 1
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
    delivery.save(
        update_fields=[
            "attempts",
            "last_error",
            "status",
            "delivered_at",
            "next_attempt_at",
        ]
    )
    return delay


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(
            request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
        ) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def webhook_replay(delivery: WebhookDelivery, *, actor: str) -> None:
    """Send a dead letter again from scratch."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
    )
    audit_record(actor, "webhook.replayed", delivery)
    transaction.on_commit(lambda: _enqueue([delivery.pk]))


def webhook_deliveries_due() -> list[int]:
    """Pending deliveries whose next try is due (a safety net for lost retries)."""
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now()
        ).values_list("id", flat=True)[:1000]
    )
