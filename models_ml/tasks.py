"""Celery tasks: thin wrappers over models_ml.services."""

from celery import shared_task

from models_ml import services
from models_ml.locks import TrainingInProgress


@shared_task(soft_time_limit=3000, time_limit=3300)
def model_train(force: bool = False) -> str:  # noqa: FBT001, FBT002 - task argument
    try:
        version = services.model_train(force=force)
    except TrainingInProgress:
        return "skipped: a training is already running"
    except services.TrainingDataError as exc:
        return f"not trained: {exc}"
    return f"v{version.pk} {version.status}"


@shared_task(soft_time_limit=3000, time_limit=3300)
def model_train_if_due() -> str:
    try:
        version = services.model_train_if_due()
    except TrainingInProgress:
        return "skipped: a training is already running"
    except services.TrainingDataError as exc:
        return f"not trained: {exc}"
    return "not due" if version is None else f"v{version.pk} {version.status}"
