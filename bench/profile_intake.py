"""Where the milliseconds of one single-order intake go, measured in-process.

    python -m bench.profile_intake --token TOKEN --bodies FILE [--requests 200]
        [--batch-bodies FILE]

Run by bench.intake after the HTTP phases, with the same environment (database
riskreview_bench, its model directory, DJANGO_SETTINGS_MODULE=bench.settings).
Requests go through Django's full handler (middleware, DRF, authentication,
parser) with django.test.Client; no HTTP server, no concurrency.

Passes over different orders:

1. timers: perf_counter around the functions an intake request calls, and
   around every SQL statement (classified by table), so the split has almost no
   overhead. Times are inclusive; indentation shows what contains what.
2. the same timers over batch requests of 1,000 orders (with --batch-bodies).
3. cProfile of more single-order requests, saved to bench/out/ for a closer
   look (python -m pstats, snakeviz); its top functions are printed too.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import pstats
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

WARMUP = 30
OUT_DIR = Path(__file__).resolve().parent / "out"

# (label, depth) in display order; the functions behind them are in _instrument().
# Times are inclusive. A step the current code no longer has is left out.
ROWS = [
    ("request (Django test client, total)", 0),
    ("auth: token look-up", 1),
    ("JSON parse", 1),
    ("payload validation", 1),
    ("orders_ingest", 1),
    ("SQL: already-stored check", 2),
    ("orders_score", 2),
    ("features_online", 3),
    ("tiles_read (one SELECT)", 4),
    ("features_from_tiles", 4),
    ("history query (SQL + Django row decode)", 4),
    ("SQL: history query (execute)", 5),
    ("_history_frame (history query + frame)", 4),
    ("orders_frame", 4),
    ("label query (SQL + rows)", 4),
    ("SQL: label query (execute)", 5),
    ("_labels_frame (label query + frame)", 4),
    ("labels_frame", 4),
    ("build_features", 4),
    ("active_model", 3),
    ("predict_proba", 3),
    ("feature dicts for Score.features", 3),
    ("SHAP explanations_compute", 3),
    ("bulk_create ×N (INSERT SQL inside)", 2),
    ("SQL: INSERTs", 3),
    ("orders_record (tile upsert)", 2),
    ("cases_open", 2),
    ("COMMIT", 2),
    ("response: order_result_output + render", 1),
]
ALWAYS = {
    label for label, _ in ROWS if label.startswith(("SQL:", "request", "history"))
}


PATCHED: set[str] = set()


def orders_needed(requests: int) -> int:
    """Orders bench.intake must generate for a run of `requests`."""
    return WARMUP + 2 * requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_intake")
    parser.add_argument("--token", required=True)
    parser.add_argument("--bodies", required=True, type=Path)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--batch-bodies",
        type=Path,
        help="batch bodies, one per line; the first one warms up",
    )
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.test import Client

    bodies = args.bodies.read_bytes().splitlines()
    if len(bodies) < orders_needed(args.requests):
        raise SystemExit(f"need {orders_needed(args.requests)} bodies")
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {args.token}")

    def post(body: bytes, path: str = "/api/v1/orders/", expect: int = 201) -> None:
        response = client.post(path, body, content_type="application/json")
        if response.status_code != expect:
            raise SystemExit(
                f"{path} answered {response.status_code}: {response.content[:500]!r}"
            )

    for body in bodies[:WARMUP]:
        post(body)
    timed = bodies[WARMUP : WARMUP + args.requests]
    profiled = bodies[WARMUP + args.requests : WARMUP + 2 * args.requests]

    spent, counts, rows = _instrument()
    totals = []
    for body in timed:
        started = time.perf_counter_ns()
        post(body)
        totals.append(time.perf_counter_ns() - started)
    spent["request (Django test client, total)"] = sum(totals)
    print(_timer_table(spent, counts, rows, totals, len(timed), "intake profile"))

    if args.batch_bodies:
        batches = args.batch_bodies.read_bytes().splitlines()
        post(batches[0], "/api/v1/orders/batch/", 200)
        for table in (spent, counts, rows):
            table.clear()
        totals = []
        for body in batches[1:]:
            started = time.perf_counter_ns()
            post(body, "/api/v1/orders/batch/", 200)
            totals.append(time.perf_counter_ns() - started)
        spent["request (Django test client, total)"] = sum(totals)
        title = "batch profile (1,000 orders a request, times per request)"
        print(_timer_table(spent, counts, rows, totals, len(totals), title))

    profiler = cProfile.Profile()
    profiler.enable()
    for body in profiled:
        post(body)
    profiler.disable()
    OUT_DIR.mkdir(exist_ok=True)
    dump = OUT_DIR / "intake-profile.pstats"
    profiler.dump_stats(dump)
    print(_cprofile_top(profiler, len(profiled), dump))
    return 0


def _instrument() -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Wrap the intake path's functions and SQL with timers (bench process only)."""
    from django.db import connection
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.query import QuerySet, ValuesListIterable
    from rest_framework.renderers import JSONRenderer

    import cases.apis
    import cases.authentication
    import cases.datasets
    import cases.parsers
    import cases.services.intake
    import cases.services.scoring
    import models_ml.feature_state
    import models_ml.scoring
    import models_ml.services

    spent: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    rows: dict[str, int] = defaultdict(int)
    missing: list[str] = []

    def timer(label: str, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter_ns()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter_ns() - started
                counts[label] += 1

        return wrapper

    def patch(owner: Any, name: str, label: str) -> None:
        # The intake code moves on; a step that no longer exists shows as absent.
        if not hasattr(owner, name):
            missing.append(f"{getattr(owner, '__name__', owner)}.{name}")
            return
        setattr(owner, name, timer(label, getattr(owner, name)))
        PATCHED.add(label)

    patch(
        cases.authentication.ApiTokenAuthentication,
        "authenticate",
        "auth: token look-up",
    )
    patch(cases.parsers.StrictJSONParser, "parse", "JSON parse")
    for schema in (cases.apis.OrderIn, cases.apis.OrderBatchIn):
        validate = schema.model_validate.__func__
        schema.model_validate = classmethod(timer("payload validation", validate))
    PATCHED.add("payload validation")
    patch(cases.apis, "orders_ingest", "orders_ingest")
    patch(cases.apis, "order_result_output", "response: order_result_output + render")
    patch(JSONRenderer, "render", "response: order_result_output + render")
    patch(cases.services.intake, "orders_score", "orders_score")
    patch(cases.services.intake, "cases_open", "cases_open")
    patch(cases.services.scoring, "features_online", "features_online")
    patch(models_ml.feature_state, "tiles_read", "tiles_read (one SELECT)")
    patch(models_ml.feature_state, "features_from_tiles", "features_from_tiles")
    patch(cases.services.intake, "orders_record", "orders_record (tile upsert)")
    patch(models_ml.services, "active_model", "active_model")
    patch(models_ml.services, "explanations_compute", "SHAP explanations_compute")
    for name in ("_feature_dicts", "_feature_dict"):
        if hasattr(models_ml.services, name):
            patch(models_ml.services, name, "feature dicts for Score.features")
    patch(models_ml.scoring.LoadedModel, "predict", "predict_proba")
    patch(cases.datasets, "orders_frame", "orders_frame")
    optional = {
        "labels_frame": "labels_frame",
        "_fraud_flags": "label query (SQL + rows)",
        "_history_frame": "_history_frame (history query + frame)",
        "_labels_frame": "_labels_frame (label query + frame)",
    }
    for name, label in optional.items():
        if hasattr(cases.datasets, name):
            patch(cases.datasets, name, label)
    patch(cases.datasets, "build_features", "build_features")
    patch(QuerySet, "bulk_create", "bulk_create ×N (INSERT SQL inside)")
    patch(BaseDatabaseWrapper, "commit", "COMMIT")

    # Rows of the history query (values_list over cases_order, from datasets.py).
    iterate = ValuesListIterable.__iter__

    def values_list_iter(self: Any) -> Any:
        model = self.queryset.model._meta.label
        started = time.perf_counter_ns()
        result = list(iterate(self))
        if model == "cases.Order" and _in_online_features():
            spent["history query (SQL + Django row decode)"] += (
                time.perf_counter_ns() - started
            )
            rows["history"] += len(result)
        return iter(result)

    ValuesListIterable.__iter__ = values_list_iter

    def sql_timer(  # Django's execute-wrapper signature
        execute: Callable,
        sql: str,
        params: Any,
        many: bool,  # noqa: FBT001
        context: Any,
    ) -> Any:
        label = _sql_label(sql)
        started = time.perf_counter_ns()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[label] += time.perf_counter_ns() - started
            counts[label] += 1

    connection.execute_wrappers.append(sql_timer)
    if missing:
        print(f"Not timed (no longer in the code): {', '.join(missing)}\n")
    return spent, counts, rows


def _in_online_features() -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "features_online":
            return True
        frame = frame.f_back
    return False


def _sql_label(sql: str) -> str:
    head = sql.lstrip().split(None, 1)[0].upper()
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"', sql)
    name = table.group(1) if table else "?"
    if head == "INSERT":
        return "SQL: INSERTs"
    if name == "cases_order" and head == "SELECT":
        if '"created_at" >=' in sql:
            return "SQL: history query (execute)"
        return "SQL: already-stored check"
    if name == "cases_label":
        return "SQL: label query (execute)"
    return f"SQL: other ({head} {name})"


def _timer_table(
    spent: dict[str, int],
    counts: dict[str, int],
    rows: dict[str, int],
    totals: list[int],
    n: int,
    title: str,
) -> str:
    total = spent["request (Django test client, total)"]
    ordered = sorted(totals)
    lines = [
        f"In-process {title}: {n} requests, mean "
        f"{total / n / 1e6:.2f} ms, p50 {ordered[n // 2] / 1e6:.2f} ms, "
        f"p99 {ordered[min(n - 1, int(n * 0.99))] / 1e6:.2f} ms; the history query "
        f"returned {rows['history'] / n:.0f} rows a request on average.",
        "",
        "| step (inclusive; indented = inside the line above) | ms / request | share |",
        "|---|---:|---:|",
    ]
    shown = {label for label, _ in ROWS}
    for label, depth in ROWS:
        if label not in ALWAYS and (label not in PATCHED or not spent.get(label)):
            continue
        ms = spent.get(label, 0) / n / 1e6
        indent = "&nbsp;&nbsp;" * depth * 2
        lines.append(f"| {indent}{label} | {ms:.2f} | {ms * 1e6 * n / total:.0%} |")
    for label in sorted(set(spent) - shown):
        ms = spent[label] / n / 1e6
        per = counts[label] / n
        lines.append(
            f"| {label} ({per:.2f}×/request) | {ms:.2f} | {ms * 1e6 * n / total:.0%} |"
        )
    return "\n".join(lines) + "\n"


def _cprofile_top(profiler: cProfile.Profile, n: int, dump: Path) -> str:
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.sort_stats("tottime").print_stats(25)
    text = buffer.getvalue()
    body = text[text.find("   ncalls") :] if "   ncalls" in text else text
    return (
        f"cProfile of {n} more requests (saved to {dump.name}; times include "
        f"cProfile overhead), top 25 by own time:\n\n```\n{body.rstrip()}\n```\n"
    )


if __name__ == "__main__":
    sys.exit(main())
