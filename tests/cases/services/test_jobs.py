"""Services enqueue tasks by their registered name, after commit."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery.exceptions import NotRegistered
from django.db import connection

import cases.tasks
from cases.services.jobs import task_enqueue_after_commit

REPO = Path(__file__).resolve().parents[3]

# A web process: Django set up, the tasks modules never imported by anyone.
_WEB_PROCESS = """
import json, sys

import django

django.setup()
from celery.signals import before_task_publish
from django.db import transaction

from cases.services.jobs import task_enqueue_after_commit

imported = "cases.tasks" in sys.modules
sent = []
before_task_publish.connect(
    lambda sender, body, **_: sent.append([sender, list(body[0])]), weak=False
)
with transaction.atomic():
    task_enqueue_after_commit("cases.tasks.webhook_deliver", 7)
    before_commit = list(sent)
print(json.dumps([imported, before_commit, sent]))
"""


@pytest.fixture
def delayed(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    monkeypatch.setattr(
        cases.tasks.cases_rescore, "delay", lambda *args: calls.append(args)
    )
    return calls


@pytest.mark.django_db
def test_the_task_is_enqueued_with_its_ids_only_after_commit(
    delayed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        task_enqueue_after_commit("cases.tasks.cases_rescore", 3)
        assert delayed == []

    for callback in callbacks:
        callback()
    assert delayed == [(3,)]


@pytest.mark.django_db
def test_an_unregistered_name_fails_in_the_transaction_not_after_commit(
    django_capture_on_commit_callbacks,
):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(NotRegistered),
    ):
        task_enqueue_after_commit("cases.tasks.no_such_task", 3)
    assert callbacks == []


@pytest.mark.django_db
def test_a_process_that_never_imported_the_tasks_finds_them_by_name():
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "riskreview.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": "memory://",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    out = subprocess.run(
        [sys.executable, "-c", _WEB_PROCESS],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert out.returncode == 0, out.stderr
    imported, before_commit, sent = json.loads(out.stdout.splitlines()[-1])
    assert imported is False
    assert before_commit == []
    assert sent == [["cases.tasks.webhook_deliver", [7]]]
