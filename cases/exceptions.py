"""Domain errors. The API's exception handler maps each to one status code."""

from rest_framework import status
from rest_framework.exceptions import APIException


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "payload_too_large"


class IdempotencyKeyInUse(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed."
    default_code = "idempotency_in_flight"


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used with a different request body."
    default_code = "idempotency_mismatch"


class OrderNotFound(APIException):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "No such order for this client."
    default_code = "not_found"


class CaseNotAvailable(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This case is not available to you."
    default_code = "case_not_available"


class LeaseLost(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Your claim on this case is no longer valid."
    default_code = "lease_lost"


class InvalidTransition(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This case cannot change that way."
    default_code = "invalid_transition"
