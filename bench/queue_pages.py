"""Queue and case pages with 1 M cases in PostgreSQL.

    .venv/bin/python -m bench.queue_pages [--cases 1000000] [--repeat 40]

Fills a throwaway database ``riskreview_bench_queue`` with N orders and N open
cases (SQL ``generate_series``: realistic entity cardinalities, priorities
spread over 0…5,000), then times, in process through Django's test client
(views, templates, queries; no network), as a signed-in reviewer:
the first queue page (with its total: estimated past 10,000), a deep page
(keyset cursor at the median priority), a filtered page (one seller), a search
by order id, case pages (grouped linked orders, entity summaries) and entity
pages (a seller with ~2,000 orders, a device). For
comparison it also times the same deep page with OFFSET.
"""

from __future__ import annotations

import argparse
import json
import random

from bench.common import analyze, fresh_database, percentiles, timed

FILL = """
INSERT INTO tenants_tenant (name, slug, created_at) VALUES ('bench', 'bench', now());
INSERT INTO cases_apiclient (name, tenant_id, token_prefix, token_hash, created_at)
VALUES ('bench', (SELECT id FROM tenants_tenant), 'rr_', repeat('0', 64), now());
INSERT INTO cases_order (client_id, tenant_id, order_id, created_at, received_at,
    amount, currency,
    customer_id, account_created_at, email, device_id, ip_address, card_fingerprint,
    card_bin, card_country, billing_country, billing_postcode, shipping_country,
    shipping_postcode, seller_id, channel, item_count, attributes)
SELECT (SELECT id FROM cases_apiclient), (SELECT id FROM tenants_tenant), 'o-' || i,
    now() - (i || ' seconds')::interval, now(), round((random() * 900 + 5)::numeric, 2),
    'EUR', 'c-' || (i % 250000), now() - interval '400 days', 'u' || (i % 250000)
    || '@example.com', 'd-' || (i % 300000), '10.' || (i % 250) || '.' || (i % 199)
    || '.' || (i % 97), 'k-' || (i % 280000), '411111', 'DE', 'DE', '10115', 'DE',
    '10115', 's-' || (i % 500), 'web', 1, '{}'::jsonb
FROM generate_series(1, %(n)s) AS i;
INSERT INTO cases_case (order_id, tenant_id, status, probability, top_reason,
    priority, queue_reason, selection_probability, created_at)
SELECT id, tenant_id, 'open', random(), 'Shipping country differs from billing country',
    round((random() * 5000)::numeric, 4), 'high_risk', 1, now()
FROM cases_order;
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument(
        "--reuse", action="store_true", help="Keep the filled database of a run before."
    )
    parser.add_argument(
        "--database",
        default="riskreview_bench_queue",
        help="The throwaway database (dropped and refilled unless --reuse).",
    )
    args = parser.parse_args()
    fresh_database(args.database, keep=args.reuse)

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from cases.models import Case
    from cases.services.users import user_create
    from tenants.models import Tenant

    if not Case.objects.exists():
        with connection.cursor() as cursor:
            cursor.execute(FILL.replace("%(n)s", str(int(args.cases))))
    analyze()
    get_user_model().objects.filter(username="bench-reviewer").delete()
    reviewer = user_create(
        "bench-reviewer",
        "bench-password-123",
        "reviewer",
        tenant=Tenant.objects.get(name="bench"),
    )
    client = Client()
    client.force_login(reviewer)
    median = Case.objects.order_by("-priority", "id")[args.cases // 2]
    cursor_param = f"{median.priority!r}_{median.pk}"
    case_ids = list(
        Case.objects.values_list("id", flat=True)[:: max(1, args.cases // 500)]
    )
    rng = random.Random(1)
    entity = f"/entities/{Case.objects.first().order.client_id}/"

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    def offset_page() -> None:
        list(
            Case.objects.pending()
            .by_priority()
            .select_related("order")[args.cases // 2 : args.cases // 2 + 50]
        )

    results = {
        "queue first page": timed(lambda: get("/queue/"), args.repeat),
        "queue deep page (keyset, median)": timed(
            lambda: get(f"/queue/?after={cursor_param}"), args.repeat
        ),
        "queue filtered (one seller)": timed(
            lambda: get("/queue/?seller=s-17"), args.repeat
        ),
        "queue search (order id)": timed(
            lambda: get(f"/queue/?q=o-{rng.randint(1, args.cases)}"), args.repeat
        ),
        "case page": timed(lambda: get(f"/cases/{rng.choice(case_ids)}/"), args.repeat),
        "entity page (seller, ~2,000 orders)": timed(
            lambda: get(f"{entity}seller/?value=s-{rng.randrange(500)}"), args.repeat
        ),
        "entity page (device)": timed(
            lambda: get(f"{entity}device/?value=d-{rng.randrange(300000)}"),
            args.repeat,
        ),
        # The floor, measured in the same run: one indexed row through the ORM.
        # Read every row above against it when the machine is shared.
        "floor: one indexed row (query only)": timed(
            lambda: Case.objects.filter(pk=rng.choice(case_ids)).exists(), args.repeat
        ),
        "deep page by OFFSET (query only)": timed(
            offset_page, max(5, args.repeat // 4)
        ),
    }
    report = {name: percentiles(ms) for name, ms in results.items()}
    print(json.dumps({"cases": args.cases, "ms": report}, indent=2))


if __name__ == "__main__":
    main()
