"""Idempotency-Key support for APIViews (see services/idempotency.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response

from cases.services.idempotency import (
    idempotency_begin,
    idempotency_complete,
    request_fingerprint,
)

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255


class _Replay(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


class IdempotentMixin:
    """Records the first response to a key and replays it byte for byte."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        key = request.META.get(HEADER)
        self._idempotency = None
        if not key:
            return
        if len(key) > MAX_KEY_LENGTH:
            from rest_framework.exceptions import ValidationError

            raise ValidationError(
                {"Idempotency-Key": [f"At most {MAX_KEY_LENGTH} characters."]}
            )
        body = request.body if hasattr(request, "body") else b""
        fingerprint = request_fingerprint(request.method, request.path, body)
        record, replay = idempotency_begin(request.auth, key, fingerprint)
        if replay:
            self._replay = record
        else:
            self._idempotency = record

    def handle_replay(self) -> HttpResponse | None:
        record = self._replay
        if record is None:
            return None
        response = HttpResponse(
            bytes(record.body),
            status=record.status_code,
            content_type="application/json",
        )
        response["Idempotent-Replayed"] = "true"
        return response

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        record = getattr(self, "_idempotency", None)
        if record is not None:
            response.render()
            idempotency_complete(record, response.status_code, response.content)
        return response
