"""One error shape at the API edge: {"message": ..., "extra": {...}}."""

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from pydantic import ValidationError as PydanticValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from cases.exceptions import PayloadTooLarge


def pydantic_fields(error: PydanticValidationError) -> dict[str, list[str]]:
    """{"orders.3.amount": ["Input should be greater than or equal to 0"]}."""
    fields: dict[str, list[str]] = {}
    for item in error.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in item["loc"]) or "non_field_errors"
        message = item["msg"].removeprefix("Value error, ")
        fields.setdefault(path, []).append(message)
    return fields


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, PydanticValidationError):
        exc = exceptions.ValidationError({"fields": pydantic_fields(exc)})
    elif isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict
            if hasattr(exc, "error_dict")
            else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError({"fields": detail})
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
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


def _message(exc: Exception) -> str:
    detail = getattr(exc, "detail", None)
    return str(detail) if detail is not None else str(exc)


def _code(exc: Exception) -> str:
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    return codes if isinstance(codes, str) else "error"
