"""Bad input is refused with a 4xx that says what is wrong, and stores nothing."""

import json

import pytest

from cases.models import Order
from tests.factories import order_payload

ORDERS = "/api/v1/orders/"
BATCH = "/api/v1/orders/batch/"


def _json(data: object) -> bytes:
    return json.dumps(data).encode()


def _nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def _fields(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["message"] == "Validation error"
    return body["extra"]["fields"]


@pytest.mark.parametrize("key", [None, "k-1"], ids=["plain", "idempotency-key"])
def test_body_above_upload_limit_is_413(
    key, post_bytes, settings, assert_nothing_stored
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    body = _json(order_payload(attributes={"padding": "x" * 1_000}))
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}

    response = post_bytes(ORDERS, body, **headers)

    assert response.status_code == 413
    assert response.json()["extra"] == {"code": "payload_too_large"}
    assert_nothing_stored()


def test_body_at_upload_limit_is_accepted(post_bytes, settings):
    body = _json(order_payload())
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(body)

    assert post_bytes(ORDERS, body).status_code == 201


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml"],
)
def test_body_that_is_not_json_is_415(content_type, post_bytes, assert_nothing_stored):
    response = post_bytes(ORDERS, _json(order_payload()), content_type=content_type)

    assert response.status_code == 415
    assert set(response.json()) == {"message", "extra"}
    assert_nothing_stored()


@pytest.mark.parametrize(
    "body",
    [
        b'{"order_id": "a",',
        b"\xff\xfe{}",
        b'{"amount": NaN}',
        b'{"amount": 1e-400}',
        b'{"item_count": 1' + b"0" * 5_000 + b"}",
    ],
    ids=["truncated", "not-utf8", "nan", "underflow", "huge-integer"],
)
def test_malformed_json_is_400(body, post_bytes, assert_nothing_stored):
    response = post_bytes(ORDERS, body)

    assert response.status_code == 400
    assert response.json()["message"].startswith("JSON parse error")
    assert_nothing_stored()


@pytest.mark.parametrize("path", [ORDERS, BATCH])
def test_deeply_nested_json_is_400(path, post_bytes, assert_nothing_stored):
    order = order_payload(attributes=_nested(50))
    body = order if path == ORDERS else {"orders": [order]}

    response = post_bytes(path, _json(body))

    assert response.status_code == 400
    assert "nested deeper than" in response.json()["message"]
    assert_nothing_stored()


def test_json_that_is_not_an_object_is_400(post_bytes, assert_nothing_stored):
    assert _fields(post_bytes(ORDERS, b"[]")) == {
        "non_field_errors": ["Expected a JSON object."]
    }
    assert_nothing_stored()


def test_empty_body_lists_every_missing_required_field(
    post_bytes, assert_nothing_stored
):
    fields = _fields(post_bytes(ORDERS, b""))

    assert set(fields) == {"order_id", "created_at", "amount", "customer_id"}
    assert all(messages == ["Field required"] for messages in fields.values())
    assert_nothing_stored()


def test_missing_required_fields_are_listed(post_bytes, assert_nothing_stored):
    payload = order_payload()
    del payload["amount"], payload["customer_id"]

    assert set(_fields(post_bytes(ORDERS, _json(payload)))) == {"amount", "customer_id"}
    assert_nothing_stored()


# field → a bad value for it, and why it is bad.
BAD_VALUES = {
    "nul in text": ("customer_id", "cust\x00-17"),
    "nul in attribute value": ("attributes", {"k": "a\x00b"}),
    "nul in attribute key": ("attributes", {"a\x00b": "v"}),
    "lone surrogate": ("customer_id", "cust\ud800"),
    "amount as list": ("amount", [1]),
    "amount negative": ("amount", "-0.01"),
    "amount with three decimals": ("amount", "1.005"),
    "amount too large": ("amount", "1e12"),
    "item_count as word": ("item_count", "many"),
    "item_count zero": ("item_count", 0),
    "customer_id as number": ("customer_id", 17),
    "attributes as list": ("attributes", ["promo"]),
    "attribute value too long": ("attributes", {"k": "x" * 501}),
    "attributes too many": ("attributes", {f"k{i}": i for i in range(51)}),
    "nested attribute": ("attributes", {"k": {"nested": 1}}),
    "channel unknown": ("channel", "fax"),
    "currency lowercase": ("currency", "eur"),
    "country name": ("billing_country", "Germany"),
    "email without at": ("email", "ana.example.com"),
    "ip address": ("ip_address", "300.1.1.1"),
    "ipv6 zone index": ("ip_address", "fe80::1%" + "e" * 60),
    "order_id with space": ("order_id", "web 1001"),
    "order_id too long": ("order_id", "a" * 65),
    "naive created_at": ("created_at", "2026-03-02T12:00:00"),
    "created_at not a date": ("created_at", "yesterday"),
    "created_at beyond utc range": ("created_at", "9999-12-31T23:59:59-23:00"),
    "created_at before year 1": ("created_at", "0001-01-01T00:00:00+01:00"),
    "created_at before 1970": ("created_at", "1969-12-31T23:59:59Z"),
    "naive account_created_at": ("account_created_at", "2025-01-10T08:00:00"),
}


@pytest.mark.parametrize("case", BAD_VALUES)
def test_bad_value_is_400_naming_the_field(case, post_bytes, assert_nothing_stored):
    field, value = BAD_VALUES[case]
    # ensure_ascii keeps a lone surrogate encodable as an escape.
    body = json.dumps(order_payload(**{field: value})).encode()

    fields = _fields(post_bytes(ORDERS, body))

    assert [name.split(".")[0] for name in fields] == [field]
    assert_nothing_stored()


def test_bad_value_in_batch_names_order_and_field(post_bytes, assert_nothing_stored):
    orders = [order_payload(order_id=f"o-{i}") for i in range(3)]
    orders[2]["customer_id"] = "cust\x00"

    fields = _fields(post_bytes(BATCH, _json({"orders": orders})))

    assert list(fields) == ["orders.2.customer_id"]
    assert_nothing_stored()


def test_unknown_top_level_field_is_refused(post_bytes, assert_nothing_stored):
    body = _json(order_payload(risk_score=0.0))

    assert _fields(post_bytes(ORDERS, body)) == {
        "risk_score": ["Extra inputs are not permitted"]
    }
    assert_nothing_stored()


def test_batch_over_1000_orders_is_400(post_bytes, assert_nothing_stored):
    orders = [order_payload(order_id=f"o-{i}") for i in range(1_001)]

    fields = _fields(post_bytes(BATCH, _json({"orders": orders})))

    assert list(fields) == ["orders"]
    assert_nothing_stored()


def test_empty_batch_is_400(post_bytes, assert_nothing_stored):
    assert list(_fields(post_bytes(BATCH, _json({"orders": []})))) == ["orders"]
    assert_nothing_stored()


def test_duplicate_order_id_inside_a_batch_is_stored_once(post_bytes):
    orders = [order_payload(order_id=i) for i in ("o-1", "o-2", "o-1")]

    response = post_bytes(BATCH, _json({"orders": orders}))

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["created"] for r in results] == [True, True, False]
    assert results[2]["case_id"] == results[0]["case_id"]
    assert Order.objects.count() == 2


def test_account_created_after_the_order_is_stored_as_given(post_bytes):
    body = _json(order_payload(account_created_at="2026-03-02T12:00:01Z"))

    response = post_bytes(ORDERS, body)

    assert response.status_code == 201
    assert Order.objects.get().account_created_at.second == 1
