"""Each tenant's active model, loaded once per process, and the decision it
implies. A tenant's orders are scored by its own champion only: a tenant
without one has no model (its orders are decided `review` and queued)."""

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
from models_ml.models import ModelVersion

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
# Per tenant id: the loaded model, when the database was last asked, health.
_cached: dict[int, LoadedModel] = {}
_checked_at: dict[int, float] = {}
_health: dict[int, ModelHealth] = {}


def active_model(tenant_id: int) -> LoadedModel | None:
    """The tenant's active version, re-checked at most every
    MODEL_REFRESH_SECONDS.

    Never raises for a bad model file: it keeps the last good model (see
    ModelHealth) and tries the active one again at the next check.
    """
    with _lock:
        now = time.monotonic()
        cached = _cached.get(tenant_id)
        fresh = now - _checked_at.get(tenant_id, -1e18) < settings.MODEL_REFRESH_SECONDS
        if cached is not None and fresh:
            return cached
        version = ModelVersion.objects.filter(
            tenant_id=tenant_id, status=ModelVersion.Status.ACTIVE
        ).first()
        if version is None:
            _cached.pop(tenant_id, None)
            _health[tenant_id] = ModelHealth(None, None)
        elif cached is None or cached.version_id != version.pk:
            try:
                loaded = model_version_load(version)
                loaded.explainer  # noqa: B018 - built now, not on a request
            except Exception as exc:  # a bad file must not take intake down
                serving = cached.version_id if cached else None
                log.error("model v%s cannot be loaded: %s", version.pk, exc)
                _health[tenant_id] = ModelHealth(version.pk, serving, str(exc)[:500])
            else:
                _cached[tenant_id] = loaded
                _health[tenant_id] = ModelHealth(version.pk, version.pk)
        _checked_at[tenant_id] = now
        return _cached.get(tenant_id)


def model_health(tenant_id: int) -> ModelHealth:
    """This process's view of the tenant's model, refreshed as
    `active_model(tenant_id)` would be."""
    active_model(tenant_id)
    return _health.get(tenant_id, ModelHealth(None, None))


def models_health() -> list[ModelHealth]:
    """The health of every tenant's active model (for /health/)."""
    tenants = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE)
    return [model_health(t) for t in tenants.values_list("tenant_id", flat=True)]


def active_model_recheck() -> None:
    """Ask the database at the next `active_model()` call of every tenant
    (after a promotion), keeping the loaded models as the last good ones."""
    with _lock:
        _checked_at.clear()


def active_model_forget() -> None:
    """Drop the loaded models too (tests, replays that switch databases)."""
    with _lock:
        _cached.clear()
        _checked_at.clear()
        _health.clear()


def decision_for(probability: float | None) -> str:
    """approve / review / decline under the configured policy."""
    from models_ml.policy import decision_policy

    return decision_policy().decision(probability)
