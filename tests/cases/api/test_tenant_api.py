"""A client reads and changes only its own orders: another tenant's (and
another client's) order ids, cases and webhooks do not exist for it."""

import pytest
from rest_framework.test import APIClient

from cases.models import Label
from cases.services.clients import api_client_create
from tests.factories import order_payload

pytestmark = pytest.mark.django_db


def _api(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


@pytest.fixture
def a_and_b(champion):
    a, a_token = api_client_create("shop-a")
    b, b_token = api_client_create("shop-b")
    champion(a.tenant), champion(b.tenant)
    a_api, b_api = _api(a_token), _api(b_token)
    created = a_api.post(
        "/api/v1/orders/",
        order_payload(order_id="A-1", amount="5000.00"),
        format="json",
    )
    assert created.status_code == 201
    return a_api, b_api, created.json()


def test_another_tenants_order_case_and_outcomes_are_404(a_and_b):
    a_api, b_api, created = a_and_b

    assert b_api.get("/api/v1/orders/A-1/").status_code == 404
    response = b_api.post(
        "/api/v1/orders/A-1/outcomes/", {"outcome": "chargeback"}, format="json"
    )
    assert response.status_code == 404
    assert not Label.objects.exists()
    if created["case_id"] is not None:
        assert b_api.get(f"/api/v1/cases/{created['case_id']}/").status_code == 404
        assert a_api.get(f"/api/v1/cases/{created['case_id']}/").status_code == 200
    assert a_api.get("/api/v1/orders/A-1/").status_code == 200


def test_the_same_order_id_in_two_tenants_is_two_orders(a_and_b):
    a_api, b_api, _created = a_and_b

    response = b_api.post(
        "/api/v1/orders/", order_payload(order_id="A-1", amount="1.00"), format="json"
    )

    assert response.status_code == 201 and response.json()["created"] is True
    assert a_api.get("/api/v1/orders/A-1/").json()["order"]["amount"] == "5000.00"
    assert b_api.get("/api/v1/orders/A-1/").json()["order"]["amount"] == "1.00"


def test_webhooks_of_another_tenant_are_invisible_and_untouchable(a_and_b):
    a_api, b_api, _created = a_and_b
    hook = a_api.post(
        "/api/v1/webhooks/",
        {"url": "https://93.184.215.14/hook", "events": ["case.decided"]},
        format="json",
    )
    assert hook.status_code == 201, hook.content
    hook_id = hook.json()["id"]

    assert b_api.get("/api/v1/webhooks/").json() in ([], {"results": []})
    assert b_api.delete(f"/api/v1/webhooks/{hook_id}/").status_code == 404
    assert len(a_api.get("/api/v1/webhooks/").json()) == 1
