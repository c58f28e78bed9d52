"""Rules and lists: their cost on one intake, and the backtest over stored orders.

    .venv/bin/python -m bench.rules [--orders 1000000] [--repeat 300]

A throwaway database ``rr_rules_bench`` gets 100 active rules (order fields,
features, score, list membership) and 100,000 list entries (cards, e-mails,
devices, IPs and /24 ranges, customers, sellers). Then:

1. **Intake**: the rules step alone (`rules.engine.scores_rules_apply` on one
   order's unsaved Score: one query for the rules, one for the lists, the
   contexts, 100 evaluations), and a whole single-order `orders_ingest`
   (no model: features, tiles, score row, case) with the rules and lists in
   place and with none, interleaved.
2. **Backtest**: N generated orders (``lab.demo_data``, 60 days, labels 7
   days later, one stored score each) loaded with COPY, then
   `cases.services.backtest.rule_backtest` over the last 30 days for rules
   that read order fields only, the score, a feature (offline backfill),
   and list membership.

Prints JSON; every figure carries the 1-minute load average.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable

from bench.common import analyze, fresh_database, orders_copy, percentiles, timed

RULE_TEMPLATES = [
    ("review", "amount > {k}.0 && card_country != billing_country"),
    ("review", "customer_orders_1d >= {k}.0 && amount > 50.0"),
    ("boost", 'email.endsWith("@mail{k}.example") || channel == "phone"'),
    ("review", "has_score && score > 0.{k} && item_count > 3"),
    ("decline", 'card_bin == "4{k}9999" && shipping_country == "NG"'),
    ("review", "block.device || allow.email && amount > {k}000.0"),
    ("boost", 'ip_address.startsWith("10.{k}.") && seller_id != "s-{k}"'),
    ("review", "device_new_cards_30d >= {k}.0 || card_fraud_labels_30d > 1.0"),
    ("review", "account_age_days < 1.0 && amount > {k}.0"),
    ("boost", 'billing_postcode == "9{k}" || shipping_postcode == "9{k}"'),
]
RUNS = [
    ("fields", "amount > 500.0 && shipping_country != billing_country"),
    ("fields_memo_friendly", 'channel == "app" && card_country != "DE"'),
    ("score", "has_score && score > 0.95 && item_count >= 2"),
    ("feature", "card_orders_1d >= 3.0 && amount > 200.0"),
    ("lists", "block.card || block.ip || allow.email"),
]
ENTITY_TYPES = ["card", "email", "device", "ip", "customer", "seller"]


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _rules_and_lists(tenant_id: int, n_rules: int, n_entries: int) -> None:
    from cases.services.rules import rule_create
    from rules.lists import list_value
    from rules.models import ListEntry

    for i in range(n_rules):
        action, template = RULE_TEMPLATES[i % len(RULE_TEMPLATES)]
        rule_create(
            tenant_id,
            actor="bench",
            owner=None,
            name=f"rule {i}",
            expression=template.format(k=i % 10 + 1),
            action=action,
            boost=10.0 if action == "boost" else 0.0,
            state="active",
        )
    batch = []
    for i in range(n_entries):
        entity_type = ENTITY_TYPES[i % len(ENTITY_TYPES)]
        if entity_type == "ip":
            raw = (
                f"10.{i % 250}.{(i // 250) % 250}.0/24"
                if i % 2
                else f"172.16.{i % 250}.{i % 199}"
            )
        elif entity_type == "email":
            raw = f"blocked{i}@example.net"
        else:
            raw = f"{entity_type}-blocked-{i}"
        batch.append(
            ListEntry(
                tenant_id=tenant_id,
                kind="block" if i % 5 else "allow",
                entity_type=entity_type,
                value=list_value(entity_type, raw),
                added_by="bench",
            )
        )
    ListEntry.objects.bulk_create(batch, batch_size=5000, ignore_conflicts=True)


def _intake(client, repeat: int) -> dict:
    from datetime import UTC, datetime, timedelta

    from cases.models import Order
    from cases.schemas import OrderIn
    from cases.services.bulk import import_client
    from cases.services.intake import orders_ingest
    from models_ml.feature_state import features_online
    from models_ml.policy import decision_policy
    from models_ml.services import scores_compute
    from rules.engine import scores_rules_apply

    counter = iter(range(10**9))
    start = datetime(2026, 5, 1, tzinfo=UTC)

    def payload() -> OrderIn:
        i = next(counter)
        return OrderIn.model_validate(
            {
                "order_id": f"bench-{i}",
                "created_at": (start + timedelta(seconds=7 * i)).isoformat(),
                "amount": "129.90",
                "customer_id": f"c-{i % 500}",
                "email": f"c{i % 500}@example.com",
                "device_id": f"d-{i % 400}",
                "ip_address": f"198.51.100.{i % 200}",
                "card_fingerprint": f"fp-{i % 600}",
                "card_country": "DE",
                "billing_country": "DE",
                "shipping_country": "DE",
                "seller_id": "s-1",
                "account_created_at": "2025-01-01T00:00:00Z",
            }
        )

    # The rules step alone (`scores_rules_apply` on one unsaved score), for
    # an order of this tenant (100 rules, 100,000 entries) and of a bare one
    # (no rule, no entry: the list query still runs), interleaved.
    bare = import_client("bench-bare")
    policy = decision_policy()
    steps: dict[str, list[float]] = {"rules_and_lists": [], "bare": []}
    scores = {}
    for key, who in (("rules_and_lists", client), ("bare", bare)):
        orders_ingest(who, [payload()], explain_all=False)
        order = Order.objects.filter(client=who).order_by("-id").first()
        (scores[key],) = scores_compute([order], features_online([order]), policy)

    def apply(key: str) -> Callable[[], None]:
        return lambda: scores_rules_apply([scores[key]])

    for _round in range(repeat // 10):
        for key, bucket in steps.items():
            bucket += timed(apply(key), 10, 1)
    step = {
        "rules_step_100_rules_100k_entries": percentiles(steps["rules_and_lists"]),
        "rules_step_bare_tenant": percentiles(steps["bare"]),
        "load": _load(),
    }
    # Whole single-order intakes of this tenant (100 rules, 100,000 entries)
    # and of a bare tenant (none), interleaved so load changes hit both alike.
    with_rules: list[float] = []
    without: list[float] = []
    for _round in range(repeat // 10):
        for bucket, who in ((with_rules, client), (without, bare)):
            for _ in range(5):
                began = time.perf_counter()
                orders_ingest(who, [payload()], explain_all=False)
                bucket.append((time.perf_counter() - began) * 1000)
    return {
        **step,
        "intake_100_rules_100k_entries": percentiles(with_rules),
        "intake_no_rules_no_entries": percentiles(without),
        "intake_load": _load(),
    }


def _backtests(client, n: int) -> dict:
    from cases.services.backtest import rule_backtest

    out: dict = {"orders": n, "runs": {}}
    if n:
        out.update(_history_load(client, n))
    for name, expression in RUNS:
        began = time.perf_counter()
        result = rule_backtest(client.tenant_id, expression, days=30)
        out["runs"][name] = {
            "expression": expression,
            "seconds": round(time.perf_counter() - began, 2),
            "orders_in_window": result.orders,
            "hits": result.hits,
            "errors": result.errors,
            "load": _load(),
        }
        print(json.dumps({name: out["runs"][name]}), flush=True)
    return out


def _history_load(client, n: int) -> dict:
    from django.db import connection

    from lab.demo_data import generate_orders

    started = time.perf_counter()
    rows = generate_orders(n, seed=5, days=60)
    steps = {"generate_s": round(time.perf_counter() - started, 1)}
    orders_copy(rows, client.pk, label_days=7)
    steps["copy_orders_labels_s"] = round(time.perf_counter() - started, 1)
    del rows
    analyze()
    # A fresh session: this one's cached foreign-key check plans were made
    # when cases_order was small (seq scans), which made this insert O(n²).
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO models_ml_score (order_id, probability, decision, features,
                model_decision, rule_hits, created_at)
            SELECT id, random(), 'approve', '{}', 'approve', '[]', now()
            FROM cases_order WHERE client_id = %s ORDER BY id
            """,
            [client.pk],
        )
    steps["scores_s"] = round(time.perf_counter() - started, 1)
    analyze()
    steps["load_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(steps), flush=True)
    return steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--rules", type=int, default=100)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--intake-only", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the loaded database: backtests only"
    )
    args = parser.parse_args()
    fresh_database("rr_rules_bench", keep=args.reuse)
    from cases.services.bulk import import_client

    if args.reuse:
        from rules.models import ListEntry

        history = import_client("bench-history")
        if not ListEntry.objects.filter(tenant_id=history.tenant_id).exists():
            _rules_and_lists(history.tenant_id, 0, args.entries)
        print(json.dumps(_backtests(history, 0)), flush=True)
        return
    client = import_client("bench-rules")
    _rules_and_lists(client.tenant_id, args.rules, args.entries)
    analyze()
    report = {"rules": args.rules, "list_entries": args.entries}
    report["intake"] = _intake(client, args.repeat)
    print(json.dumps(report["intake"]), flush=True)
    if args.intake_only:
        return
    # Another tenant's history, so the intake orders above are not in it.
    report["backtest"] = _backtests(import_client("bench-history"), args.orders)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
