"""Intake latency against the history of the order's busiest entity.

    .venv/bin/python -m bench.entity_history [--sizes 1000 10000 100000]
        [--requests 200] [--database riskreview_bench_history]

A throwaway PostgreSQL database gets ``seed_demo --orders 20000 --seed 7``
(30 days, 75 % labelled) and a model (``train_model``). Then, for each size N
in turn, one seller ("bench-hot-seller") is given N orders (in total) over the
25 days before the traffic starts, labelled 7 days after each order, stored
with COPY; the feature tiles are rebuilt from all stored orders and labels.

Each round then ingests, one order at a time, in process, with the service the
API calls (``orders_ingest``: features, score, SHAP for every order, case,
inserts, commit), ``--requests`` generated orders of that seller, alternating
with as many orders of sellers never seen before (the floor: the same work,
with no seller history at all). Both halves see the same customers, cards,
devices and history of everything else. The report gives p50 and p95 of each
and the ratio of p50 at the largest size to p50 at the smallest.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import timedelta

from bench.common import analyze, fresh_database, orders_copy, percentiles

SELLER = "bench-hot-seller"
SEED_ORDERS, SEED_DAYS = 20_000, 30
HISTORY_DAYS = 25
TARGET_RATIO = 1.2


def _seed() -> None:
    from django.core.management import call_command

    call_command("seed_demo", orders=SEED_ORDERS, seed=7, verbosity=0)
    call_command("train_model", verbosity=0)


def _client(name: str) -> object:
    """A client of the demo's tenant: its history, tiles and model."""
    from cases.services.bulk import import_client
    from tenants.services import tenant_find

    return import_client(name, tenant=tenant_find("demo"))


def _history_add(count: int, first: int, traffic_start: object) -> None:
    """`count` more orders of the hot seller (ids from `first`), then tiles."""
    from cases.services.feature_rebuild import feature_tiles_rebuild
    from lab.demo_data import generate_orders

    if count <= 0:
        return
    start = traffic_start - timedelta(days=HISTORY_DAYS)
    rows = generate_orders(count, seed=100 + first, start=start, days=HISTORY_DAYS)
    for i, row in enumerate(rows, first):
        row["order_id"] = f"hot-{i}"
        row["seller_id"] = SELLER
    orders_copy(rows, _client("bench-history").pk, label_days=7)
    feature_tiles_rebuild()
    analyze()


def _payloads(count: int, start: object, seed: int) -> tuple[list, list]:
    """(hot-seller orders, new-seller orders) from the same generated stream."""
    from cases.schemas import OrderIn
    from lab.demo_data import TRUTH_KEYS, generate_orders

    rows = generate_orders(2 * count, seed=seed, start=start, days=1)
    hot, cold = [], []
    for i, row in enumerate(rows):
        body = {k: v for k, v in row.items() if k not in TRUTH_KEYS}
        body["order_id"] = f"traffic-{seed}-{i}"
        body["seller_id"] = SELLER if i % 2 == 0 else f"new-seller-{seed}-{i}"
        (hot if i % 2 == 0 else cold).append(OrderIn.model_validate(body))
    return hot, cold


def _round(size: int, requests: int, start: object, seed: int) -> dict:
    from cases.services.intake import orders_ingest

    client = _client("bench-traffic")
    hot, cold = _payloads(requests + 5, start, seed)
    times: dict[str, list[float]] = {"hot": [], "new": []}
    for i, (h, c) in enumerate(zip(hot, cold, strict=True)):
        for name, payload in (("hot", h), ("new", c)):
            began = time.perf_counter()
            orders_ingest(client, [payload], explain_all=True)
            if i >= 5:  # the first few warm caches up
                times[name].append((time.perf_counter() - began) * 1000)
    return {
        "seller_orders": size,
        "hot": percentiles(times["hot"]),
        "new_seller_floor": percentiles(times["new"]),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.entity_history")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database", default="riskreview_bench_history")
    args = parser.parse_args()
    fresh_database(args.database)
    from lab.demo_data import DEFAULT_START

    _seed()
    traffic_start = DEFAULT_START + timedelta(days=SEED_DAYS)
    rounds, stored = [], 0
    for n, size in enumerate(sorted(args.sizes)):
        _history_add(size - stored, stored, traffic_start)
        stored = size
        # Each round's traffic comes an hour after the last: a fresh minute.
        start = traffic_start + timedelta(hours=2 * n)
        result = _round(size, args.requests, start, seed=50 + n)
        print(json.dumps(result), flush=True)
        rounds.append(result)
    ratio = rounds[-1]["hot"]["p50"] / rounds[0]["hot"]["p50"]
    print()
    print("| seller's orders in 30 days | p50 ms | p95 ms | new seller p50 ms |")
    print("|---:|---:|---:|---:|")
    for r in rounds:
        print(
            f"| {r['seller_orders']:,} | {r['hot']['p50']} | {r['hot']['p95']} "
            f"| {r['new_seller_floor']['p50']} |"
        )
    met = "met" if ratio <= TARGET_RATIO else "**missed**"
    print(f"\np50 at the largest / p50 at the smallest: {ratio:.2f} ({met})")


if __name__ == "__main__":
    main()
