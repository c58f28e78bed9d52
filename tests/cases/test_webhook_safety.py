"""Webhooks never reach internal addresses, never hang a worker, and end.

Findings 1, 2 and 12 (invalid stored URI) of the second hardening round.
"""

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from cases.models import WebhookDelivery, WebhookEndpoint
from cases.services.webhooks import webhook_attempt, webhook_events_emit
from tests.factories import OrderFactory

INTERNAL_URLS = [
    "http://127.0.0.1:6379/",
    "http://169.254.169.254/latest/meta-data/",
    "http://localhost:8201/admin/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://0:0/",
    "http://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://224.0.0.1/hook",
]


@pytest.fixture
def no_allowed_hosts(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_webhook_to_an_internal_address_is_refused_at_save(api, no_allowed_hosts, url):
    response = api.post(
        "/api/v1/webhooks/", {"url": url, "events": ["case.decided"]}, format="json"
    )

    assert response.status_code == 400, response.content
    assert "url" in response.json()["extra"]["fields"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", ["http://0:0/%uZJgY", "https://shop.example/%zz"])
def test_webhook_url_with_an_invalid_percent_escape_is_refused(api, url):
    response = api.post(
        "/api/v1/webhooks/", {"url": url, "events": ["case.decided"]}, format="json"
    )

    assert response.status_code == 400
    assert not WebhookEndpoint.objects.exists()


class Receiver:
    """Answers every POST with `answer(handler)`; counts the requests."""

    def __init__(self, answer) -> None:
        self.hits = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.hits += 1
                answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _ok(handler) -> None:
    handler.send_response(204)
    handler.end_headers()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    started: list[Receiver] = []
    yield started
    for receiver in started:
        receiver.server.shutdown()


def _receiver(receivers: list[Receiver], answer=_ok) -> Receiver:
    receiver = Receiver(answer)
    receivers.append(receiver)
    return receiver


def _delivery_to(url: str) -> WebhookDelivery:
    """An endpoint stored as it might have been before the save-time check."""
    order = OrderFactory()
    WebhookEndpoint.objects.create(
        client=order.client, url=url, events=["case.decided"], secret="s" * 40
    )
    (delivery_id,) = webhook_events_emit(order, "case.decided", {"label": "fraud"})
    return WebhookDelivery.objects.get(pk=delivery_id)


def test_send_refuses_a_stored_url_that_resolves_to_loopback(
    db, receivers, no_allowed_hosts
):
    receiver = _receiver(receivers)
    delivery = _delivery_to(receiver.url)

    webhook_attempt(delivery.pk)

    delivery.refresh_from_db()
    assert receiver.hits == 0
    assert "non-public address" in delivery.last_error
    assert delivery.attempts == 1


def test_redirects_are_not_followed(db, receivers):
    target = _receiver(receivers)

    def redirect(handler) -> None:
        handler.send_response(307)
        handler.send_header("Location", target.url)
        handler.end_headers()

    delivery = _delivery_to(_receiver(receivers, redirect).url)

    webhook_attempt(delivery.pk)

    delivery.refresh_from_db()
    assert target.hits == 0
    assert delivery.last_error == "HTTP 307"
    assert delivery.status == WebhookDelivery.Status.PENDING


def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_deadline(
    db, receivers, settings
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5

    def trickle(handler) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.2)

    delivery = _delivery_to(_receiver(receivers, trickle).url)

    webhook_attempt(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.last_error.startswith("TimeoutError")


def test_a_time_limit_during_the_send_counts_as_a_failed_attempt(db, receivers):
    delivery = _delivery_to(_receiver(receivers).url)

    def hung(url: str, body: bytes, headers: dict) -> int:
        raise SoftTimeLimitExceeded()

    webhook_attempt(delivery.pk, post=hung)

    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.last_error.startswith("SoftTimeLimitExceeded")


def test_an_attempt_killed_mid_send_is_still_counted(db, receivers):
    delivery = _delivery_to(_receiver(receivers).url)

    def killed(url: str, body: bytes, headers: dict) -> int:
        raise SystemExit("worker killed")

    with pytest.raises(SystemExit):
        webhook_attempt(delivery.pk, post=killed)

    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_a_receiver_that_never_answers_ends_as_a_dead_letter(db, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections, never reads or answers
    delivery = _delivery_to(f"http://127.0.0.1:{listener.getsockname()[1]}/")
    try:
        for _ in range(5):
            if webhook_attempt(delivery.pk) is None:
                break
    finally:
        listener.close()

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DEAD
    assert delivery.attempts == 3


def test_deleting_an_endpoint_cancels_its_pending_deliveries(api, receivers):
    receiver = _receiver(receivers)
    endpoint_id = api.post(
        "/api/v1/webhooks/",
        {"url": receiver.url, "events": ["case.decided"]},
        format="json",
    ).json()["id"]
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    order = OrderFactory(client=endpoint.client)
    (delivery_id,) = webhook_events_emit(order, "case.decided", {"label": "fraud"})

    assert api.delete(f"/api/v1/webhooks/{endpoint_id}/").status_code == 204
    webhook_attempt(delivery_id)

    assert receiver.hits == 0
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == WebhookDelivery.Status.CANCELLED


def test_a_delivery_of_an_inactive_endpoint_is_cancelled_not_sent(db, receivers):
    receiver = _receiver(receivers)
    delivery = _delivery_to(receiver.url)
    WebhookEndpoint.objects.update(active=False)

    assert webhook_attempt(delivery.pk) is None

    delivery.refresh_from_db()
    assert receiver.hits == 0
    assert delivery.status == WebhookDelivery.Status.CANCELLED
