"""Shared set-up for the benchmarks: a throwaway PostgreSQL database, Django on it."""

from __future__ import annotations

import csv
import io
import json
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


def _csv(value: object) -> object:
    if isinstance(value, dict):
        return json.dumps(value)
    return "" if value is None else value


def orders_copy(rows: list[dict], client_id: int, *, label_days: int | None) -> None:
    """Store generated orders (``lab.demo_data`` rows) with COPY; with
    `label_days`, each gets its true label, known that many days after it.
    Bypasses the feature tiles: rebuild them afterwards."""
    from django.db import connection

    from cases.models import ApiClient
    from cases.schemas import OrderIn

    tenant_id = ApiClient.objects.values_list("tenant_id", flat=True).get(pk=client_id)
    columns = ["client_id", "tenant_id", "received_at", *OrderIn.model_fields]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for r in rows:
        writer.writerow(
            [
                client_id,
                tenant_id,
                r["created_at"],
                *(_csv(r[f]) for f in OrderIn.model_fields),
            ]
        )
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY cases_order ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
        ) as copy:
            copy.write(buffer.getvalue())
        if label_days is None:
            return
        cursor.execute(
            """
            INSERT INTO cases_label (order_id, value, source, reasons, note, known_at,
                created_at)
            SELECT o.id, CASE WHEN t.fraud THEN 'fraud' ELSE 'legitimate' END,
                CASE WHEN t.fraud THEN 'chargeback' ELSE 'merchant' END, '[]', '',
                o.created_at + make_interval(days => %s), now()
            FROM cases_order o JOIN unnest(%s::text[], %s::bool[]) AS t(order_id, fraud)
                ON t.order_id = o.order_id
            """,
            [label_days, [r["order_id"] for r in rows], [r["is_fraud"] for r in rows]],
        )
