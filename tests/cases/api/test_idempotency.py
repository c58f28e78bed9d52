"""Idempotency-Key: Stripe's semantics, per API client."""

import contextlib
import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.exceptions import APIException

from cases.models import IdempotencyRecord, Label, Order
from cases.services.idempotency import request_fingerprint
from tests.factories import OrderFactory, order_payload

ORDERS = "/api/v1/orders/"
BATCH = "/api/v1/orders/batch/"


def _body(**overrides: object) -> bytes:
    return json.dumps(order_payload(**overrides)).encode()


def _batch(*order_ids: str) -> bytes:
    orders = [order_payload(order_id=order_id) for order_id in order_ids]
    return json.dumps({"orders": orders}).encode()


def _key(key: str) -> dict[str, str]:
    return {"HTTP_IDEMPOTENCY_KEY": key}


def test_idempotency_key_replays_first_response_byte_for_byte(post_bytes):
    first = post_bytes(ORDERS, _body(), **_key("k-1"))
    again = post_bytes(ORDERS, _body(), **_key("k-1"))

    assert first.status_code == 201
    assert again.status_code == 201
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_request_without_key_is_not_a_replay(post_bytes):
    post_bytes(ORDERS, _body())
    again = post_bytes(ORDERS, _body())

    assert again.status_code == 200
    assert again.json()["created"] is False
    assert "Idempotent-Replayed" not in again


def test_idempotency_key_with_different_body_is_422(post_bytes):
    post_bytes(ORDERS, _body(order_id="first"), **_key("k-1"))

    response = post_bytes(ORDERS, _body(order_id="second"), **_key("k-1"))

    assert response.status_code == 422
    assert response.json()["extra"] == {"code": "idempotency_mismatch"}
    assert list(Order.objects.values_list("order_id", flat=True)) == ["first"]


def test_idempotency_key_on_another_endpoint_is_422(post_bytes):
    post_bytes(ORDERS, _body(), **_key("k-1"))

    response = post_bytes(BATCH, _batch("web-1001"), **_key("k-1"))

    assert response.status_code == 422


@contextlib.contextmanager
def _running_elsewhere(client, key: str):
    """Another request, on its own connection, holding `key` while it runs."""
    from cases.services.idempotency import _lock

    held, done = threading.Event(), threading.Event()
    state = {"acquired": False}

    def run() -> None:
        try:
            state["acquired"] = _lock(client, key, "pg_try_advisory_lock")
            held.set()
            done.wait(30)
            _lock(client, key, "pg_advisory_unlock")
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    held.wait(30)
    try:
        yield state
    finally:
        done.set()
        thread.join()


def test_idempotency_key_in_flight_is_409(post_bytes, client_and_token):
    client, _token = client_and_token
    body = _body()
    IdempotencyRecord.objects.create(
        client=client, key="k-1", fingerprint=request_fingerprint("POST", ORDERS, body)
    )

    with _running_elsewhere(client, "k-1"):
        response = post_bytes(ORDERS, body, **_key("k-1"))

    assert response.status_code == 409
    assert response.json()["extra"] == {"code": "idempotency_in_flight"}
    assert not Order.objects.exists()


def test_key_of_a_request_that_died_just_now_is_processed_at_once(
    post_bytes, client_and_token
):
    client, _token = client_and_token
    body = _body()
    IdempotencyRecord.objects.create(
        client=client, key="k-1", fingerprint=request_fingerprint("POST", ORDERS, body)
    )  # in flight, but no live request holds it: its process was killed

    response = post_bytes(ORDERS, body, **_key("k-1"))

    assert response.status_code == 201
    assert Order.objects.count() == 1


def test_key_is_free_again_after_the_request_ends(post_bytes, client_and_token):
    client, _token = client_and_token
    post_bytes(ORDERS, _body(), **_key("k-1"))

    with _running_elsewhere(client, "k-1") as elsewhere:
        assert elsewhere["acquired"]  # this connection no longer holds it


def test_idempotency_key_abandoned_in_flight_is_processed(post_bytes, client_and_token):
    client, _token = client_and_token
    body = _body()
    record = IdempotencyRecord.objects.create(
        client=client, key="k-1", fingerprint=request_fingerprint("POST", ORDERS, body)
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        created_at=timezone.now() - timedelta(minutes=6)
    )

    response = post_bytes(ORDERS, body, **_key("k-1"))

    assert response.status_code == 201
    assert IdempotencyRecord.objects.get().completed_at is not None


def test_crash_is_not_stored_so_a_retry_is_processed(post_bytes, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("scoring crashed")

    with monkeypatch.context() as patch:
        patch.setattr("cases.apis.orders_ingest", crash)
        with pytest.raises(RuntimeError):
            post_bytes(ORDERS, _body(), **_key("k-1"))
    assert not IdempotencyRecord.objects.exists()

    retry = post_bytes(ORDERS, _body(), **_key("k-1"))

    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert Order.objects.count() == 1


def test_server_error_response_is_not_replayed(post_bytes, monkeypatch):
    def unavailable(*args, **kwargs):
        raise APIException("try later")

    with monkeypatch.context() as patch:
        patch.setattr("cases.apis.orders_ingest", unavailable)
        failed = post_bytes(ORDERS, _body(), **_key("k-1"))

    retry = post_bytes(ORDERS, _body(), **_key("k-1"))

    assert failed.status_code == 500
    assert retry.status_code == 201


def test_refused_request_is_replayed_not_processed_again(post_bytes):
    first = post_bytes(ORDERS, _body(amount="-1"), **_key("k-1"))
    again = post_bytes(ORDERS, _body(amount="-1"), **_key("k-1"))

    assert first.status_code == again.status_code == 400
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"


def test_same_key_from_another_client_is_independent(post_bytes, other_api):
    mine = post_bytes(ORDERS, _body(), **_key("k-1"))
    theirs = other_api.generic(
        "POST", ORDERS, _body(), content_type="application/json", **_key("k-1")
    )

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs
    assert Order.objects.filter(order_id="web-1001").count() == 2
    assert IdempotencyRecord.objects.count() == 2


def test_batch_replays_first_response_byte_for_byte(post_bytes):
    first = post_bytes(BATCH, _batch("a-1", "a-2"), **_key("k-1"))
    again = post_bytes(BATCH, _batch("a-1", "a-2"), **_key("k-1"))

    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert [r["created"] for r in again.json()["results"]] == [True, True]
    assert Order.objects.count() == 2


def test_batch_idempotency_key_with_different_body_is_422(post_bytes):
    post_bytes(BATCH, _batch("a-1"), **_key("k-1"))

    response = post_bytes(BATCH, _batch("a-1", "a-2"), **_key("k-1"))

    assert response.status_code == 422
    assert Order.objects.count() == 1


def test_outcome_replays_first_response_byte_for_byte(post_bytes, client_and_token):
    client, _token = client_and_token
    OrderFactory(client=client, order_id="o-1")
    path = "/api/v1/orders/o-1/outcomes/"
    body = b'{"outcome": "chargeback"}'

    first = post_bytes(path, body, **_key("k-1"))
    again = post_bytes(path, body, **_key("k-1"))

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert Label.objects.count() == 1


@pytest.mark.parametrize(
    "key", ["k" * 256, "a\x00b", "line\nbreak"], ids=["too-long", "nul", "newline"]
)
def test_unusable_idempotency_key_is_400(key, post_bytes, assert_nothing_stored):
    response = post_bytes(ORDERS, _body(), **_key(key))

    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["Idempotency-Key"]
    assert not IdempotencyRecord.objects.exists()
    assert_nothing_stored()
