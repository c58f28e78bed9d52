"""Loading order history in bulk (warehouse exports, demo data): no scoring."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from cases.models import ApiClient, Label, Order
from cases.schemas import OrderIn
from cases.services.feature_rebuild import entity_values_add, feature_tiles_refresh
from tenants.models import Tenant


@transaction.atomic
def orders_bulk_load(
    client: ApiClient,
    payloads: Sequence[OrderIn],
    labels: Sequence[tuple[str, str, datetime]] = (),
    *,
    tiles: bool = True,
) -> tuple[int, int]:
    """Store orders not already stored, and their labels; return both counts.

    `labels` are (order_id, value, known_at); a label is added only with its
    order, so a re-run of the same file adds nothing. Rows go in with COPY on
    PostgreSQL. The feature tiles of every entity of `payloads` (stored now or
    before) are then recomputed once (`feature_tiles_refresh`); a caller that
    loads in chunks passes `tiles=False` and refreshes once at the end.
    """
    ids = [p.order_id for p in payloads]
    stored = set(
        Order.objects.filter(client=client, order_id__in=ids).values_list(
            "order_id", flat=True
        )
    )
    now = timezone.now()
    fresh = [
        {
            **p.model_fields_for_db(),
            "client_id": client.pk,
            "tenant_id": client.tenant_id,
            "received_at": now,
        }
        for p in payloads
        if p.order_id not in stored
    ]
    _rows_insert(Order, fresh)
    by_id = dict(
        Order.objects.filter(
            client=client, order_id__in=[o["order_id"] for o in fresh]
        ).values_list("order_id", "pk")
    )
    new_labels = [
        {
            "order_id": by_id[order_id],
            "value": value,
            "source": Label.Source.CHARGEBACK
            if value == Label.Value.FRAUD
            else Label.Source.MERCHANT,
            "known_at": known_at,
            "reasons": ["imported"],
            "created_at": now,
        }
        for order_id, value, known_at in labels
        if order_id in by_id
    ]
    _rows_insert(Label, new_labels)
    if tiles and payloads:
        entities = entity_values_add({}, (p.model_fields_for_db() for p in payloads))
        feature_tiles_refresh(client.tenant_id, entities)
    return len(fresh), len(new_labels)


def _rows_insert(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> None:
    """INSERT rows given as {attname: value}; fields left out get their
    defaults. COPY on PostgreSQL, without building model instances (they were
    most of the cost of a 5,000-order chunk)."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    if connection.vendor != "postgresql":
        objs = [model(**row) for row in rows]
        model.objects.bulk_create(objs, batch_size=1000)  # type: ignore[attr-defined]
        return
    from psycopg.types.json import Jsonb

    defaults = {f.attname: f.get_default() for f in fields}
    json = {f.attname for f in fields if isinstance(f, models.JSONField)}
    names = [f.attname for f in fields]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            values = [row.get(n, defaults[n]) for n in names]
            copy.write_row(
                [Jsonb(v) if n in json else v for n, v in zip(names, values)]
            )


def bulk_tables_analyze() -> None:
    """Refresh the planner's statistics after a bulk load: with the counts of
    an empty table, PostgreSQL planned re-scoring's score lookups over the
    whole table (1 s a batch of 500 after loading 490,000 orders)."""
    if connection.vendor != "postgresql":
        return
    tables = [Order._meta.db_table, Label._meta.db_table, "models_ml_featuretile"]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}")


def import_client(
    name: str = "warehouse-import", tenant: Tenant | None = None
) -> ApiClient:
    """The client that owns imported orders (created without a usable token),
    created in `tenant`, else in the tenant of the same name (created with it
    unless there is one)."""
    from cases.services.clients import api_client_create
    from tenants.services import tenant_find

    client = ApiClient.objects.filter(name=name).first()
    if client is not None:
        return client
    return api_client_create(name, tenant=tenant or tenant_find(name))[0]
