"""Re-scoring after a promotion: served vectors against reading the tiles.

    .venv/bin/python -m bench.rescore --database rr_perf [--orders 20000]

Uses a database another run left behind (a replay, bench.entity_history or
bench.retrain: stored orders, tiles and an active model). Takes the newest N
orders and gives each a score of the current feature version first if it has
none (timed as "first scoring": features from the tiles). Then it promotes a
copy of the active model twice (a new version each time, so that every order
is re-scored) and times ``cases.services.rescoring.orders_rescore`` on the
same orders:

* ``served``: each order's latest score holds a vector of this feature
  version, which is reused (no feature computation);
* ``tiles``: the same orders with those vectors marked as of another feature
  version, so their features are read from the tiles again (the path before
  the served vectors, and today's path for orders without one).

Both phases do the rest alike (the model, SHAP for the orders not approved,
score rows, case updates), in batches of 500. Prints one JSON line with the
1-minute load average beside each figure.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def _promote_copy(tenant_id: int) -> int:
    """A new active version with the active one's artifact: a promotion."""
    from django.db import transaction

    from models_ml.models import ModelVersion
    from models_ml.scoring import active_model_forget

    with transaction.atomic():
        active = ModelVersion.objects.get(tenant_id=tenant_id, status="active")
        ModelVersion.objects.filter(pk=active.pk).update(status="retired")
        active.pk = None
        active.status = "active"
        active.save()
    active_model_forget()
    return int(active.pk)


def _timed(ids: list[int]) -> dict:
    from cases.services.rescoring import orders_rescore

    load = os.getloadavg()[0]
    started = time.perf_counter()
    scored = orders_rescore(ids)
    seconds = time.perf_counter() - started
    return {
        "rescored": scored,
        "seconds": round(seconds, 1),
        "orders_per_s": round(scored / seconds) if seconds else None,
        "loadavg_1m_start": round(load, 2),
        "loadavg_1m_end": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rescore")
    parser.add_argument("--database", required=True)
    parser.add_argument("--orders", type=int, default=20000)
    args = parser.parse_args()
    from bench.common import fresh_database

    fresh_database(args.database, keep=True)
    from cases.models import Order
    from models_ml.features import FEATURE_VERSION
    from models_ml.models import ModelVersion, Score

    stored = Order.objects.count()
    tenant_id = ModelVersion.objects.get(status="active").tenant_id
    ids = list(
        Order.objects.filter(tenant_id=tenant_id)
        .order_by("-created_at")
        .values_list("id", flat=True)[: args.orders]
    )
    unscored = sorted(
        set(ids)
        - set(
            Score.objects.filter(
                order_id__in=ids, feature_version=FEATURE_VERSION
            ).values_list("order_id", flat=True)
        )
    )
    out: dict = {"stored_orders": stored, "orders": len(ids)}
    if unscored:
        _promote_copy(tenant_id)
        out["first_scoring"] = {"orders": len(unscored), **_timed(unscored)}
    _promote_copy(tenant_id)
    out["served"] = _timed(ids)
    _promote_copy(tenant_id)
    Score.objects.filter(order_id__in=ids).update(feature_version="older")
    out["tiles"] = _timed(ids)
    served, tiles = out["served"]["seconds"], out["tiles"]["seconds"]
    out["tiles_over_served"] = round(tiles / served, 2) if served else None
    print(json.dumps(out))


if __name__ == "__main__":
    main()
