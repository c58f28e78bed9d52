"""Smaller findings of the second hardening round (12): chunked bodies, epoch
strings, caching of personal data, the Idempotency-Key's documented limits."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from cases.services.users import user_create
from riskreview.security import ChunkedBodyRefusedMiddleware
from tests.factories import CaseFactory, TenantFactory, order_payload

ORDERS = "/api/v1/orders/"


def test_a_chunked_body_without_length_is_refused_with_411():
    request = RequestFactory().post(ORDERS, b"", content_type="application/json")
    request.META.pop("CONTENT_LENGTH", None)
    request.META["HTTP_TRANSFER_ENCODING"] = "chunked"
    middleware = ChunkedBodyRefusedMiddleware(lambda r: HttpResponse("parsed"))

    response = middleware(request)

    assert response.status_code == 411


@pytest.mark.parametrize("moment", ["1764100000", " 1764100000.5 ", "2026"])
def test_an_epoch_string_is_not_a_timestamp(api, moment):
    response = api.post(ORDERS, order_payload(created_at=moment), format="json")

    assert response.status_code == 400
    assert "created_at" in response.json()["extra"]["fields"]


@pytest.mark.django_db
def test_pages_and_api_answers_with_personal_data_are_not_cached(client, api):
    client.force_login(
        user_create("rita", "correct-horse-battery", "reviewer", tenant=TenantFactory())
    )
    case = CaseFactory()
    api.post(ORDERS, order_payload(order_id="o-1"), format="json")

    pages = [
        client.get("/queue/"),
        client.get(f"/cases/{case.pk}/"),
        api.get(f"{ORDERS}o-1/"),
    ]

    assert [p.status_code for p in pages] == [200, 200, 200]
    assert all("no-store" in p["Cache-Control"] for p in pages)


def test_the_openapi_schema_documents_the_idempotency_key_limits(api):
    schema = api.get("/api/v1/schema/?format=json").json()

    header = next(
        p
        for p in schema["paths"]["/api/v1/orders/"]["post"]["parameters"]
        if p["name"] == "Idempotency-Key"
    )
    assert header["schema"]["maxLength"] == 255
    assert "409" in header["description"] and "422" in header["description"]


@pytest.mark.parametrize("amount", [-1.4910232473947852e308, 1.5e308])
def test_an_amount_far_out_of_range_is_a_field_error(api, amount):
    response = api.post(ORDERS, order_payload(amount=amount), format="json")

    assert response.status_code == 400
    assert "amount" in response.json()["extra"]["fields"]
