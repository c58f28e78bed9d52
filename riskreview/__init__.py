import os

# One OpenMP thread per process: web and worker processes already run one per
# core, and scikit-learn's parallel prediction of a single row oversubscribes
# the CPU (measured: p99 of a one-row predict 1.9 s instead of 8 ms under
# gunicorn). Training asks for TRAINING_THREADS explicitly.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from riskreview.celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
