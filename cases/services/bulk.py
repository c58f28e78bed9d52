"""Loading order history in bulk (warehouse exports, demo data): no scoring."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models, transaction

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
    fresh = [
        Order(client=client, tenant_id=client.tenant_id, **p.model_fields_for_db())
        for p in payloads
        if p.order_id not in stored
    ]
    _rows_copy(Order, fresh)
    by_id = dict(
        Order.objects.filter(
            client=client, order_id__in=[o.order_id for o in fresh]
        ).values_list("order_id", "pk")
    )
    new_labels = [
        Label(
            order_id=by_id[order_id],
            value=value,
            source=Label.Source.CHARGEBACK
            if value == Label.Value.FRAUD
            else Label.Source.MERCHANT,
            known_at=known_at,
            reasons=["imported"],
        )
        for order_id, value, known_at in labels
        if order_id in by_id
    ]
    _rows_copy(Label, new_labels)
    if tiles and payloads:
        entities = entity_values_add({}, (p.model_fields_for_db() for p in payloads))
        feature_tiles_refresh(client.tenant_id, entities)
    return len(fresh), len(new_labels)


def _rows_copy(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """INSERT unsaved instances (their pks stay unset): COPY on PostgreSQL."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=1000)  # type: ignore[attr-defined]
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    for obj in objs:  # what save() would fill in (auto_now_add)
        for field in fields:
            if getattr(field, "auto_now_add", False) or getattr(
                field, "auto_now", False
            ):
                field.pre_save(obj, add=True)  # type: ignore[attr-defined]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for obj in objs:
            copy.write_row(_db_values(obj, fields))


def _db_values(obj: models.Model, fields: list[Any]) -> list[Any]:
    return [
        f.get_db_prep_save(getattr(obj, f.attname), connection=connection)
        for f in fields
    ]


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
