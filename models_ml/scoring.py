"""The active model, loaded once per process, and the decision it implies."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from models_ml.artifacts import ArtifactError, artifact_load
from models_ml.models import ModelVersion, Score


@dataclass
class LoadedModel:
    version_id: int
    model: Any
    feature_names: list[str]
    _explainer: Any = field(default=None, repr=False)

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """Fraud probabilities, one per row."""
        probabilities: np.ndarray = self.model.predict_proba(rows)[:, 1]
        return probabilities

    @property
    def explainer(self) -> Any:
        if self._explainer is None:
            from models_ml.explanations import explainer_build

            self._explainer = explainer_build(self.model)
        return self._explainer


def model_version_load(version: ModelVersion) -> LoadedModel:
    """Load a version's file, refusing a checksum or library-version mismatch."""
    import sklearn

    if version.sklearn_version != sklearn.__version__:
        raise ArtifactError(
            f"model v{version.pk} was trained with scikit-learn "
            f"{version.sklearn_version}, this process has {sklearn.__version__}"
        )
    model = artifact_load(Path(version.artifact_path), version.sha256)
    return LoadedModel(version.pk, model, list(version.feature_names))


_lock = threading.Lock()
_cached: LoadedModel | None = None
_checked_at = 0.0


def active_model() -> LoadedModel | None:
    """The active version, re-checked at most every MODEL_REFRESH_SECONDS."""
    global _cached, _checked_at
    with _lock:
        now = time.monotonic()
        if _cached is not None and now - _checked_at < settings.MODEL_REFRESH_SECONDS:
            return _cached
        version = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
        if version is None:
            _cached = None
        elif _cached is None or _cached.version_id != version.pk:
            _cached = model_version_load(version)
            _cached.explainer  # noqa: B018 - built now, not on a request
        _checked_at = now
        return _cached


def active_model_forget() -> None:
    """Make the next `active_model()` call ask the database (after a promotion)."""
    global _cached, _checked_at
    with _lock:
        _cached, _checked_at = None, 0.0


def decision_for(probability: float | None) -> str:
    """approve / review / decline by the configured thresholds."""
    if probability is None:
        return Score.Decision.REVIEW
    if probability >= settings.RISK_DECLINE_THRESHOLD:
        return Score.Decision.DECLINE
    if probability >= settings.RISK_REVIEW_THRESHOLD:
        return Score.Decision.REVIEW
    return Score.Decision.APPROVE
