"""Domain errors: plain exceptions that services (and the request parser)
raise. They know nothing of HTTP; the edges map each to a status code in one
place, `cases/exception_handlers.py`. Rule violations in input are Django's
`ValidationError`, as everywhere else."""


class DomainError(Exception):
    """The request was understood and refused by a rule of the domain."""

    default_message = "The request was refused."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class PayloadTooLarge(DomainError):
    default_message = "Request body too large."


class IdempotencyKeyInUse(DomainError):
    default_message = "A request with this Idempotency-Key is still being processed."


class IdempotencyKeyReused(DomainError):
    default_message = "This Idempotency-Key was used with a different request body."


class OrderNotFound(DomainError):
    default_message = "No such order for this client."


class CaseNotAvailable(DomainError):
    default_message = "This case is not available to you."


class LeaseLost(DomainError):
    default_message = "Your claim on this case is no longer valid."


class InvalidTransition(DomainError):
    default_message = "This case cannot change that way."
