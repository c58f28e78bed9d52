"""One training at a time, across processes and machines.

PostgreSQL: a session advisory lock. Elsewhere (the embedded SQLite default):
an flock on a file beside the models. Both are released by the OS or the
server when the holder dies, so a killed worker never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator

from django.conf import settings
from django.db import connection

_LOCK_KEY = 0x7269736B  # "risk"


class TrainingInProgress(Exception):
    """Another process is training right now."""


@contextlib.contextmanager
def training_lock() -> Iterator[None]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_KEY])
            if not cursor.fetchone()[0]:
                raise TrainingInProgress("a training is already running")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
        return
    settings.MODEL_DIR.mkdir(parents=True, exist_ok=True)
    with open(settings.MODEL_DIR / ".training.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TrainingInProgress("a training is already running") from None
        yield
