"""Train → promote → re-score: the review side drives the model registry.

The registry (`models_ml.services`) fits, evaluates and promotes on frames it
is handed; what a promotion means for the review queue (open cases and recent
orders scored again, a rollback in the audit log) is decided here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from cases.datasets import training_set
from cases.models import Label
from cases.services.audit import audit_record
from models_ml.models import ModelVersion
from models_ml.services import model_promote, model_train


def model_retrain(*, force: bool = False, params: dict | None = None) -> ModelVersion:
    """Train a challenger on every label known now; re-score if it was promoted.

    Raises TrainingDataError (too few labels, or none new unless `force`) and
    TrainingInProgress (another training holds the lock).
    """
    version = model_train(training_set, force=force, params=params)
    if version.status == ModelVersion.Status.ACTIVE:
        rescore_after_commit()
    return version


def model_retrain_if_due() -> ModelVersion | None:
    """Train when RETRAIN_MIN_NEW_LABELS labels arrived since the last model."""
    if labels_since_last_training() < settings.RETRAIN_MIN_NEW_LABELS:
        return None
    return model_retrain()


def labels_since_last_training() -> int:
    """Labels created since the newest training that produced a model."""
    last = (
        ModelVersion.objects.exclude(
            status__in=[ModelVersion.Status.FAILED, ModelVersion.Status.TRAINING]
        )
        .order_by("-created_at")
        .first()
    )
    labels = Label.objects.all()
    if last is not None:
        labels = labels.filter(created_at__gt=last.created_at)
    return labels.count()


def model_rollback(version_id: int, *, actor: str) -> ModelVersion:
    """Make an earlier version active again (it must have been trained fine),
    audited, and re-score with it."""
    previous = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    version = model_promote(version_id, reason=f"rollback by {actor}")
    audit_record(
        actor,
        "model.rollback",
        version,
        before={"active": previous.pk if previous else None},
        after={"active": version.pk},
    )
    rescore_after_commit()
    return version


def rescore_after_commit() -> None:
    """Enqueue the re-scoring of open cases and recent orders once committed."""
    from cases.tasks import cases_rescore

    transaction.on_commit(lambda: cases_rescore.delay())
