"""Shared set-up for the benchmarks: a throwaway PostgreSQL database, Django on it."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"


def fresh_database(name: str, *, keep: bool = False) -> str:
    """Drop and create `name` (unless `keep` and it exists), migrate it, and point
    this process's Django at it."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not (keep and exists):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG}/{name}"
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="riskreview.settings",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-secret-key"),
        ALLOWED_HOSTS="testserver,localhost,127.0.0.1",
        CELERY_TASK_ALWAYS_EAGER="true",
        MODEL_REFRESH_SECONDS="3600",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=REPO,
        check=True,
    )
    import django

    django.setup()
    return url


def timed(fn: Callable[[], object], repeat: int, warmup: int = 2) -> list[float]:
    """Wall milliseconds of `repeat` calls, after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def percentiles(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]

    return {
        "p50": round(statistics.median(ordered), 1),
        "p95": round(pick(0.95), 1),
        "max": round(ordered[-1], 1),
        "n": len(ordered),
    }


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
