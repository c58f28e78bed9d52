"""The Celery app. Periodic jobs are declared here and nowhere else."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "riskreview.settings")

app = Celery("riskreview")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
