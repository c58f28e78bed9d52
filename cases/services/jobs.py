"""Background work a service asks for: a Celery task enqueued by its name.

Tasks call services (`cases/tasks.py`), so a service must not import the
tasks back: the two would form an import circle (`.importlinter`,
`services-not-tasks`). A service names the task it wants instead, and the
Celery app's registry finds it. The registry, not `app.send_task`: a task
from the registry runs in place under `CELERY_TASK_ALWAYS_EAGER` (the tests),
a message sent by name never would.
"""

from __future__ import annotations

import threading

from celery import Task
from django.db import transaction

from riskreview.celery import app

_discovery = threading.Lock()


def task_enqueue_after_commit(name: str, *ids: int) -> None:
    """Enqueue the task registered as `name` with `ids` once the current
    transaction commits (at once outside a transaction), never before
    (STYLE 11: ids only, never model instances).

    The name is looked up now, inside the transaction: a task that is not
    registered fails the caller, not a callback after commit."""
    task = _registered(name)
    transaction.on_commit(lambda: task.delay(*ids))


def _registered(name: str) -> Task:
    # Only a worker discovers the tasks modules on its own (when it starts):
    # a web process that has not imported them yet discovers them here, once.
    # Under the lock, as Celery's discovery returns at once while another
    # thread is still importing.
    with _discovery:
        if name not in app.tasks:
            app.autodiscover_tasks(force=True)
    return app.tasks[name]
