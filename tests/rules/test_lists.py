import pytest
from django.core.exceptions import ValidationError

from rules.lists import (
    list_value,
    listed_pairs,
    lists_snapshot,
    order_pairs,
    orders_listed,
)
from rules.models import ListEntry
from tests.factories import OrderFactory, TenantFactory


@pytest.mark.parametrize(
    ("entity_type", "value", "stored"),
    [
        ("email", " Ana@Example.COM ", "ana@example.com"),
        ("ip", "203.0.113.9", "203.0.113.9/32"),
        ("ip", "203.0.113.9/24", "203.0.113.0/24"),
        ("ip", "2001:db8::1/32", "2001:db8::/32"),
        ("card", "fp-1", "fp-1"),
    ],
)
def test_values_are_stored_normalised(entity_type, value, stored):
    assert list_value(entity_type, value) == stored


def test_a_bad_ip_is_refused():
    with pytest.raises(ValidationError):
        list_value("ip", "not-an-ip")


def _entry(tenant, entity_type, value, kind="block", **extra):
    return ListEntry.objects.create(
        tenant=tenant,
        kind=kind,
        entity_type=entity_type,
        value=list_value(entity_type, value),
        added_by="user:lead",
        **extra,
    )


@pytest.mark.django_db
def test_order_is_found_on_lists_by_value_and_cidr_in_one_query(
    django_assert_num_queries,
):
    tenant = TenantFactory()
    blocked = OrderFactory(ip_address="203.0.113.77", card_fingerprint="fp-bad")
    clean = OrderFactory(ip_address="198.51.100.1", card_fingerprint="fp-ok")
    _entry(tenant, "ip", "203.0.113.0/24")
    _entry(tenant, "card", "fp-bad")
    _entry(tenant, "email", blocked.email.upper(), kind="allow")

    with django_assert_num_queries(1):
        found = orders_listed([blocked, clean])

    assert sorted((e.kind, e.entity_type) for e in found[0]) == [
        ("allow", "email"),
        ("block", "card"),
        ("block", "ip"),
    ]
    assert found[1] == []
    snapshot = lists_snapshot(tenant.pk)  # the backtest's in-memory form
    for order, entries in zip([blocked, clean], found, strict=True):
        assert sorted(order_pairs(order, snapshot)) == sorted(listed_pairs(entries))


@pytest.mark.django_db
def test_expired_entries_and_other_tenants_lists_do_not_count():
    from datetime import timedelta

    from django.utils import timezone

    order = OrderFactory(card_fingerprint="fp-x", device_id="dev-x")
    _entry(
        order.tenant, "card", "fp-x", expires_at=timezone.now() - timedelta(minutes=1)
    )
    _entry(TenantFactory(name="other"), "device", "dev-x")

    assert orders_listed([order]) == [[]]


@pytest.mark.parametrize(
    "address", ["198.51.100.7", "10.0.0.1", "255.255.255.255", "0.0.0.0", "2001:db8::1"]
)
def test_ip_networks_are_every_prefix_containing_the_address(address):
    import ipaddress

    from rules.lists import _ip_networks

    bits = ipaddress.ip_address(address).max_prefixlen
    expected = [
        ipaddress.ip_network(f"{address}/{b}", strict=False).with_prefixlen
        for b in range(bits, -1, -1)
    ]
    assert _ip_networks(address) == expected
