from datetime import timedelta

import pytest
from django.db import connection

from cases.schemas import OrderIn
from cases.services.bulk import import_client, orders_bulk_load
from cases.services.clients import api_client_create
from cases.services.feature_rebuild import feature_tiles_rebuild
from lab.demo_data import TRUTH_KEYS, generate_orders


def _tiles() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT key, res, value, start, SUM(n), SUM(cents), SUM(new_cards),"
            " SUM(labels), SUM(frauds) FROM models_ml_featuretile"
            " GROUP BY key, res, value, start ORDER BY key, res, value, start"
        )
        return cursor.fetchall()


@pytest.mark.django_db
def test_rebuild_gives_the_tiles_that_loading_kept():
    rows = generate_orders(300, seed=4, days=5)
    payloads = [
        OrderIn.model_validate({k: v for k, v in r.items() if k not in TRUTH_KEYS})
        for r in rows
    ]
    labels = [
        (
            r["order_id"],
            "fraud" if r["is_fraud"] else "legitimate",
            r["created_at"] + timedelta(hours=3),
        )
        for r in rows[::3]
    ]
    client = import_client()
    orders_bulk_load(client, payloads[:150], labels)
    orders_bulk_load(client, payloads[150:], labels)
    kept = _tiles()

    events = feature_tiles_rebuild()

    assert events == 300 + 100
    assert kept and _tiles() == kept


@pytest.mark.django_db
def test_rebuild_keeps_tenants_apart():
    """Two tenants load the same orders: each tenant's tiles count its own."""
    rows = generate_orders(120, seed=5, days=3)
    payloads = [
        OrderIn.model_validate({k: v for k, v in r.items() if k not in TRUTH_KEYS})
        for r in rows
    ]
    orders_bulk_load(import_client(), payloads)
    orders_bulk_load(api_client_create("other-shop")[0], payloads[:40])
    kept = _tiles()

    feature_tiles_rebuild()

    assert _tiles() == kept
    day_orders: dict[str, int] = {}
    for key, res, value, _start, n, *_rest in kept:
        if key == "seller" and res == "d":
            tenant = value.split("\x1e")[0]
            day_orders[tenant] = day_orders.get(tenant, 0) + n
    assert sorted(day_orders.values()) == [40, 120]


@pytest.mark.django_db
def test_migration_scopes_the_tiles_of_existing_orders_by_the_default_tenant():
    """models_ml.0004 turns the tiles of orders stored before tenants existed
    into the tiles a rebuild gives once those orders are in "default"."""
    from importlib import import_module

    from django.apps import apps

    from tests.factories import TenantFactory

    migration = import_module("models_ml.migrations.0004_tiles_scoped_by_tenant")
    client, _token = api_client_create("shop", tenant=TenantFactory(name="default"))
    rows = generate_orders(100, seed=6, days=3)
    payloads = [
        OrderIn.model_validate({k: v for k, v in r.items() if k not in TRUTH_KEYS})
        for r in rows
    ]
    orders_bulk_load(
        client,
        payloads,
        [
            (r["order_id"], "fraud", r["created_at"] + timedelta(hours=1))
            for r in rows[::4]
        ],
    )
    scoped = _tiles()
    prefix = f"{client.tenant_id}\x1e"
    with connection.cursor() as cursor:  # the tiles as they were before tenants
        cursor.execute(
            "UPDATE models_ml_featuretile SET value = replace(value, %s, '')",
            [prefix],
        )
    assert prefix not in str(_tiles())

    with connection.schema_editor() as editor:
        migration._scope_tiles(apps, editor)

    assert _tiles() == scoped


def _payloads(rows: list[dict]) -> list[OrderIn]:
    return [
        OrderIn.model_validate({k: v for k, v in r.items() if k not in TRUTH_KEYS})
        for r in rows
    ]


@pytest.mark.django_db
def test_bulk_load_tiles_equal_the_tiles_kept_order_by_order():
    """The one set-based pass after a COPY gives the tiles that adding each
    stored order and label online (the first pass's bulk path) kept."""
    from cases.models import Label, Order
    from models_ml.feature_state import (
        labels_record,
        orders_load_record,
        tiles_clear,
    )

    rows = generate_orders(400, seed=8, days=6)
    labels = [
        (r["order_id"], "fraud" if r["is_fraud"] else "legitimate", r["created_at"])
        for r in rows[::2]
    ]
    orders_bulk_load(import_client(), _payloads(rows), labels)
    refreshed = _tiles()
    tiles_clear()
    orders = list(Order.objects.order_by("created_at", "pk"))
    for first in range(0, len(orders), 50):
        orders_load_record(orders[first : first + 50])
    labels_record(list(Label.objects.select_related("order")))

    assert refreshed and _tiles() == refreshed


@pytest.mark.django_db
def test_loading_earlier_orders_later_refreshes_the_tiles_they_change():
    """Orders loaded after later ones change those later orders' tiles (a card
    is no longer new to its device): the refresh of the entities they touch
    gives what a rebuild from scratch gives."""
    rows = generate_orders(300, seed=9, days=4)
    client = import_client()
    orders_bulk_load(client, _payloads(rows[1::2]))
    orders_bulk_load(client, _payloads(rows[::2]))
    refreshed = _tiles()

    feature_tiles_rebuild()

    assert refreshed and _tiles() == refreshed


@pytest.mark.django_db
def test_expiry_drops_the_old_tiles_and_changes_no_feature():
    from cases.models import Order
    from cases.services.feature_rebuild import feature_tiles_expire
    from models_ml.feature_spec import READ_HORIZON
    from models_ml.feature_state import features_online, orders_load_record

    rows = generate_orders(300, seed=10, days=45)
    orders_bulk_load(import_client(), _payloads(rows), tiles=False)
    stored = list(Order.objects.order_by("created_at", "pk"))
    for first in range(0, len(stored), 50):  # every tile, as intake keeps them
        orders_load_record(stored[first : first + 50])
    newest = stored[-1].created_at
    readable = [
        o
        for o in stored
        if o.created_at >= newest - timedelta(milliseconds=READ_HORIZON)
    ]
    before = features_online(readable)
    count = len(_tiles())

    dropped = feature_tiles_expire()

    assert dropped > 0 and len(_tiles()) == count - dropped
    assert feature_tiles_expire() == 0
    after = features_online(readable)
    assert len(readable) > 50
    assert after.equals(before)


@pytest.mark.django_db
def test_expiry_runs_hourly_from_beat():
    from cases.tasks import feature_tiles_expire
    from riskreview.celery import _schedule, app

    _schedule(app)
    entry = app.conf.beat_schedule["feature-tiles-expire"]

    assert entry["task"] == feature_tiles_expire.name
    assert entry["schedule"].minute == {17}
    assert feature_tiles_expire() == "0 tiles dropped"
