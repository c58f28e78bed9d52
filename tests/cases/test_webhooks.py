"""Decision webhooks against a real HTTP receiver on 127.0.0.1."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cases.models import WebhookDelivery
from cases.services.webhooks import (
    ORDER_WAIT_SECONDS,
    SIGNATURE_HEADER,
    signature_verify,
    webhook_attempt,
    webhook_endpoint_create,
    webhook_events_emit,
    webhook_replay,
    webhook_secret_rotate,
)
from tests.factories import OrderFactory


class Receiver:
    """Fails the first `failures` requests, then accepts; processes each event once."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.requests: list[tuple[dict, bytes]] = []
        self.processed: dict[str, dict] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                if receiver.failures > 0:
                    receiver.failures -= 1
                    self.send_response(503)
                else:
                    event = json.loads(body)
                    receiver.processed.setdefault(event["id"], event)  # dedup by id
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def order(db):
    return OrderFactory()


def _drain(delivery_id: int, limit: int = 20) -> int:
    """Attempt until done, as the Celery retries would; return the attempts made."""
    for n in range(1, limit + 1):
        if webhook_attempt(delivery_id) is None:
            return n
    raise AssertionError("delivery never finished")


def _emit(order, receiver, events=("case.decided",)):
    endpoint, secret = webhook_endpoint_create(
        order.client, receiver.url, events, actor="test"
    )
    (delivery_id,) = webhook_events_emit(order, "case.decided", {"label": "fraud"})
    return endpoint, secret, delivery_id


def test_failing_receiver_gets_exactly_one_event_processed(order, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 5
    receiver.failures = 3
    _endpoint, _secret, delivery_id = _emit(order, receiver)

    attempts = _drain(delivery_id)

    assert attempts == 4
    assert len(receiver.requests) == 4
    assert len(receiver.processed) == 1
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == "delivered"
    (event,) = receiver.processed.values()
    assert event["type"] == "case.decided"
    assert event["data"] == {"order_id": order.order_id, "label": "fraud"}
    # At-least-once: a second send of the same event is de-duplicated by its id.
    webhook_replay(delivery, actor="test")
    _drain(delivery_id)
    assert len(receiver.requests) == 5
    assert len(receiver.processed) == 1


def test_signature_verifies_with_the_secret_and_detects_tampering(order, receiver):
    _endpoint, secret, delivery_id = _emit(order, receiver)
    _drain(delivery_id)
    headers, body = receiver.requests[0]

    assert signature_verify(headers[SIGNATURE_HEADER], body, secret)
    assert not signature_verify(headers[SIGNATURE_HEADER], body, "whsec_wrong")
    assert not signature_verify(headers[SIGNATURE_HEADER], body + b" ", secret)
    assert headers["Idempotency-Key"] == json.loads(body)["id"]


def test_old_signature_is_refused_by_the_receiver(order, receiver):
    _endpoint, secret, delivery_id = _emit(order, receiver)
    _drain(delivery_id)
    headers, body = receiver.requests[0]
    sent_at = int(headers[SIGNATURE_HEADER].split(",")[0][2:])

    assert not signature_verify(
        headers[SIGNATURE_HEADER], body, secret, now=sent_at + 3600
    )


def test_both_secrets_sign_during_rotation(order, receiver):
    endpoint, old_secret, first = _emit(order, receiver)
    _drain(first)
    new_secret = webhook_secret_rotate(endpoint, actor="test")
    (delivery_id,) = webhook_events_emit(order, "case.decided", {"label": "legitimate"})

    _drain(delivery_id)

    headers, body = receiver.requests[-1]
    assert signature_verify(headers[SIGNATURE_HEADER], body, new_secret)
    assert signature_verify(headers[SIGNATURE_HEADER], body, old_secret)


def test_dead_letters_fill_and_replay(order, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.failures = 100
    _endpoint, _secret, delivery_id = _emit(order, receiver)

    _drain(delivery_id)

    dead = WebhookDelivery.objects.get(pk=delivery_id)
    assert (dead.status, dead.attempts) == ("dead", 3)
    assert dead.last_error == "HTTP 503"
    receiver.failures = 0
    webhook_replay(dead, actor="user:admin")
    _drain(delivery_id)
    assert WebhookDelivery.objects.get(pk=delivery_id).status == "delivered"
    assert len(receiver.processed) == 1


def test_events_of_one_order_are_delivered_in_order(order, receiver):
    _endpoint, _secret, first = _emit(order, receiver)
    (second,) = webhook_events_emit(order, "case.decided", {"label": "legitimate"})

    assert webhook_attempt(second) == ORDER_WAIT_SECONDS
    assert receiver.requests == []
    _drain(first)
    _drain(second)
    labels = [json.loads(body)["data"]["label"] for _h, body in receiver.requests]
    assert labels == ["fraud", "legitimate"]


def test_endpoint_not_subscribed_gets_nothing(order, receiver):
    webhook_endpoint_create(order.client, receiver.url, ["case.overridden"], actor="t")

    assert webhook_events_emit(order, "case.decided", {"label": "fraud"}) == []


def test_unreachable_receiver_is_retried_not_raised(order, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    webhook_endpoint_create(
        order.client, "http://127.0.0.1:9/x", ["case.decided"], actor="t"
    )
    (delivery_id,) = webhook_events_emit(order, "case.decided", {})

    assert webhook_attempt(delivery_id) is not None
    assert webhook_attempt(delivery_id) is None
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == "dead"
    assert (
        "ConnectionRefused" in delivery.last_error or "URLError" in delivery.last_error
    )
