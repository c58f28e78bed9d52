"""Sign-in throttling (django-axes, settings "Sign-in") and its audit trail.

Every login form goes through `authenticate()`, the admin's included, so one
throttle covers them all. It counts failures per (normalised username, client
IP): someone who guesses a reviewer's password from one address is stopped
there, and cannot lock the reviewer out from anywhere else. Failures are kept
as one counter row per username and address (axes' AccessAttempt), which
expires after the cool-off; the audit trail gets one row per lockout and one
per successful sign-in, never one per failed password.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cases.models import AuditEvent

USERNAME_MAX = 150


def login_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The username as Django authenticates it (NFKC, stripped), case-folded,
    so " lead2", "lead2\\t" and "ｌｅａｄ２" share one counter."""
    raw = (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = request.POST.get("username", "")
    text = unicodedata.normalize("NFKC", str(raw or "")).strip().casefold()
    return text[:USERNAME_MAX]


def login_client_ip(request: HttpRequest) -> str:
    """The client's address; behind our proxy (TRUST_X_FORWARDED_FOR) the one
    nginx wrote into X-Forwarded-For, never a value the client sent."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.rsplit(",", 1)[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def login_locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    minutes = settings.LOGIN_THROTTLE_MINUTES
    response = render(
        request, "registration/locked_out.html", {"minutes": minutes}, status=429
    )
    response["Retry-After"] = str(settings.LOGIN_THROTTLE_MINUTES * 60)
    return response


def login_succeeded_audit(
    sender: object, request: HttpRequest, user: Any, **kw: Any
) -> None:
    AuditEvent.objects.create(
        actor=f"user:{user.get_username()[:140]}",
        action="login.succeeded",
        object_type="user",
        object_id=str(user.pk),
        after={"ip": login_client_ip(request) if request is not None else ""},
    )


def login_locked_out_audit(
    sender: object, request: HttpRequest, username: str, ip_address: str, **kw: Any
) -> None:
    AuditEvent.objects.create(
        actor=f"user:{(username or '')[:140]}",
        action="login.locked_out",
        object_type="user",
        object_id=(username or "")[:64],
        after={
            "ip": ip_address or "",
            "failures": settings.AXES_FAILURE_LIMIT,
            "minutes": settings.LOGIN_THROTTLE_MINUTES,
        },
    )
