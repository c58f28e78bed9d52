"""A real Celery worker on the real broker, against the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from riskreview.celery import app

REPO = Path(__file__).resolve().parents[2]


def wait_for(check: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Worker:
    def __init__(
        self, env: dict[str, str], log: Path, queues: str = "", name: str = "test"
    ) -> None:
        self.env, self.log = env, log
        self.queues = queues or ",".join(django_settings.CELERY_QUEUES_ALL)
        self.name = name
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "riskreview",
                "worker",
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                self.queues,
                "-n",
                f"{self.name}-{os.getpid()}@%h",
            ],
            cwd=REPO,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: b"ready" in self.log.read_bytes(), 60, "the worker to start")

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: a crash, not a shutdown."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def worker_env(tmp_path: Path, settings) -> dict[str, str]:
    db = connection.settings_dict
    model_dir = tmp_path / "models"
    settings.MODEL_DIR = model_dir
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "riskreview.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_VISIBILITY_TIMEOUT": "5",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "MODEL_DIR": str(model_dir),
        "RETRAIN_MIN_NEW_LABELS": "50",
    }
    app.conf.task_always_eager = False
    with app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()  # a clean test broker database
    return env


@pytest.fixture
def worker(transactional_db: None, tmp_path: Path, settings) -> Iterator[Worker]:
    env = worker_env(tmp_path, settings)
    worker = Worker(env, tmp_path / "worker.log")
    worker.start()
    yield worker
    worker.stop()
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
    print((tmp_path / "worker.log").read_text()[-3000:])  # noqa: T201 - shown on failure
