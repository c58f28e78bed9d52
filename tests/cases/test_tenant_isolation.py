"""Issue 10, part 5, "done when": another tenant's orders, labels and outcomes
change nothing in a tenant's scores or reasons, and its orders never show up
in the tenant's linked orders or entity pages."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from rest_framework.test import APIClient

from cases.models import Order
from cases.selectors_entities import entity_profile, entity_summaries
from cases.selectors_links import linked_order_groups
from cases.services.clients import api_client_create
from tests.factories import order_payload

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
# The entities every order here shares: A's and B's identifiers are equal.
SHARED = {
    "customer_id": "cust-17",
    "email": "ana@example.com",
    "device_id": "dev-abc",
    "ip_address": "198.51.100.7",
    "card_fingerprint": "fp-123",
    "seller_id": "seller-1",
}


def _api(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def _order(order_id: str, at: datetime, amount: str) -> dict:
    return order_payload(
        order_id=order_id, created_at=at.isoformat(), amount=amount, **SHARED
    )


def _history(api: APIClient, prefix: str, n: int, amount: str) -> None:
    for i in range(n):
        at = NOW - timedelta(days=3) + timedelta(hours=i)
        response = api.post(
            "/api/v1/orders/", _order(f"{prefix}-{i}", at, amount), format="json"
        )
        assert response.status_code == 201, response.content


def _busy_other(api: APIClient, prefix: str) -> None:
    """Many large orders on A's entities, then chargebacks and confirmed fraud
    on them, all before A's next order."""
    _history(api, prefix, 12, "990.00")
    for i in range(12):
        outcome = "chargeback" if i % 2 else "confirmed_fraud"
        response = api.post(
            f"/api/v1/orders/{prefix}-{i}/outcomes/",
            {"outcome": outcome},
            format="json",
        )
        assert response.status_code == 201, response.content


def _a_scores(a_token: str, other: str | None) -> dict:
    """A's history, perhaps another client's activity (`other`: its token),
    then A's new order: its score and reasons. Rolled back afterwards."""
    a = _api(a_token)
    with transaction.atomic(), time_machine.travel(NOW, tick=False):
        _history(a, "a", 6, "40.00")
        if other is not None:
            _busy_other(_api(other), "b")
        at = NOW + timedelta(minutes=5)
        response = a.post(
            "/api/v1/orders/", _order("a-new", at, "60.00"), format="json"
        )
        assert response.status_code == 201, response.content
        transaction.set_rollback(True)
    body = response.json()
    return {k: body[k] for k in ("risk_score", "decision", "reasons")}


def test_another_tenants_orders_labels_and_outcomes_change_nothing_for_a(champion):
    _a, a_token = api_client_create("shop-a")
    _b, b_token = api_client_create("shop-b")
    _a_app, a_app_token = api_client_create("shop-a-app", tenant=_a.tenant)
    champion(_a.tenant), champion(_b.tenant)

    alone = _a_scores(a_token, None)
    beside_b = _a_scores(a_token, b_token)
    # The same activity from a client of A's own tenant (A's app backend) does
    # move A's score: the comparison above would notice a leak.
    beside_own_app = _a_scores(a_token, a_app_token)

    assert beside_b == alone
    assert beside_own_app["risk_score"] != alone["risk_score"]
    assert beside_own_app["reasons"] != alone["reasons"]
    texts = " ".join(r["text"] for r in alone["reasons"])
    assert "990" not in texts  # B's amounts never reach A's reasons


def test_linked_orders_and_entity_pages_show_only_the_tenants_orders(champion):
    a, a_token = api_client_create("shop-a")
    a_app, a_app_token = api_client_create("shop-a-app", tenant=a.tenant)
    b, b_token = api_client_create("shop-b")
    champion(a.tenant), champion(b.tenant)
    with time_machine.travel(NOW, tick=False):
        _history(_api(a_token), "a", 3, "40.00")
        _history(_api(a_app_token), "app", 2, "40.00")
        _busy_other(_api(b_token), "b")
    order = Order.objects.get(client=a, order_id="a-0")

    linked = {row.order.order_id for g in linked_order_groups(order) for row in g.rows}
    summaries = {s.kind: s.orders for s in entity_summaries(order)}
    profile = entity_profile(a.tenant_id, "card", SHARED["card_fingerprint"])
    b_profile = entity_profile(b.tenant_id, "card", SHARED["card_fingerprint"])

    assert linked == {"a-1", "a-2", "app-0", "app-1"}  # A's tenant, both clients
    assert set(summaries.values()) == {4}
    assert profile.orders_count == 5 and profile.fraud == 0
    assert {o.order.tenant_id for o in profile.orders} == {a.tenant_id}
    assert b_profile.orders_count == 12 and b_profile.fraud == 12


def test_a_tenant_without_a_model_of_its_own_is_not_scored_by_anothers(champion):
    """Models are per tenant: B's champion never scores A's orders."""
    a, a_token = api_client_create("shop-a")
    b, _b_token = api_client_create("shop-b")
    champion(b.tenant)

    response = _api(a_token).post(
        "/api/v1/orders/", _order("a-1", NOW, "60.00"), format="json"
    )

    body = response.json()
    assert (body["risk_score"], body["model_version"]) == (None, None)
    assert body["decision"] == "review"
