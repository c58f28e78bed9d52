"""Concurrent batches that share order ids neither deadlock nor fail
(finding 6 of the second hardening round)."""

import threading

import psycopg
import pytest
from django.db import OperationalError, connection

from cases.models import Case, Order
from cases.schemas import OrderIn
from cases.services import intake
from cases.services.clients import api_client_create
from tests.factories import order_payload


def _batch(n: int) -> list[OrderIn]:
    return [
        OrderIn.model_validate(order_payload(order_id=f"o-{i:04d}")) for i in range(n)
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_overlapping_batches_in_opposite_orders_all_succeed():
    client, _token = api_client_create("shop-a")
    errors: list[BaseException] = []
    rounds, size = 6, 150

    def send(payloads: list[OrderIn]) -> None:
        try:
            intake.orders_ingest(client, payloads, explain_all=False)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    for r in range(rounds):
        batch = [
            OrderIn.model_validate(order_payload(order_id=f"r{r}-{i:04d}"))
            for i in range(size)
        ]
        threads = [
            threading.Thread(target=send, args=(batch,)),
            threading.Thread(target=send, args=(batch[::-1],)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    assert errors == []
    assert Order.objects.count() == rounds * size
    assert Case.objects.count() == rounds * size  # no model: every order queued


@pytest.mark.django_db
def test_a_deadlock_is_retried(monkeypatch):
    client, _token = api_client_create("shop-a")
    real = intake._ingest_once
    calls = []

    def deadlock_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError(
                "deadlock detected"
            ) from psycopg.errors.DeadlockDetected()
        return real(*args, **kwargs)

    monkeypatch.setattr(intake, "_ingest_once", deadlock_once)

    results = intake.orders_ingest(client, _batch(3), explain_all=False)

    assert len(calls) == 2
    assert [r.created for r in results] == [True, True, True]
