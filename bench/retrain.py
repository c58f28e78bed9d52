"""Retraining wall time at 10 k, 100 k and 1 M labelled orders, and re-scoring rate.

    .venv/bin/python -m bench.retrain [--sizes 10000 100000 1000000] [--threads 1]

For each size, a throwaway database ``riskreview_bench_retrain`` gets that many
generated orders (``lab.demo_data``, 60 days), all labelled (known 7 days
after the order), loaded with COPY. Then it times the real service
``models_ml.services.model_train`` on ``cases.datasets.training_set``
(reading the training set, point-in-time
features for every labelled order, the fit, the skops file, evaluation on
the holdout), and its parts. Last, it re-scores 20,000 stored orders with
``cases.services.rescoring.orders_rescore`` (features, scores, SHAP for the
ones above the approve threshold, case updates) and reports orders/s.
"""

from __future__ import annotations

import argparse
import json
import time

from bench.common import analyze, fresh_database, orders_copy


def _one_size(n: int, threads: int) -> dict:
    from django.conf import settings
    from django.db import connection

    from cases.datasets import training_set
    from cases.services.bulk import import_client
    from cases.services.feature_rebuild import feature_tiles_rebuild
    from lab.demo_data import generate_orders
    from models_ml.services import model_train
    from models_ml.training import model_fit

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE cases_order, cases_label, models_ml_score,"
            " models_ml_modelversion, models_ml_featuretile,"
            " cases_case CASCADE"
        )
    started = time.perf_counter()
    rows = generate_orders(n, seed=5, days=60)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    client = import_client("bench")
    orders_copy(rows, client.pk, label_days=7)
    analyze()
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    feature_tiles_rebuild()  # COPY bypasses them; re-scoring reads them
    analyze()
    tiles = time.perf_counter() - started
    del rows

    started = time.perf_counter()
    data = training_set(client.tenant_id)
    features = time.perf_counter() - started
    started = time.perf_counter()
    model_fit(data.features, data.target, threads=threads)
    fit = time.perf_counter() - started
    settings.TRAINING_THREADS = threads
    started = time.perf_counter()
    version = model_train(
        lambda: training_set(client.tenant_id), tenant_id=client.tenant_id, force=True
    )
    total = time.perf_counter() - started
    return {
        "orders": n,
        "features": data.features.shape[1],
        "threads": threads,
        "generate_s": round(generated, 1),
        "load_copy_s": round(loaded, 1),
        "tiles_rebuild_s": round(tiles, 1),
        "training_set_s": round(features, 1),
        "fit_s": round(fit, 1),
        "model_train_total_s": round(total, 1),
        "status": version.status,
        "holdout_ap": version.metrics["holdout"]["ap"],
    }


def _rescore_rate(count: int) -> dict:
    from cases.models import Order
    from cases.services.rescoring import orders_rescore
    from models_ml.models import Score

    ids = list(
        Order.objects.order_by("-created_at").values_list("id", flat=True)[:count]
    )
    Score.objects.filter(order_id__in=ids).delete()
    started = time.perf_counter()
    scored = orders_rescore(ids)
    seconds = time.perf_counter() - started
    return {
        "orders": scored,
        "seconds": round(seconds, 1),
        "per_s": round(scored / seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000]
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rescore", type=int, default=20_000)
    args = parser.parse_args()
    fresh_database("riskreview_bench_retrain")
    results = [_one_size(n, args.threads) for n in args.sizes]
    rescoring = _rescore_rate(args.rescore)
    print(json.dumps({"retrain": results, "rescore": rescoring}, indent=2))


if __name__ == "__main__":
    main()
