"""Token authentication: nothing is served or stored without a valid token."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import ApiClient
from cases.services.clients import api_client_create, api_client_revoke
from tests.factories import order_payload

ENDPOINTS = [
    ("post", "/api/v1/orders/"),
    ("post", "/api/v1/orders/batch/"),
    ("get", "/api/v1/orders/web-1001/"),
    ("post", "/api/v1/orders/web-1001/outcomes/"),
    ("get", "/api/v1/cases/1/"),
]


def _call(api: APIClient, method: str, path: str):
    if method == "get":
        return api.get(path)
    return api.post(path, order_payload(), format="json")


def _with_header(value: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=value)
    return api


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_request_without_token_is_401(method, path, db, assert_nothing_stored):
    response = _call(APIClient(), method, path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert set(response.json()) == {"message", "extra"}
    assert_nothing_stored()


@pytest.mark.parametrize(
    "header",
    [
        "Token rr_not-a-real-token",
        "Token",
        "Token two parts",
        "Token t\u00f6ken",
        "Basic dXNlcjpwYXNz",
    ],
    ids=["unknown", "no-token", "spaces", "non-ascii", "basic"],
)
@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_request_with_invalid_token_is_401(
    method, path, header, db, assert_nothing_stored
):
    response = _call(_with_header(header), method, path)

    assert response.status_code == 401
    assert_nothing_stored()


def test_revoked_token_is_401(db, assert_nothing_stored):
    client, token = api_client_create("revoked-shop")
    api_client_revoke(client, actor="user:admin")

    response = _call(_with_header(f"Token {token}"), "post", "/api/v1/orders/")

    assert response.status_code == 401
    assert response.json()["message"] == "Invalid or revoked token."
    assert_nothing_stored()


def test_expired_token_is_401(db, assert_nothing_stored):
    _client, token = api_client_create(
        "expired-shop", expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = _call(_with_header(f"Token {token}"), "post", "/api/v1/orders/")

    assert response.status_code == 401
    assert response.json()["message"] == "Token expired."
    assert_nothing_stored()


def test_token_not_yet_expired_is_accepted(db):
    _client, token = api_client_create(
        "valid-shop", expires_at=timezone.now() + timedelta(hours=1)
    )

    response = _call(_with_header(f"Token {token}"), "post", "/api/v1/orders/")

    assert response.status_code == 201


def test_bearer_token_is_accepted_and_use_is_recorded(client_and_token):
    client, token = client_and_token

    response = _call(_with_header(f"Bearer {token}"), "post", "/api/v1/orders/")

    assert response.status_code == 201
    assert ApiClient.objects.get(pk=client.pk).last_used_at is not None


def test_another_clients_order_is_404(api, other_api):
    api.post("/api/v1/orders/", order_payload(), format="json")

    response = other_api.get("/api/v1/orders/web-1001/")

    assert response.status_code == 404
    assert response.json()["extra"] == {"code": "not_found"}
