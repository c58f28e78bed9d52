"""Each kind of work has its own queue and worker: a hung webhook receiver does
not delay a training (finding 2 of the second hardening round)."""

import re
import socket
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from cases.models import WebhookDelivery, WebhookEndpoint
from cases.services.webhooks import webhook_events_emit
from cases.tasks import model_train
from models_ml.models import ModelVersion
from riskreview.celery import app
from tests.factories import LabelFactory, OrderFactory, TenantFactory
from tests.worker.conftest import REPO, Worker, wait_for, worker_env

QUEUE_FLAG = re.compile(r"(?:-Q|--queues)[ =\"',]+([a-z,]+)")


def _queues_started_by(path: Path) -> set[str]:
    queues: set[str] = set()
    for match in QUEUE_FLAG.finditer(path.read_text()):
        queues.update(match.group(1).split(","))
    return queues


@pytest.mark.parametrize("name", ["Procfile", "docker-compose.yml"])
def test_every_queue_has_a_worker_process(name):
    assert _queues_started_by(REPO / name) == set(django_settings.CELERY_QUEUES_ALL)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_hung_webhook_receiver_does_not_delay_a_training(tmp_path, settings):
    env = {**worker_env(tmp_path, settings), "WEBHOOK_TIMEOUT_SECONDS": "300"}
    workers = [
        Worker(env, tmp_path / f"{queue}.log", queues=queue, name=queue)
        for queue in ("webhooks", "training")
    ]
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)  # accepts the connection, then never reads or answers
    hung.settimeout(90)
    try:
        for worker in workers:
            worker.start()
        order = OrderFactory()
        LabelFactory(order=order)  # a tenant with a label: the training runs
        WebhookEndpoint.objects.create(
            client=order.client,
            url=f"http://127.0.0.1:{hung.getsockname()[1]}/hook",
            events=["case.decided"],
            secret="s" * 40,
        )
        (delivery_id,) = webhook_events_emit(order, "case.decided", {"label": "x"})
        connection, _ = hung.accept()  # the webhook worker is now stuck sending

        model_train.delay()

        wait_for(
            lambda: ModelVersion.objects.filter(
                status=ModelVersion.Status.FAILED
            ).exists(),
            60,
            "the training task to run (it fails: too few labels)",
        )
        delivery = WebhookDelivery.objects.get(pk=delivery_id)
        assert delivery.status == WebhookDelivery.Status.PENDING
        assert delivery.last_error.startswith("no answer")  # still in flight
        connection.close()
    finally:
        hung.close()
        for worker in workers:
            worker.kill()
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_training_left_by_a_killed_worker_is_failed_when_a_worker_starts(
    tmp_path, settings
):
    stuck = ModelVersion.objects.create(
        status=ModelVersion.Status.TRAINING, tenant=TenantFactory()
    )
    worker = Worker(worker_env(tmp_path, settings), tmp_path / "w.log", "training")
    try:
        worker.start()

        wait_for(
            lambda: ModelVersion.objects.filter(
                pk=stuck.pk, status=ModelVersion.Status.FAILED
            ).exists(),
            30,
            "the abandoned training to be failed",
        )
    finally:
        worker.kill()
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


def test_the_broker_redelivers_only_after_the_longest_task_limit():
    from cases.tasks import model_train as task

    assert task.time_limit < django_settings.CELERY_VISIBILITY_TIMEOUT
    assert task.time_limit <= django_settings.CELERY_LONGEST_TASK_SECONDS
