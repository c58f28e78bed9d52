"""Idempotency-Key handling with the semantics Stripe documents.

The first request with a key is recorded in flight; when it finishes, its
status and exact body are stored. A repeat with the same body gets those bytes
back; with a different body, 422; while the first is still running, 409.
A request that ended in a 5xx is forgotten, so the client may retry it.

"Still running" is the request's own lifetime: on PostgreSQL the request holds
a session advisory lock on its key until it ends (`idempotency_release`), and
the server drops the lock the moment the process dies, so a retry after a
crash (a killed worker) is processed at once. Elsewhere an in-flight record
counts as crashed after STALE_AFTER.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cases.exceptions import IdempotencyKeyInUse, IdempotencyKeyReused
from cases.models import ApiClient, IdempotencyRecord

# An in-flight record older than this belongs to a crashed request.
STALE_AFTER = timedelta(minutes=5)


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(
        b"\n".join([method.encode(), path.encode(), body])
    ).hexdigest()


def idempotency_begin(
    client: ApiClient, key: str, fingerprint: str
) -> tuple[IdempotencyRecord, bool]:
    """Return (record, is_replay). Raises 409 / 422 as documented above.

    On PostgreSQL a non-replay return holds the key's lock: the caller must
    call `idempotency_release(client, key)` when the request ends.
    """
    if connection.vendor != "postgresql":
        return _begin_by_age(client, key, fingerprint)
    record = _known(client, key, fingerprint)
    if record is not None and record.completed_at is not None:
        return record, True
    if not _lock(client, key, "pg_try_advisory_lock"):
        raise IdempotencyKeyInUse()
    try:
        record = _known(client, key, fingerprint)
        if record is None:
            record = IdempotencyRecord.objects.create(
                client=client, key=key, fingerprint=fingerprint
            )
            return record, False
        if record.completed_at is not None:
            idempotency_release(client, key)
            return record, True
        # In flight, yet nobody holds its lock: its request died. Take it over.
        return record, False
    except BaseException:
        idempotency_release(client, key)
        raise


def idempotency_release(client: ApiClient, key: str) -> None:
    if connection.vendor == "postgresql":
        _lock(client, key, "pg_advisory_unlock")


def _lock(client: ApiClient, key: str, function: str) -> bool:
    digest = hashlib.sha256(f"idempotency:{client.pk}:{key}".encode()).digest()
    lock_id = int.from_bytes(digest[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [lock_id])
        return bool(cursor.fetchone()[0])


def _known(client: ApiClient, key: str, fingerprint: str) -> IdempotencyRecord | None:
    record = IdempotencyRecord.objects.filter(client=client, key=key).first()
    if record is not None and record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return record


def _begin_by_age(
    client: ApiClient, key: str, fingerprint: str
) -> tuple[IdempotencyRecord, bool]:
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                client=client, key=key, fingerprint=fingerprint
            )
            return record, False
    except IntegrityError:
        pass
    existing = IdempotencyRecord.objects.filter(client=client, key=key).first()
    if existing is None:
        # The first request crashed and forgot the key just now: retry.
        raise IdempotencyKeyInUse()
    record = existing
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if record.completed_at is not None:
        return record, True
    if timezone.now() - record.created_at < STALE_AFTER:
        raise IdempotencyKeyInUse()
    taken = IdempotencyRecord.objects.filter(
        pk=record.pk, completed_at__isnull=True, created_at=record.created_at
    ).update(created_at=timezone.now())
    if not taken:
        raise IdempotencyKeyInUse()
    return record, False


def idempotency_complete(record: IdempotencyRecord, status: int, body: bytes) -> None:
    if status >= 500:
        idempotency_forget(record)
        return
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status_code=status, body=body, completed_at=timezone.now()
    )


def idempotency_forget(record: IdempotencyRecord) -> None:
    """Drop a key whose request failed on our side, so a retry is processed."""
    IdempotencyRecord.objects.filter(pk=record.pk).delete()
