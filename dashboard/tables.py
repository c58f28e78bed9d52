"""The dashboard's tables: which page shows each, its columns, the selector
that computes its rows, and how a cell is shown on the page and in a CSV.

Every table is one entry of TABLES. Pages and CSV exports read rows through
`table_rows`, which caches them for CACHE_SECONDS per (table, dates, k), so a
CSV downloaded from the page it was viewed on is not computed twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any, cast

from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from dashboard.selectors import (
    agreement,
    audit,
    common,
    drift,
    outcomes,
    ranking,
    workload,
)
from models_ml.models import ModelVersion

CACHE_SECONDS = 300
Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    # day text flag int num ratio pct money hours seconds datetime
    kind: str = "int"


class Inputs:
    """What a table's rows depend on: the window, the capacity k (the one
    asked for, else `ranking.default_capacity`) and the active version's
    drift reference, each read once. Read inside `common.metrics_reads()`."""

    def __init__(self, window: common.MetricsWindow, k: int | None = None) -> None:
        self.window, self.k_asked = window, k

    @cached_property
    def observed_capacity(self) -> int:
        return ranking.observed_capacity(self.window)

    @cached_property
    def k(self) -> int:
        return self.k_asked or ranking.default_capacity(self.observed_capacity)

    @cached_property
    def active(self) -> ModelVersion | None:
        return drift.active_version(self.window.tenant_id)

    @cached_property
    def reference(self) -> drift.Reference | None:
        """Cached per active version and tenant, so a promotion shows at once."""
        if self.active is None:
            return None
        tenant = self.window.tenant_id
        key = f"dashboard:reference:v{self.active.pk}:t{tenant}"
        return cache.get_or_set(
            key, lambda: drift.drift_reference(self.active, tenant), CACHE_SECONDS
        )


def _agreement(i: Inputs) -> Rows:
    days, total = agreement.daily_agreement(i.window)
    return [*days, total]


def _drift(
    read: Callable[[common.MetricsWindow, drift.Reference], Rows],
) -> Callable[[Inputs], Rows]:
    return lambda i: (
        [] if i.reference is None or i.reference.empty else read(i.window, i.reference)
    )


@dataclass(frozen=True)
class TableSpec:
    page: str
    title: str
    columns: tuple[Column, ...]
    read: Callable[[Inputs], Rows]


C = Column
DAY = C("day", "Day", "day")
TABLES: dict[str, TableSpec] = {
    "ranking": TableSpec(
        "overview",
        "Ranking quality per order day",
        (
            DAY,
            C("k", "k"),
            C("ranked", "Orders ranked"),
            C("p_at_k", "P@k", "pct"),
            C("cp_at_k", "Card P@k", "pct"),
            C("recall_at_k", "Recall@k", "pct"),
            C("sampled", "Sampled"),
            C("sample_frauds", "Sample frauds"),
            C("ap", "AP", "ratio"),
            C("auc", "ROC AUC", "ratio"),
            C("small_sample", "Sample", "flag"),
        ),
        lambda i: ranking.daily_ranking(i.window, i.k),
    ),
    "outcomes": TableSpec(
        "overview",
        "Frauds caught and missed, amounts per order day",
        (
            DAY,
            C("labelled", "Labelled"),
            C("frauds", "Frauds"),
            C("caught", "Caught"),
            C("missed", "Missed"),
            C("unscored", "Before any model"),
            C("caught_amount", "Amount saved", "money"),
            C("missed_amount", "Missed amount", "money"),
            C("unscored_amount", "Before-model amount", "money"),
            C("false_positives", "False positives"),
            C("false_positives_amount", "False-positive cost", "money"),
            C("queue_decided", "High-risk decided"),
            C("queue_frauds", "of them fraud"),
            C("queue_precision", "Queue precision", "pct"),
        ),
        lambda i: outcomes.daily_outcomes(i.window),
    ),
    "ipw": TableSpec(
        "overview",
        "IPW estimate from the random audit",
        (
            C("rule", "Rule", "text"),
            C("audit_cases", "Audit cases"),
            C("audit_frauds", "Audit frauds"),
            C("queue_cases", "Queue cases"),
            C("est_frauds", "Est. frauds", "num"),
            C("est_flagged", "Est. flagged", "num"),
            C("precision", "Precision", "pct"),
            C("recall", "Recall", "pct"),
        ),
        lambda i: audit.ipw_estimates(i.window),
    ),
    "decisions": TableSpec(
        "overview",
        "Decisions per order day",
        (
            DAY,
            C("orders", "Orders"),
            C("approve", "Approve"),
            C("review", "Review"),
            C("decline", "Decline"),
            C("approve_share", "Approve rate", "pct"),
            C("review_share", "Model review rate", "pct"),
            C("decline_share", "Decline rate", "pct"),
            C("cases", "Cases"),
            C("review_rate", "Review rate", "pct"),
        ),
        lambda i: outcomes.daily_decisions(i.window),
    ),
    "latency": TableSpec(
        "overview",
        "Label latency per order day and source (hours)",
        (
            DAY,
            C("source", "Source", "text"),
            C("labels", "Labels"),
            C("mean_hours", "Mean", "hours"),
            C("median_hours", "Median", "hours"),
            C("p90_hours", "90th pct.", "hours"),
        ),
        lambda i: outcomes.daily_label_latency(i.window),
    ),
    "workload": TableSpec(
        "reviewers",
        "Cases opened, decided and pending per day",
        (DAY, C("opened", "Opened"), C("closed", "Decided"), C("backlog", "Backlog")),
        lambda i: workload.daily_workload(i.window),
    ),
    "throughput": TableSpec(
        "reviewers",
        "Decisions and decision time per day (seconds)",
        (
            DAY,
            C("decisions", "Decisions"),
            C("reviewers", "Reviewers"),
            C("per_reviewer", "Per reviewer", "num"),
            C("mean_seconds", "Mean", "seconds"),
            C("median_seconds", "Median", "seconds"),
            C("p90_seconds", "90th pct.", "seconds"),
        ),
        lambda i: workload.daily_throughput(i.window),
    ),
    "reviewers": TableSpec(
        "reviewers",
        "Per reviewer (seconds)",
        (
            C("reviewer_name", "Reviewer", "text"),
            C("decisions", "Decisions"),
            C("active_days", "Active days"),
            C("per_day", "Per active day", "num"),
            C("mean_seconds", "Mean", "seconds"),
            C("median_seconds", "Median", "seconds"),
            C("p90_seconds", "90th pct.", "seconds"),
        ),
        lambda i: workload.reviewer_throughput(i.window),
    ),
    "agreement": TableSpec(
        "reviewers",
        "QA double reviews per day",
        (
            DAY,
            C("pairs", "Pairs"),
            C("agreements", "Agree"),
            C("agreement_rate", "Agreement", "pct"),
            C("kappa", "Cohen's κ", "ratio"),
            C("both_fraud", "Both fraud"),
            C("both_legitimate", "Both legitimate"),
            C("first_fraud_only", "Only 1st fraud"),
            C("second_fraud_only", "Only 2nd fraud"),
        ),
        _agreement,
    ),
    "versions": TableSpec(
        "models",
        "Model versions",
        (
            C("version", "Version", "text"),
            C("status", "Status", "text"),
            C("created_at", "Trained", "datetime"),
            C("training_rows", "Training rows"),
            C("holdout_ap", "Holdout AP", "ratio"),
            C("holdout_auc", "Holdout AUC", "ratio"),
            C("holdout_p_at_k", "Holdout P@k", "ratio"),
            C("holdout_brier", "Holdout Brier", "ratio"),
            C("scored", "Scored here"),
            C("sampled", "Sampled"),
            C("sample_frauds", "Sample frauds"),
            C("live_ap", "Live AP", "ratio"),
            C("live_auc", "Live AUC", "ratio"),
            C("small_sample", "Live sample", "flag"),
        ),
        lambda i: drift.model_version_metrics(i.window),
    ),
    "score_drift": TableSpec(
        "models",
        "Score PSI per order day",
        (DAY, C("scored", "Scored"), C("psi", "PSI", "ratio")),
        _drift(drift.score_drift),
    ),
    "feature_drift": TableSpec(
        "models",
        "Feature PSI, window against training window",
        (
            C("feature", "Feature", "text"),
            C("psi", "PSI", "ratio"),
            C("reference_mean", "Training mean", "num"),
            C("current_mean", "Window mean", "num"),
            C("reference_missing", "Training missing", "pct"),
            C("current_missing", "Window missing", "pct"),
        ),
        _drift(drift.feature_drift),
    ),
}


def table_rows(slug: str, inputs: Inputs) -> Rows:
    w = inputs.window
    key = f"dashboard:{slug}:t{w.tenant_id}:{w.first}:{w.last}:{inputs.k}"
    # get_or_set answers None only when its default is None; ours never is.
    rows = cache.get_or_set(key, lambda: TABLES[slug].read(inputs), CACHE_SECONDS)
    return cast(Rows, rows)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _display(value: Any, kind: str) -> str:
    if kind == "day":
        return value.isoformat() if value else "All days"
    if _missing(value):
        return "—"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    formats: dict[str, Callable[[Any], str]] = {
        "text": str,
        "flag": lambda v: "too small" if v else "",
        "int": lambda v: f"{v:,.0f}",
        "num": lambda v: f"{v:,.1f}",
        "ratio": lambda v: f"{v:.3f}",
        "pct": lambda v: f"{v * 100:.1f}%",
        "money": lambda v: f"{v:,.2f}",
        "hours": lambda v: f"{v:,.1f}",
        "seconds": lambda v: f"{v:,.0f}",
        "datetime": lambda v: timezone.localtime(v).strftime("%Y-%m-%d %H:%M"),
    }
    return formats[kind](value)


def csv_cell(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()
    text = str(value)
    # Spreadsheets run cells starting with these as formulas.
    return f"'{text}" if isinstance(value, str) and text[:1] in "=+-@\t\r" else text


@dataclass(frozen=True)
class Table:
    slug: str
    title: str
    headers: list[tuple[str, bool]]
    rows: list[list[tuple[str, bool]]]
    csv_url: str


def table_build(slug: str, rows: Rows, query: str) -> Table:
    columns = TABLES[slug].columns
    numeric = {
        c.key: c.kind not in ("day", "text", "flag", "datetime") for c in columns
    }
    return Table(
        slug=slug,
        title=TABLES[slug].title,
        headers=[(c.title, numeric[c.key]) for c in columns],
        rows=[
            [(_display(row.get(c.key), c.kind), numeric[c.key]) for c in columns]
            for row in rows
        ],
        csv_url=f"{reverse('dashboard:export', args=[slug])}?{query}",
    )
