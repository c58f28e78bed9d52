"""Security headers and log redaction."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

# No inline scripts or styles anywhere in the app's own pages.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# The API docs page (Redoc) styles itself inline and builds a search worker from
# a blob; it still loads nothing from elsewhere (its "by Redocly" logo, hard-coded
# to a CDN, is refused here and hides itself).
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "font-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DOCS_PREFIX = "/api/v1/docs/"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Pages and API answers carry orders' personal data: no cache keeps
        # them (static files are answered before this, by WhiteNoise).
        response.setdefault("Cache-Control", "no-store")
        policy = DOCS_CSP if request.path.startswith(DOCS_PREFIX) else CSP
        response.setdefault("Content-Security-Policy", policy)
        response.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response


class ChunkedBodyRefusedMiddleware:
    """A chunked request body reaches Django as an empty one (WSGI gives it no
    length): refuse it with 411 rather than answer as if nothing were sent.
    Behind the proxy (docker-compose.yml) nginx de-chunks bodies itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        encoding = request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if "chunked" in encoding and not request.META.get("CONTENT_LENGTH"):
            return JsonResponse(
                {
                    "message": "Send the body with a Content-Length (no chunked "
                    "transfer encoding).",
                    "extra": {"code": "length_required"},
                },
                status=411,
            )
        return self.get_response(request)


_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)")
_IPV4 = re.compile(r"\b(\d{1,3}\.\d{1,3})\.\d{1,3}\.\d{1,3}\b")
_IPV6 = re.compile(r"\b([0-9a-fA-F]{1,4}:[0-9a-fA-F]{1,4}):[0-9a-fA-F:]{2,}\b")


def redact(text: str) -> str:
    """Mask emails (a***@domain) and IPs (first half kept) in a log line."""
    text = _EMAIL.sub(r"\1***@\2", text)
    text = _IPV4.sub(r"\1.x.x", text)
    return _IPV6.sub(r"\1:…", text)


class RedactPIIFilter(logging.Filter):
    """Reviewers see emails and IPs; logs never do."""

    def filter(self, record: logging.LogRecord) -> bool:
        if settings.LOG_REDACT_PII:
            record.msg = redact(record.getMessage())
            record.args = ()
        return True
