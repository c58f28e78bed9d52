"""Domain errors to HTTP, in one place: the DRF handler answers
{"message": ..., "extra": {...}}; the workbench re-renders its page with a
message and the same status."""

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from pydantic import ValidationError as PydanticValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from cases.exceptions import (
    CaseNotAvailable,
    DomainError,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidTransition,
    LeaseLost,
    OrderNotFound,
    PayloadTooLarge,
)

# Each domain error's HTTP status and machine-readable code.
ERROR_STATUS: dict[type[DomainError], tuple[int, str]] = {
    PayloadTooLarge: (413, "payload_too_large"),
    IdempotencyKeyInUse: (409, "idempotency_in_flight"),
    IdempotencyKeyReused: (422, "idempotency_mismatch"),
    OrderNotFound: (404, "not_found"),
    CaseNotAvailable: (409, "case_not_available"),
    LeaseLost: (409, "lease_lost"),
    InvalidTransition: (409, "invalid_transition"),
}


def error_status(exc: DomainError) -> tuple[int, str]:
    """(status, code) of a domain error; an unmapped one is a 409 conflict."""
    for kind in type(exc).__mro__:
        if kind in ERROR_STATUS:
            return ERROR_STATUS[kind]
    return 409, "conflict"


def error_message(exc: Exception) -> str:
    """What the workbench shows for a refused request."""
    if isinstance(exc, DjangoValidationError):
        return "; ".join(exc.messages)
    return str(exc)


def web_error_status(exc: Exception) -> int:
    """The workbench's status for a refused request: 400 for invalid input,
    the domain error's status otherwise."""
    if isinstance(exc, DomainError):
        return error_status(exc)[0]
    return 400


def pydantic_fields(error: PydanticValidationError) -> dict[str, list[str]]:
    """{"orders.3.amount": ["Input should be greater than or equal to 0"]}."""
    fields: dict[str, list[str]] = {}
    for item in error.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in item["loc"]) or "non_field_errors"
        message = item["msg"].removeprefix("Value error, ")
        fields.setdefault(path, []).append(message)
    return fields


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        exc = _api_exception(exc)
    elif isinstance(exc, PydanticValidationError):
        exc = exceptions.ValidationError({"fields": pydantic_fields(exc)})
    elif isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict
            if hasattr(exc, "error_dict")
            else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError({"fields": detail})
    elif isinstance(exc, RequestDataTooBig):
        exc = _api_exception(PayloadTooLarge())
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors: dict[str, Any] = (
            exc.detail
            if isinstance(exc.detail, dict)
            else {"non_field_errors": exc.detail}
        )
        extra = errors if "fields" in errors else {"fields": errors}
        response.data = {"message": "Validation error", "extra": extra}
    else:
        response.data = {"message": _message(exc), "extra": {"code": _code(exc)}}
    return response


def _api_exception(exc: DomainError) -> exceptions.APIException:
    status, code = error_status(exc)
    api = exceptions.APIException(str(exc), code)
    api.status_code = status
    return api


def _message(exc: Exception) -> str:
    detail = getattr(exc, "detail", None)
    return str(detail) if detail is not None else str(exc)


def _code(exc: Exception) -> str:
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    return codes if isinstance(codes, str) else "error"
