"""Which database errors are worth running the same transaction again for."""

from __future__ import annotations

import random
import time

from django.db import OperationalError

# PostgreSQL's deadlock_detected and serialization_failure: the server rolled
# the transaction back so that another could finish; the same work can succeed
# when run again.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def is_retryable(exc: BaseException) -> bool:
    cause = exc.__cause__ if isinstance(exc, OperationalError) else None
    return getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES


def retry_pause(attempt: int) -> None:
    """A short random pause, so two colliding requests do not collide again."""
    time.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311
