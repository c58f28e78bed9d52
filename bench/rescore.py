"""Re-scoring rate on an existing benchmark database, and the share of it
that reading features from the tiles takes.

    .venv/bin/python -m bench.rescore --database riskreview_bench_history \\
        [--orders 5000]

Uses a database another benchmark left behind (bench.entity_history or
bench.retrain: stored orders, tiles and an active model). Times
``cases.services.rescoring.orders_rescore`` on the newest N orders after
deleting their scores (features from the tiles, scores, SHAP for the orders
not approved, case updates, in batches of 500), then the feature read alone
(``features_online``) on the same batches: the rest is the model, SHAP and
the writes.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rescore")
    parser.add_argument("--database", required=True)
    parser.add_argument("--orders", type=int, default=5000)
    args = parser.parse_args()
    from bench.common import fresh_database

    fresh_database(args.database, keep=True)
    from cases.models import Order
    from cases.services.rescoring import BATCH_SIZE, orders_rescore
    from models_ml.feature_state import features_online
    from models_ml.models import Score

    stored = Order.objects.count()
    ids = list(
        Order.objects.order_by("-created_at").values_list("id", flat=True)[
            : args.orders
        ]
    )
    Score.objects.filter(order_id__in=ids).delete()
    started = time.perf_counter()
    scored = orders_rescore(ids)
    total = time.perf_counter() - started
    started = time.perf_counter()
    for first in range(0, len(ids), BATCH_SIZE):
        batch = list(
            Order.objects.filter(pk__in=ids[first : first + BATCH_SIZE]).order_by(
                "created_at", "id"
            )
        )
        features_online(batch)
    features = time.perf_counter() - started
    print(
        json.dumps(
            {
                "stored_orders": stored,
                "rescored": scored,
                "seconds": round(total, 1),
                "orders_per_s": round(scored / total),
                "features_only_seconds": round(features, 1),
                "features_only_orders_per_s": round(len(ids) / features),
                "loadavg_1m": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
