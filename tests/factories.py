from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory

from cases.models import ApiClient, Case, Label, Order
from cases.services.clients import token_hash
from tenants.models import Tenant

BASE_TIME = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class TenantFactory(factory.django.DjangoModelFactory):
    """The "default" tenant unless named: factory-made clients share entities."""

    class Meta:
        model = Tenant
        django_get_or_create = ("name",)

    name = "default"
    slug = factory.LazyAttribute(lambda t: t.name.lower().replace(" ", "-"))


class ApiClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiClient

    name = factory.Sequence(lambda n: f"client-{n}")
    tenant = factory.SubFactory(TenantFactory)
    token_prefix = "rr_test"
    token_hash = factory.Sequence(lambda n: token_hash(f"token-{n}"))


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    client = factory.SubFactory(ApiClientFactory)
    tenant = factory.LazyAttribute(lambda o: o.client.tenant)
    order_id = factory.Sequence(lambda n: f"o-{n}")
    created_at = factory.Sequence(lambda n: BASE_TIME + timedelta(minutes=n))
    amount = Decimal("49.90")
    currency = "EUR"
    customer_id = factory.Sequence(lambda n: f"cust-{n % 50}")
    account_created_at = BASE_TIME - timedelta(days=400)
    email = factory.Sequence(lambda n: f"user{n % 50}@example.com")
    device_id = factory.Sequence(lambda n: f"dev-{n % 40}")
    ip_address = factory.Sequence(lambda n: f"198.51.100.{n % 200}")
    card_fingerprint = factory.Sequence(lambda n: f"card-{n % 60}")
    billing_country = "DE"
    shipping_country = "DE"
    card_country = "DE"
    seller_id = factory.Sequence(lambda n: f"seller-{n % 5}")


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    order = factory.SubFactory(OrderFactory)
    tenant = factory.LazyAttribute(lambda c: c.order.tenant)
    priority = 10.0
    queue_reason = Case.QueueReason.HIGH_RISK


class LabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Label

    order = factory.SubFactory(OrderFactory)
    value = Label.Value.FRAUD
    source = Label.Source.CHARGEBACK
    known_at = factory.LazyAttribute(lambda o: o.order.created_at + timedelta(days=7))


def order_payload(**overrides: object) -> dict:
    """A valid JSON body for POST /api/v1/orders/."""
    payload = {
        "order_id": "web-1001",
        "created_at": "2026-03-02T12:00:00Z",
        "amount": "129.90",
        "currency": "EUR",
        "customer_id": "cust-17",
        "account_created_at": "2025-01-10T08:00:00Z",
        "email": "ana@example.com",
        "device_id": "dev-abc",
        "ip_address": "198.51.100.7",
        "card_fingerprint": "fp-123",
        "card_bin": "411111",
        "card_country": "DE",
        "billing_country": "DE",
        "billing_postcode": "10115",
        "shipping_country": "DE",
        "shipping_postcode": "10115",
        "seller_id": "seller-1",
        "channel": "web",
        "item_count": 2,
        "attributes": {"promo_code": "SPRING"},
    }
    payload.update(overrides)
    return payload
