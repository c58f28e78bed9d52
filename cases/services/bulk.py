"""Loading order history in bulk (warehouse exports, demo data): no scoring."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction

from cases.models import ApiClient, Label, Order
from cases.schemas import OrderIn
from models_ml.feature_state import labels_record, orders_load_record
from tenants.models import Tenant


@transaction.atomic
def orders_bulk_load(
    client: ApiClient,
    payloads: Sequence[OrderIn],
    labels: Sequence[tuple[str, str, datetime]] = (),
) -> tuple[int, int]:
    """Store orders not already stored, and their labels; return both counts.

    `labels` are (order_id, value, known_at); a label is added only with its
    order, so a re-run of the same file adds nothing.
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
    Order.objects.bulk_create(fresh, batch_size=1000)
    orders_load_record(fresh)
    by_id = {o.order_id: o for o in fresh}
    new_labels = [
        Label(
            order=by_id[order_id],
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
    Label.objects.bulk_create(new_labels, batch_size=1000)
    labels_record(new_labels)
    return len(fresh), len(new_labels)


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
