"""Model versions: holdout against live metrics, and score and feature drift
against the active version's training window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import (
    Case,
    Count,
    F,
    Max,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from cases.models import Order
from dashboard.selectors.common import (
    HASH,
    MetricsWindow,
    fraud_orders,
    latest_scored,
    latest_scores,
    small_sample,
)
from models_ml import metrics
from models_ml.models import ModelVersion, Score

# Rows read per model version for AP and ROC AUC.
SAMPLE_PER_VERSION = 5000
# Scores read from each window to place the drift bins, and to compare features.
DRIFT_EDGE_SAMPLE = 20000
FEATURE_SAMPLE = 5000
DRIFT_BINS = 10
# A day with fewer scores gets no PSI: on a handful of orders it is noise.
MIN_DRIFT_SCORES = 50
# The training window's length (see training_window).
TRAINING_WINDOW = timedelta(days=30)


def model_version_metrics(
    window: MetricsWindow, cap: int = SAMPLE_PER_VERSION
) -> list[dict[str, Any]]:
    """Each trained version's holdout metrics (stored at training) next to its
    live metrics on the window's orders it scored: AP and ROC AUC on at most
    `cap` of them per version, sampled deterministically."""
    versions = list(
        ModelVersion.objects.filter(window.tenant_q())
        .exclude(status__in=[ModelVersion.Status.TRAINING, ModelVersion.Status.FAILED])
        .order_by("id")
    )
    live = Score.objects.filter(
        window.q("order__created_at"),
        probability__isnull=False,
        model_version__isnull=False,
    )
    scored = dict(
        live.values("model_version")
        .annotate(n=Count("id"))
        .values_list("model_version", "n")
    )
    sample = (
        live.annotate(
            pick=Window(
                RowNumber(),
                partition_by=[F("model_version")],
                order_by=[HASH.asc(), F("id").asc()],
            )
        )
        .filter(pick__lte=cap)
        .values_list("model_version", "order_id", "probability")
    )
    frame = pd.DataFrame(list(sample), columns=["version", "order_id", "probability"])
    frame["fraud"] = frame["order_id"].isin(set(fraud_orders(window)["order_id"]))
    frame["fraud"] = frame["fraud"].astype(int)
    result = []
    for version in versions:
        holdout = (version.metrics or {}).get("holdout") or {}
        rows = frame[frame["version"] == version.pk]
        result.append(
            {
                "version": f"v{version.pk}",
                "status": version.status,
                "created_at": version.created_at,
                "training_rows": version.training_rows,
                **{
                    f"holdout_{m}": _number(holdout.get(m))
                    for m in ("ap", "auc", "p_at_k", "brier")
                },
                "scored": scored.get(version.pk, 0),
                "sampled": len(rows),
                "sample_frauds": int(rows["fraud"].sum()),
                "small_sample": small_sample(int(rows["fraud"].sum()), len(rows)),
                "live_ap": metrics.average_precision(
                    rows["fraud"], rows["probability"]
                ),
                "live_auc": metrics.roc_auc(rows["fraud"], rows["probability"]),
            }
        )
    return result


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else float("nan")


def active_version(tenant_id: int | None) -> ModelVersion | None:
    """The tenant's active version (None: any tenant's, the lowest id)."""
    actives = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE)
    if tenant_id is not None:
        actives = actives.filter(tenant_id=tenant_id)
    return actives.order_by("pk").first()


def training_window(
    version: ModelVersion, tenant_id: int | None = None
) -> MetricsWindow:
    """The TRAINING_WINDOW days of orders up to the newest order `version`
    could learn from: the newest order created, and labelled, before it was
    trained. Orders are dated by the shop, so for history loaded in bulk
    (imports, the demo, replays) this window lies long before the version's
    own date; without such an order it ends the day before that date."""
    tenant = {} if tenant_id is None else {"tenant_id": tenant_id}
    newest = Order.objects.filter(
        **tenant,
        created_at__lt=version.created_at,
        labels__known_at__lte=version.created_at,
    ).aggregate(newest=Max("created_at"))["newest"]
    if newest is not None:
        last = timezone.localtime(newest).date()
    else:
        last = timezone.localtime(version.created_at).date() - timedelta(days=1)
    return MetricsWindow(last - TRAINING_WINDOW + timedelta(days=1), last, tenant_id)


@dataclass(frozen=True)
class Reference:
    """A version's training window, as a sample of its orders' latest scores
    (empty when none of them has a stored score, e.g. history loaded in bulk
    and never scored)."""

    version: ModelVersion
    window: MetricsWindow
    scores: np.ndarray
    features: pd.DataFrame

    @property
    def empty(self) -> bool:
        return len(self.scores) == 0


def drift_reference(version: ModelVersion, tenant_id: int | None = None) -> Reference:
    """At most DRIFT_EDGE_SAMPLE latest scores (hash order) of the tenant's
    orders in `version`'s training window, and the features of FEATURE_SAMPLE
    of them."""
    window = training_window(version, tenant_id)
    rows = list(
        latest_scored(window)
        .order_by(HASH.asc(), "id")
        .values_list("probability", "features")[:DRIFT_EDGE_SAMPLE]
    )
    return Reference(
        version=version,
        window=window,
        scores=np.array([p for p, _ in rows], dtype=float),
        features=_feature_frame([f for _, f in rows[:FEATURE_SAMPLE]], version),
    )


def _feature_frame(rows: list[dict], version: ModelVersion) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    return frame.reindex(columns=version.feature_names).astype(float)


def _bin(edges: np.ndarray) -> Case:
    """The drift bin of a score, as metrics.bin_counts places it."""
    return Case(
        *[When(probability__lt=float(e), then=Value(i)) for i, e in enumerate(edges)],
        default=Value(len(edges)),
    )


def score_drift(
    window: MetricsWindow, reference: Reference, min_scores: int = MIN_DRIFT_SCORES
) -> list[dict[str, Any]]:
    """PSI of each day's latest scores against the reference sample, over
    DRIFT_BINS quantile bins of the reference (counted per day in SQL); NaN
    for days with fewer than `min_scores` scores."""
    edges = metrics.quantile_edges(reference.scores, DRIFT_BINS)
    expected = metrics.bin_counts(reference.scores, edges)[:-1]
    actual: dict[date, np.ndarray] = {}
    per_day = latest_scored(window).values("day", b=_bin(edges)).annotate(n=Count("id"))
    for row in per_day:
        counts = actual.setdefault(row["day"], np.zeros(len(edges) + 1))
        counts[row["b"]] = row["n"]
    days = []
    for day in window.days:
        counts = actual.get(day, np.zeros(len(edges) + 1))
        enough = counts.sum() >= max(min_scores, 1)
        days.append(
            {
                "day": day,
                "scored": int(counts.sum()),
                "psi": metrics.psi(expected, counts) if enough else float("nan"),
            }
        )
    return days


def feature_drift(window: MetricsWindow, reference: Reference) -> list[dict[str, Any]]:
    """PSI of each feature of the active version, the window's scores against
    the reference, on at most FEATURE_SAMPLE scores of each (hash order)."""
    rows = (
        latest_scores(window)
        .order_by(HASH.asc(), "id")
        .values_list("features", flat=True)[:FEATURE_SAMPLE]
    )
    current = _feature_frame(list(rows), reference.version)
    if reference.features.empty or current.empty:
        return []
    psis = metrics.psi_by_feature(reference.features, current, DRIFT_BINS)
    result = [
        {
            "feature": name,
            "psi": value,
            "reference_mean": float(reference.features[name].mean()),
            "current_mean": float(current[name].mean()),
            "reference_missing": float(reference.features[name].isna().mean()),
            "current_missing": float(current[name].isna().mean()),
        }
        for name, value in psis.items()
    ]
    return sorted(result, key=lambda r: (np.nan_to_num(-r["psi"]), r["feature"]))
