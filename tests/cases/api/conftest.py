"""Fixtures shared by the API tests."""

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from cases.models import Case, Label, Order
from cases.services.clients import api_client_create
from models_ml.models import Score

_WRITTEN_BY_REQUESTS = {
    "orders": Order,
    "scores": Score,
    "cases": Case,
    "labels": Label,
}


@pytest.fixture
def other_api(db: None) -> APIClient:
    """Authenticated as a second, unrelated API client."""
    _client, token = api_client_create("another-shop")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


@pytest.fixture
def post_bytes(api: APIClient) -> Callable[..., object]:
    """POST a raw body, exactly as given, as the authenticated client."""

    def post(
        path: str, body: bytes, content_type: str = "application/json", **headers: str
    ) -> object:
        return api.generic("POST", path, body, content_type=content_type, **headers)

    return post


@pytest.fixture
def assert_nothing_stored(db: None) -> Callable[[], None]:
    """Fails unless no order, score, case or label exists."""

    def check() -> None:
        counts = {name: m.objects.count() for name, m in _WRITTEN_BY_REQUESTS.items()}
        assert counts == dict.fromkeys(_WRITTEN_BY_REQUESTS, 0)

    return check
