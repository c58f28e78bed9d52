"""Scoring, training and promotion: the model registry's write side.

The registry knows nothing of cases: the review side reads orders and labels
into frames and hands them in (`scores_compute`, `model_train`), and it
orchestrates what follows a promotion (re-scoring, audit).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from models_ml.artifacts import ArtifactError
from models_ml.explanations import explanations_compute
from models_ml.features import FEATURE_NAMES, FEATURE_VERSION
from models_ml.frames import to_ms
from models_ml.gate import (
    HELD,
    PROMOTE,
    GatePolicy,
    GateResult,
    GateSample,
    gate_compare,
)
from models_ml.locks import TrainingInProgress, training_lock
from models_ml.metrics import model_metrics
from models_ml.models import ModelVersion, Score
from models_ml.policy import DecisionPolicy
from models_ml.scoring import (
    LoadedModel,
    active_model,
    active_model_recheck,
    model_version_load,
    model_version_verify,
)
from models_ml.training import TrainingSet

log = logging.getLogger(__name__)

MIN_TRAINING_LABELS = 50
HOLDOUT_SHARE = 0.2


class TrainingDataError(Exception):
    """Too few labels, or only one class: no model can be trained."""


def scores_compute(
    orders: Sequence[Any],
    features: pd.DataFrame,
    policy: DecisionPolicy,
    explain: Callable[[str], bool] | None = None,
) -> list[Score]:
    """Unsaved Score rows for `orders` (one `features` row each), each with its
    tenant's active model, decided by `policy`.

    `explain(decision)` says which orders get SHAP reasons (the expensive
    step); without a model the decision is `review` and there is no score.
    """
    rows = features.to_numpy(dtype=float)
    vectors = _feature_dicts(rows)
    by_tenant: dict[int, list[int]] = {}
    for i, order in enumerate(orders):
        by_tenant.setdefault(order.tenant_id, []).append(i)
    scores: list[Score | None] = [None] * len(orders)
    for tenant_id, mine in by_tenant.items():
        for i, score in zip(
            mine,
            _tenant_scores(tenant_id, orders, rows, vectors, mine, policy, explain),
        ):
            scores[i] = score
    return [s for s in scores if s is not None]


def _tenant_scores(
    tenant_id: int,
    orders: Sequence[Any],
    rows: np.ndarray,
    vectors: list[dict[str, float | None]],
    mine: list[int],
    policy: DecisionPolicy,
    explain: Callable[[str], bool] | None,
) -> list[Score]:
    """Scores of the orders at `mine`, all of one tenant, with its model."""
    loaded = active_model(tenant_id)
    own = rows[mine]
    probabilities = loaded.predict(own) if loaded else [None] * len(mine)
    scores = []
    for i, probability in zip(mine, probabilities, strict=True):
        p = None if probability is None else float(probability)
        scores.append(
            Score(
                order=orders[i],
                model_version_id=loaded.version_id if loaded else None,
                probability=p,
                decision=policy.decision(p),
                features=vectors[i],
                feature_version=FEATURE_VERSION,
            )
        )
    if loaded and explain:
        chosen = [j for j, s in enumerate(scores) if explain(s.decision)]
        _explain(loaded, [scores[j] for j in chosen], own[chosen], policy.top_reasons)
    return scores


def scores_explain(
    scores: Sequence[Score], features: pd.DataFrame, top_reasons: int
) -> None:
    """SHAP reasons for `scores` (in place, one `features` row each) with the
    model that scored them, without predicting again; a score whose model is
    no longer the active one keeps none."""
    rows = features.to_numpy(dtype=float)
    by_tenant: dict[int, list[int]] = {}
    for i, score in enumerate(scores):
        if score.model_version_id is not None:
            by_tenant.setdefault(score.order.tenant_id, []).append(i)
    for tenant_id, mine in by_tenant.items():
        loaded = active_model(tenant_id)
        if loaded is None:
            continue
        same = [i for i in mine if scores[i].model_version_id == loaded.version_id]
        _explain(loaded, [scores[i] for i in same], rows[same], top_reasons)


def _explain(
    loaded: LoadedModel, scores: Sequence[Score], rows: np.ndarray, top_reasons: int
) -> None:
    if not scores:
        return
    base, reasons = explanations_compute(
        loaded.explainer, rows, FEATURE_NAMES, top_reasons
    )
    for score, top in zip(scores, reasons, strict=True):
        score.base_value, score.contributions = base, top


def _feature_dicts(rows: np.ndarray) -> list[dict[str, float | None]]:
    """Feature vectors as JSON-ready dicts (NaN → None), one per row."""
    values = rows.astype(object)
    values[np.isnan(rows)] = None
    return [dict(zip(FEATURE_NAMES, row, strict=True)) for row in values.tolist()]


def model_train(
    load: Callable[[], TrainingSet],
    *,
    tenant_id: int,
    force: bool = False,
    params: dict[str, Any] | None = None,
    window: tuple[datetime, datetime] | None = None,
    holdout_share: float = HOLDOUT_SHARE,
    model_dir: Path | None = None,
    gate_sample: Callable[[TrainingSet], GateSample] | None = None,
    gate_policy: GatePolicy | None = None,
    first_model_if_held: bool = False,
) -> ModelVersion:
    """Train a challenger for one tenant on the labelled orders `load()`
    returns (that tenant's only: the caller's promise), evaluate it against
    the tenant's champion, maybe promote it.

    `window` keeps the orders created in [start, end). The most recent
    `holdout_share` of them (by order time) is held out; challenger and
    champion are compared on it. With `holdout_share=0` nothing is held out or
    compared and the challenger is promoted (a protocol that trains on a whole
    window). Unchanged training data is not trained again unless `force`.
    Only one training runs at a time (TrainingInProgress otherwise); `load`
    runs under that lock. The model file goes to `model_dir` (MODEL_DIR by
    default). Re-scoring after a promotion is the caller's.

    With `gate_sample` (called on the loaded data, under the lock) the
    comparison is the unbiased gate's instead (`models_ml.gate`): the sample's
    orders and its `reserved` ones are held out of training, both models
    score the sample, and the gate's verdict (promote, reject, or held for
    too small a sample) decides; the comparison is kept on the version
    (`gate`, `gate_verdict`). A challenger the gate promotes on a sample that
    is not reserved (a matured window, the newest labelled orders) is fitted
    again, same estimator and params, on every label but the reserved ones,
    and that refit is the version's file and what it serves (`training_rows`;
    `gate.compared_rows` the compared fit's, `gate.refit_rows`). A held
    verdict promotes nothing, unless the tenant has no champion and
    `first_model_if_held` (an operator installing a first model from history).
    """
    directory = model_dir or settings.MODEL_DIR
    with training_lock():
        _abandoned_trainings_fail(directory)
        return _model_train_locked(
            load,
            tenant_id=tenant_id,
            force=force,
            params=params,
            window=window,
            holdout_share=holdout_share,
            model_dir=directory,
            gate_sample=gate_sample,
            gate_policy=gate_policy,
            first_model_if_held=first_model_if_held,
        )


def trainings_abandoned_recover() -> bool:
    """At worker start: fail versions left 'training' by a worker that died.

    Skipped (False) while another process really is training (it holds the
    lock), so a live training is never marked failed.
    """
    try:
        with training_lock():
            _abandoned_trainings_fail(settings.MODEL_DIR)
    except TrainingInProgress:
        return False
    return True


def _abandoned_trainings_fail(model_dir: Path) -> None:
    """Under the lock, a row still 'training' belongs to a process that died."""
    ModelVersion.objects.filter(status=ModelVersion.Status.TRAINING).update(
        status=ModelVersion.Status.FAILED,
        error="interrupted: the training process died",
    )
    for partial in model_dir.glob(".*.part"):
        partial.unlink(missing_ok=True)


def _model_train_locked(
    load: Callable[[], TrainingSet],
    *,
    tenant_id: int,
    force: bool,
    params: dict[str, Any] | None,
    window: tuple[datetime, datetime] | None,
    holdout_share: float,
    model_dir: Path,
    gate_sample: Callable[[TrainingSet], GateSample] | None = None,
    gate_policy: GatePolicy | None = None,
    first_model_if_held: bool = False,
) -> ModelVersion:
    import sklearn

    from models_ml.artifacts import artifact_save
    from models_ml.training import model_fit, time_split

    version = ModelVersion.objects.create(
        status=ModelVersion.Status.TRAINING, tenant_id=tenant_id
    )
    started = time.perf_counter()
    try:
        data = load()
        if window is not None:
            data = data.between(to_ms(window[0]), to_ms(window[1]))
        _check_trainable(data.target)
        fingerprint = _fingerprint(data.order_ids, data.target)
        same = ModelVersion.objects.filter(
            tenant_id=tenant_id, data_fingerprint=fingerprint
        ).exclude(status__in=[ModelVersion.Status.FAILED, ModelVersion.Status.TRAINING])
        if not force and same.exists():
            raise TrainingDataError("no new labels since the last training: skipped")
        sample = gate_sample(data) if gate_sample is not None else None
        if sample is None:
            holdout = time_split(data.created_ts, holdout_share)
            reserved = np.zeros(len(data.order_ids), dtype=bool)
        else:
            holdout = np.isin(data.order_ids, sample.order_ids)
            reserved = np.isin(data.order_ids, sample.reserved)
        learn = ~(holdout | reserved) & _in_training_window(data, sample)
        model = model_fit(
            data.features[learn], data.target[learn], params, settings.TRAINING_THREADS
        )
        challenger, champion = _holdout_metrics(model, data, holdout, tenant_id)
        version.sklearn_version = sklearn.__version__
        version.feature_names = FEATURE_NAMES
        version.params = model.get_params()
        version.data_fingerprint = fingerprint
        version.training_rows = int(learn.sum())
        version.label_counts = data.label_counts
        version.metrics = {"holdout": _clean(challenger), "champion": _clean(champion)}
        gate = None
        served, name = model, f"model-v{version.pk}.skops"
        if sample is not None:
            gate = _gate_run(model, data, holdout, sample, tenant_id, gate_policy)
            version.gate_verdict = gate.verdict
            details: dict[str, Any] = {**gate.details, "reason": gate.reason}
            details["reserved_rows"] = int(reserved.sum())
            if gate.verdict == PROMOTE and (holdout & ~reserved).any():
                # A matured sample is the newest labelled data: the version
                # passed without it, and serves the same fit on every label
                # but the reserved ones (the compared fit is never written).
                # An audit sample is reserved: the compared fit is served.
                refit = ~reserved & _in_training_window(data, sample)
                served = model_fit(
                    data.features[refit],
                    data.target[refit],
                    params,
                    settings.TRAINING_THREADS,
                )
                name = f"model-v{version.pk}-refit.skops"
                details["compared_rows"] = version.training_rows
                details["refit_rows"] = version.training_rows = int(refit.sum())
            version.gate = _json_safe(details)
        path, digest = artifact_save(served, model_dir, name)
        version.artifact_path, version.sha256 = str(path), digest
        version.training_seconds = time.perf_counter() - started
        version.status = ModelVersion.Status.CANDIDATE
        version.save()
    except Exception as exc:
        version.status = ModelVersion.Status.FAILED
        version.error = f"{type(exc).__name__}: {exc}"
        version.training_seconds = time.perf_counter() - started
        version.save()
        raise
    if gate is None:
        better, why = _beats(challenger, champion)
    elif (
        gate.verdict == HELD
        and first_model_if_held
        and "champion_version" not in gate.details
    ):
        better, why = True, f"first model, installed by an operator; gate {gate.reason}"
    else:
        better, why = gate.verdict == PROMOTE, gate.reason
    if better:
        try:
            return model_promote(version.pk, reason=why)
        except ArtifactError as exc:  # its file changed on disk since it was written
            version.status, version.error = ModelVersion.Status.FAILED, str(exc)
            version.save(update_fields=["status", "error"])
            raise
    version.status = ModelVersion.Status.REJECTED
    version.promotion_reason = why
    version.save(update_fields=["status", "promotion_reason"])
    return version


def _in_training_window(data: TrainingSet, sample: GateSample | None) -> np.ndarray:
    """The rows a gated fit may learn from by age: the newest
    TRAINING_WINDOW_DAYS of order time (every row when 0, or ungated)."""
    days = settings.TRAINING_WINDOW_DAYS
    if sample is None or days <= 0 or len(data.created_ts) == 0:
        return np.ones(len(data.created_ts), dtype=bool)
    cutoff = int(data.created_ts.max()) - days * 86_400_000
    return data.created_ts >= cutoff


def _holdout_metrics(
    model: Any, data: TrainingSet, holdout: np.ndarray, tenant_id: int
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The challenger's and the tenant's champion's metrics on the held-out
    orders."""
    if not holdout.any():
        return None, None
    rows = data.features[holdout].to_numpy(dtype=float)
    k = max(1, int(holdout.sum() * 0.05))
    challenger = model_metrics(data.target[holdout], model.predict_proba(rows)[:, 1], k)
    return challenger, _champion_metrics(rows, data.target[holdout], k, tenant_id)


def _gate_run(
    model: Any,
    data: TrainingSet,
    holdout: np.ndarray,
    sample: GateSample,
    tenant_id: int,
    policy: GatePolicy | None,
) -> GateResult:
    """Both models' scores of the gate sample's orders, and the verdict."""
    weight_of = dict(zip(sample.order_ids.tolist(), sample.weights.tolist()))
    ids = data.order_ids[holdout]
    aligned = GateSample(
        order_ids=ids,
        weights=np.array([weight_of[int(i)] for i in ids], dtype=float),
        source=sample.source,
        why=sample.why,
    )
    rows = data.features[holdout].to_numpy(dtype=float)
    ours = model.predict_proba(rows)[:, 1] if len(rows) else np.zeros(0)
    champion = _champion_model(tenant_id)
    theirs = champion.predict(rows) if champion is not None and len(rows) else None
    result = gate_compare(data.target[holdout], aligned, ours, theirs, policy)
    if champion is not None:
        result.details["champion_version"] = champion.version_id
    if result.verdict == HELD:
        log.info("gate held a challenger of tenant %s: %s", tenant_id, result.reason)
    return result


def _champion_model(tenant_id: int) -> Any:
    champion = ModelVersion.objects.filter(
        tenant_id=tenant_id, status=ModelVersion.Status.ACTIVE
    ).first()
    if champion is None or champion.feature_names != FEATURE_NAMES:
        return None
    try:
        return model_version_load(champion)
    except ArtifactError as exc:
        log.error("champion v%s cannot be loaded, not compared: %s", champion.pk, exc)
        return None


def _json_safe(value: Any) -> Any:
    """NaN and infinities as None: PostgreSQL's jsonb refuses them."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _check_trainable(target: np.ndarray) -> None:
    if len(target) < MIN_TRAINING_LABELS:
        raise TrainingDataError(
            f"{len(target)} labelled orders, at least {MIN_TRAINING_LABELS} needed"
        )
    if target.min() == target.max():
        raise TrainingDataError("all labels have the same value")


def _fingerprint(order_ids: np.ndarray, target: np.ndarray) -> str:
    digest = hashlib.sha256(order_ids.astype(np.int64).tobytes())
    digest.update(target.astype(np.int8).tobytes())
    digest.update(",".join(FEATURE_NAMES).encode())
    return digest.hexdigest()


def _champion_metrics(
    rows: np.ndarray, target: np.ndarray, k: int, tenant_id: int
) -> dict[str, Any] | None:
    champion = ModelVersion.objects.filter(
        tenant_id=tenant_id, status=ModelVersion.Status.ACTIVE
    ).first()
    if champion is None or champion.feature_names != FEATURE_NAMES:
        return None
    try:
        loaded = model_version_load(champion)
    except ArtifactError as exc:
        log.error("champion v%s cannot be loaded, not compared: %s", champion.pk, exc)
        return None
    return {"version": champion.pk, **model_metrics(target, loaded.predict(rows), k)}


def _beats(
    challenger: dict[str, Any] | None, champion: dict[str, Any] | None
) -> tuple[bool, str]:
    metric = settings.MODEL_PRIMARY_METRIC
    if challenger is None:
        return True, "nothing held out: trained on the whole window"
    if champion is None:
        return True, "no comparable champion"
    ours, theirs = challenger[metric], champion[metric]
    if np.isnan(ours):
        return False, f"{metric} undefined on the holdout"
    if np.isnan(theirs) or ours >= theirs:
        return (
            True,
            f"{metric} {ours:.4f} >= champion v{champion['version']} {theirs:.4f}",
        )
    return False, f"{metric} {ours:.4f} < champion v{champion['version']} {theirs:.4f}"


def _clean(metrics: dict[str, Any] | None) -> dict[str, Any] | None:
    if metrics is None:
        return None
    return {
        k: (None if isinstance(v, float) and np.isnan(v) else v)
        for k, v in metrics.items()
    }


def model_promote(version_id: int, *, reason: str) -> ModelVersion:
    """Make `version_id` its tenant's one active version, retiring the
    tenant's previous one (other tenants' champions stay).

    Safe under concurrent promotions: the partial unique index allows a single
    active row per tenant, and a promotion that loses the race retries. Raises
    ArtifactError, and changes nothing, when the version's file cannot be
    loaded or cannot score a probe row.
    """
    model_version_verify(ModelVersion.objects.get(pk=version_id))
    for _attempt in range(5):
        try:
            with transaction.atomic():
                version = ModelVersion.objects.select_for_update().get(pk=version_id)
                if version.status not in (
                    ModelVersion.Status.CANDIDATE,
                    ModelVersion.Status.RETIRED,
                    ModelVersion.Status.REJECTED,
                    ModelVersion.Status.ACTIVE,
                ):
                    raise ValueError(
                        f"v{version_id} is {version.status}: cannot promote"
                    )
                actives = ModelVersion.objects.filter(
                    Q(status=ModelVersion.Status.ACTIVE), tenant_id=version.tenant_id
                )
                list(actives.select_for_update())
                actives.exclude(pk=version_id).update(
                    status=ModelVersion.Status.RETIRED
                )
                version.status = ModelVersion.Status.ACTIVE
                version.promoted_at = timezone.now()
                version.promotion_reason = reason
                version.save(
                    update_fields=["status", "promoted_at", "promotion_reason"]
                )
                transaction.on_commit(active_model_recheck)
                return version
        except IntegrityError:
            log.info("promotion of v%s lost a race, retrying", version_id)
    raise RuntimeError(f"could not promote v{version_id}")


_SCORE_COLUMNS = (
    "order_id",
    "model_version_id",
    "probability",
    "decision",
    "features",
    "feature_version",
    "base_value",
    "contributions",
    "model_decision",
    "rule_hits",
    "cause_label_id",
    "created_at",
)


def scores_save(scores: list[Score]) -> None:
    """Insert Score rows (their orders already saved), in the caller's transaction.

    On PostgreSQL through COPY: bulk_create sends the rows as arrays, and
    quoting ~2 kB of feature JSON per row into an array literal was the
    largest cost of a 1,000-order batch.
    """
    if connection.vendor != "postgresql" or len(scores) < 50:
        Score.objects.bulk_create(scores)
        return
    from psycopg.types.json import Jsonb

    now = timezone.now()
    statement = f"COPY models_ml_score ({', '.join(_SCORE_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for s in scores:
            copy.write_row(
                (
                    s.order.pk,
                    s.model_version_id,
                    s.probability,
                    s.decision,
                    Jsonb(s.features),
                    s.feature_version,
                    s.base_value,
                    None if s.contributions is None else Jsonb(s.contributions),
                    s.model_decision,
                    Jsonb(s.rule_hits),
                    s.cause_label_id,
                    now,
                )
            )
