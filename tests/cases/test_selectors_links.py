"""Linked orders grouped by what they share, strongest first; entity summaries."""

import pytest

import cases.selectors_entities as entities
from cases.selectors_entities import entity_profile, entity_summaries
from cases.selectors_links import linked_order_groups
from tests.factories import (
    ApiClientFactory,
    LabelFactory,
    OrderFactory,
    TenantFactory,
)

pytestmark = pytest.mark.django_db

SAME = {
    "customer_id": "c-1",
    "card_fingerprint": "card-1",
    "device_id": "dev-1",
    "ip_address": "203.0.113.1",
    "email": "a@example.org",
    "seller_id": "big-seller",
}


def _order(client, **shared):
    """An order of `client` sharing only `shared` with SAME."""
    own = {
        k: f"{v}-{OrderFactory._meta.model.objects.count()}" for k, v in SAME.items()
    }
    return OrderFactory(client=client, **(own | shared))


@pytest.fixture
def order():
    return OrderFactory(**SAME)


def test_an_order_sharing_everything_comes_before_one_sharing_the_seller(order):
    seller_only = [_order(order.client, seller_id="big-seller") for _ in range(3)]
    twin = _order(order.client, **SAME)

    groups = linked_order_groups(order)

    assert [r.order for r in groups[0].rows] == [twin]
    assert groups[0].kinds == ("customer", "card", "device", "ip", "email", "seller")
    assert groups[-1].kinds == ("seller",) and groups[-1].noise
    assert {r.order for r in groups[-1].rows} == set(seller_only)


def test_groups_are_sorted_by_strength(order):
    _order(order.client, ip_address=SAME["ip_address"])
    _order(order.client, device_id=SAME["device_id"], seller_id=SAME["seller_id"])
    _order(order.client, card_fingerprint=SAME["card_fingerprint"])

    strengths = [g.strength for g in linked_order_groups(order)]

    assert strengths == sorted(strengths, reverse=True) and len(strengths) == 3


def test_another_tenants_orders_are_not_linked(order):
    other_tenant = ApiClientFactory(tenant=TenantFactory(name="other"))
    OrderFactory(client=other_tenant, **SAME)  # same values, another tenant
    assert linked_order_groups(order) == []


def test_orders_of_another_client_of_the_tenant_are_linked(order):
    other = OrderFactory(**SAME)  # same values, another client, same tenant
    assert other.client_id != order.client_id
    groups = linked_order_groups(order)
    assert [row.order for g in groups for row in g.rows] == [other]


def test_summary_counts_other_orders_and_their_chargebacks(order):
    other = _order(order.client, card_fingerprint=SAME["card_fingerprint"])
    LabelFactory(order=other)  # a chargeback
    LabelFactory(order=order)  # the order's own label is not counted

    card = next(s for s in entity_summaries(order) if s.kind == "card")

    assert (card.orders, card.fraud, card.chargebacks) == (1, 1, 1)


def test_profile_lists_what_a_device_was_used_with(order):
    for i in range(3):
        _order(order.client, device_id=SAME["device_id"], customer_id=f"cu-{i % 2}")

    profile = entity_profile(order.tenant_id, "device", SAME["device_id"])

    used = {u.kind: u.distinct for u in profile.used_with}
    assert profile.orders_count == 4
    assert used["customer"] == 3  # c-1, cu-0, cu-1


def test_profile_pages_with_a_keyset_cursor(order, monkeypatch):
    monkeypatch.setattr(entities, "PAGE", 2)
    for _ in range(4):
        _order(order.client, seller_id=SAME["seller_id"])

    first = entity_profile(order.tenant_id, "seller", SAME["seller_id"])
    rest = entity_profile(
        order.tenant_id, "seller", SAME["seller_id"], before=first.next_cursor
    )
    after = entity_profile(
        order.tenant_id, "seller", SAME["seller_id"], before=rest.next_cursor
    )

    seen = [r.order.pk for p in (first, rest, after) for r in p.orders]
    assert len(seen) == 5 == len(set(seen))
    assert after.next_cursor is None
