"""Idempotency-Key support for APIViews (see services/idempotency.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from cases.authentication import request_client
from cases.models import IdempotencyRecord
from cases.services.idempotency import (
    idempotency_begin,
    idempotency_complete,
    idempotency_forget,
    idempotency_release,
    request_fingerprint,
)

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255
KEY_PATTERN = "^[^\\u0000-\\u001f\\u007f]+$"  # no control characters


class _Replay(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


class IdempotentMixin:
    """Records the first response to a key and replays it byte for byte.

    A request that crashes forgets its key, so the client may retry it; the
    key is held only while this request runs (services/idempotency.py).
    """

    _idempotency: IdempotencyRecord | None = None
    _held_key: str | None = None

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        self._held_key = None
        try:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        finally:
            if self._held_key is not None:
                idempotency_release(self.request.auth, self._held_key)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self._idempotency = None
        key = request.META.get(HEADER)
        if not key:
            return
        _check_key(key)
        fingerprint = request_fingerprint(
            request.method or "", request.path, request.body
        )
        record, replay = idempotency_begin(request_client(request), key, fingerprint)
        if replay:
            raise _Replay(_replayed(record))
        self._idempotency, self._held_key = record, key

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, _Replay):
            return exc.response
        try:
            return super().handle_exception(exc)  # type: ignore[misc]
        except Exception:
            # Uncaught: Django answers 500 and nothing is replayed for it.
            if self._idempotency is not None:
                idempotency_forget(self._idempotency)
                self._idempotency = None
            raise

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        record = self._idempotency
        if record is not None:
            response.render()
            idempotency_complete(record, response.status_code, response.content)
        return response


def _check_key(key: str) -> None:
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError(
            {"Idempotency-Key": [f"At most {MAX_KEY_LENGTH} characters."]}
        )
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        raise ValidationError(
            {"Idempotency-Key": ["Must not contain control characters."]}
        )


def _replayed(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.body or b""),
        status=record.status_code,
        content_type="application/json",
    )
    response["Idempotent-Replayed"] = "true"
    return response
