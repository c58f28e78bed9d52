"""The Celery app. Periodic jobs are declared here and nowhere else."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "riskreview.settings")

app = Celery("riskreview")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    sender.conf.beat_schedule = {
        "retrain-nightly": {
            "task": "models_ml.tasks.model_train",
            "schedule": crontab(hour=settings.RETRAIN_NIGHTLY_HOUR, minute=0),
        },
        "retrain-when-enough-new-labels": {
            "task": "models_ml.tasks.model_train_if_due",
            "schedule": settings.RETRAIN_CHECK_MINUTES * 60.0,
        },
        "webhook-sweep": {
            "task": "cases.tasks.webhook_deliveries_sweep",
            "schedule": 60.0,
        },
        "retention": {
            "task": "cases.tasks.orders_purge",
            "schedule": crontab(hour=3, minute=30),
        },
        "feature-tiles-expire": {
            "task": "cases.tasks.feature_tiles_expire",
            "schedule": crontab(minute=17),
        },
        "matured-labels": {
            "task": "cases.tasks.labels_mature",
            "schedule": crontab(minute=47),
        },
        "queue-mix": {
            "task": "cases.tasks.queue_mix_fill",
            "schedule": settings.QUEUE_MIX_MINUTES * 60.0,
        },
    }


@worker_ready.connect
def _recover(**kwargs: object) -> None:
    """A worker killed mid-training left its version 'training': fail it now,
    not when the broker redelivers the task (the visibility timeout)."""
    from django.db import connection

    from models_ml.services import trainings_abandoned_recover

    try:
        trainings_abandoned_recover()
    finally:
        connection.close()  # the main process does no other database work
