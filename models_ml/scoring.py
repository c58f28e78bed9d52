"""The active model, loaded once per process, and the decision it implies."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from models_ml.artifacts import ArtifactError, artifact_load
from models_ml.models import ModelVersion, Score

log = logging.getLogger(__name__)


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


def model_version_verify(version: ModelVersion) -> LoadedModel:
    """Load a version and score a probe row: what activation requires.

    Raises ArtifactError when the file is missing, altered or unreadable, or
    the loaded model cannot score."""
    loaded = model_version_load(version)
    try:
        loaded.predict(np.zeros((1, len(loaded.feature_names))))
    except Exception as exc:
        raise ArtifactError(f"model v{version.pk} cannot score: {exc}") from exc
    return loaded


@dataclass(frozen=True)
class ModelHealth:
    """What this process scores with. `error` is set when the active version's
    file cannot be loaded: orders are then scored by `serving_version` (the
    last good model), or, with none, decided `review` and queued (NO_MODEL)."""

    active_version: int | None
    serving_version: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


_lock = threading.Lock()
_cached: LoadedModel | None = None
_checked_at = 0.0
_health = ModelHealth(None, None)


def active_model() -> LoadedModel | None:
    """The active version, re-checked at most every MODEL_REFRESH_SECONDS.

    Never raises for a bad model file: it keeps the last good model (see
    ModelHealth) and tries the active one again at the next check.
    """
    global _cached, _checked_at, _health
    with _lock:
        now = time.monotonic()
        if _cached is not None and now - _checked_at < settings.MODEL_REFRESH_SECONDS:
            return _cached
        version = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
        if version is None:
            _cached, _health = None, ModelHealth(None, None)
        elif _cached is None or _cached.version_id != version.pk:
            try:
                loaded = model_version_load(version)
                loaded.explainer  # noqa: B018 - built now, not on a request
            except Exception as exc:  # a bad file must not take intake down
                serving = _cached.version_id if _cached else None
                log.error("model v%s cannot be loaded: %s", version.pk, exc)
                _health = ModelHealth(version.pk, serving, str(exc)[:500])
            else:
                _cached, _health = loaded, ModelHealth(version.pk, version.pk)
        _checked_at = now
        return _cached


def model_health() -> ModelHealth:
    """This process's view, refreshed as `active_model()` would be."""
    active_model()
    return _health


def active_model_recheck() -> None:
    """Ask the database at the next `active_model()` call (after a promotion),
    keeping the loaded model as the last good one."""
    global _checked_at
    with _lock:
        _checked_at = 0.0


def active_model_forget() -> None:
    """Drop the loaded model too (tests, replays that switch databases)."""
    global _cached, _checked_at, _health
    with _lock:
        _cached, _checked_at, _health = None, 0.0, ModelHealth(None, None)


def decision_for(probability: float | None) -> str:
    """approve / review / decline by the configured thresholds."""
    if probability is None:
        return Score.Decision.REVIEW
    if probability >= settings.RISK_DECLINE_THRESHOLD:
        return Score.Decision.DECLINE
    if probability >= settings.RISK_REVIEW_THRESHOLD:
        return Score.Decision.REVIEW
    return Score.Decision.APPROVE
