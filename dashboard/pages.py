"""The dashboard's three pages: which tables and charts each shows, and the
template context built from them for a valid filter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.utils.http import urlencode

from dashboard.charts import GREY, WIDE, Chart, Value, chart
from dashboard.selectors import common, drift, ranking
from dashboard.tables import (
    CACHE_SECONDS,
    TABLES,
    Inputs,
    Rows,
    table_build,
    table_rows,
)


def _series(rows: Rows, key: str, scale: float = 1.0) -> list[Value]:
    return [None if r.get(key) is None else r[key] * scale for r in rows]


def _labels(days: list[date]) -> list[str]:
    return [day.strftime("%b %d") for day in days]


def _of(rows: Rows, key: str, unit: str) -> list[str]:
    """Tooltip notes giving the sample size behind each point."""
    return [f"of {r.get(key, 0):,} {unit}" for r in rows]


def _sample(rows: Rows) -> list[str]:
    """Tooltip notes for AP and ROC AUC: the sample and whether it is too
    small to read (`common.small_sample`)."""
    return [
        f"{r['sampled']:,} orders, {r['sample_frauds']:,} frauds"
        + (", too few to read" if r["small_sample"] else "")
        for r in rows
    ]


def overview_charts(days: list[date], t: dict[str, Rows]) -> list[Chart]:
    ranked, outcomes, decisions = t["ranking"], t["outcomes"], t["decisions"]
    medians = {(r["day"], r["source"]): r["median_hours"] / 24 for r in t["latency"]}
    latency = {
        source: [medians.get((day, source)) for day in days]
        for source in sorted({source for _day, source in medians})
    }
    labels = _labels(days)
    k_notes = [f"k = {r['k']}, {r['ranked']:,} orders ranked" for r in ranked]
    return [
        chart(
            "queue_precision",
            "Queue precision",
            labels,
            percent=True,
            lines={
                "P@k": _series(ranked, "p_at_k"),
                "Card P@k": _series(ranked, "cp_at_k"),
                "Decided high-risk cases that are fraud": _series(
                    outcomes, "queue_precision"
                ),
            },
            notes={
                "P@k": k_notes,
                "Card P@k": k_notes,
                "Decided high-risk cases that are fraud": _of(
                    outcomes, "queue_decided", "decided"
                ),
            },
        ),
        chart(
            "ranking",
            "Recall@k, AP and ROC AUC",
            labels,
            percent=True,
            lines={
                "Recall@k": _series(ranked, "recall_at_k"),
                "AP (sampled)": _series(ranked, "ap"),
                "ROC AUC (sampled)": _series(ranked, "auc"),
            },
            notes=dict.fromkeys(("AP (sampled)", "ROC AUC (sampled)"), _sample(ranked)),
        ),
        chart(
            "caught_missed",
            "Fraud caught vs missed (orders)",
            labels,
            bars={
                "Caught": _series(outcomes, "caught"),
                "Missed": _series(outcomes, "missed"),
                "Before any model": _series(outcomes, "unscored"),
            },
            colors={"Before any model": GREY},  # not the model's catch or miss
        ),
        chart(
            "amounts",
            "Amount saved vs lost",
            labels,
            bars={
                "Amount saved": _series(outcomes, "caught_amount"),
                "Missed amount": _series(outcomes, "missed_amount"),
                "False-positive cost": _series(outcomes, "false_positives_amount"),
            },
        ),
        chart(
            "review_rates",
            "Review and decline rates",
            labels,
            percent=True,
            lines={
                "Review rate (cases / orders)": _series(decisions, "review_rate"),
                "Model: review": _series(decisions, "review_share"),
                "Model: decline": _series(decisions, "decline_share"),
            },
            notes={"Review rate (cases / orders)": _of(decisions, "orders", "orders")},
            width=WIDE,
        ),
        chart(
            "latency",
            "Label latency (median days)",
            labels,
            lines=latency,
            width=WIDE,
        ),
    ]


def reviewer_charts(days: list[date], t: dict[str, Rows]) -> list[Chart]:
    workload, throughput = t["workload"], t["throughput"]
    agreement = t["agreement"][:-1]  # the last row is the whole range
    labels = _labels(days)
    return [
        chart(
            "volume_backlog",
            "Review volume and backlog",
            labels,
            bars={
                "Opened": _series(workload, "opened"),
                "Decided": _series(workload, "closed"),
            },
            lines={"Backlog": _series(workload, "backlog")},
            width=WIDE,
        ),
        chart(
            "throughput",
            "Reviewer throughput",
            labels,
            bars={"Decisions": _series(throughput, "decisions")},
            lines={"Per active reviewer": _series(throughput, "per_reviewer")},
        ),
        chart(
            "decision_time",
            "Decision time (minutes)",
            labels,
            lines={
                "Median": _series(throughput, "median_seconds", 1 / 60),
                "90th percentile": _series(throughput, "p90_seconds", 1 / 60),
            },
            notes={
                "Median": _of(throughput, "decisions", "decisions"),
                "90th percentile": _of(throughput, "decisions", "decisions"),
            },
        ),
        chart(
            "agreement",
            "Reviewer agreement (QA double reviews)",
            labels,
            lines={
                "Cohen's kappa": _series(agreement, "kappa"),
                "Share agreeing": _series(agreement, "agreement_rate"),
            },
            notes={
                "Cohen's kappa": _of(agreement, "pairs", "pairs"),
                "Share agreeing": _of(agreement, "pairs", "pairs"),
            },
            width=WIDE,
        ),
    ]


def model_charts(days: list[date], t: dict[str, Rows]) -> list[Chart]:
    versions = t["versions"]
    live = _sample(versions)
    return [
        chart(
            "versions",
            "Model versions: AP and ROC AUC",
            [v["version"] for v in versions],
            bars={
                "Holdout AP": _series(versions, "holdout_ap"),
                "Live AP": _series(versions, "live_ap"),
                "Holdout ROC AUC": _series(versions, "holdout_auc"),
                "Live ROC AUC": _series(versions, "live_auc"),
            },
            notes={"Live AP": live, "Live ROC AUC": live},
            width=WIDE,
        ),
        chart(
            "score_drift",
            "Score drift (PSI against the training window)",
            _labels(days),
            lines={"Score PSI": _series(t["score_drift"], "psi")},
            notes={"Score PSI": _of(t["score_drift"], "scored", "scores")},
            rules={"moderate": 0.1, "major": 0.25},
            width=WIDE,
        ),
    ]


@dataclass(frozen=True)
class Page:
    title: str
    template: str
    charts: Callable[[list[date], dict[str, Rows]], list[Chart]]


PAGES = {
    "overview": Page("Queue and outcomes", "dashboard/overview.html", overview_charts),
    "reviewers": Page("Review operations", "dashboard/reviewers.html", reviewer_charts),
    "models": Page("Models and drift", "dashboard/models.html", model_charts),
}

LIMITS = {
    "cache_minutes": CACHE_SECONDS // 60,
    "sample_per_day": ranking.SAMPLE_PER_DAY,
    "min_default_k": ranking.MIN_DEFAULT_K,
    "min_class_sample": common.MIN_CLASS_SAMPLE,
    "sample_per_version": drift.SAMPLE_PER_VERSION,
    "drift_sample": drift.DRIFT_EDGE_SAMPLE,
    "feature_sample": drift.FEATURE_SAMPLE,
    "training_days": drift.TRAINING_WINDOW.days,
    "drift_bins": drift.DRIFT_BINS,
    "min_drift_scores": drift.MIN_DRIFT_SCORES,
}


def page_frame(name: str, form: forms.Form) -> dict[str, Any]:
    """What every page shows, valid filter or not: title, navigation, form."""
    return {
        "form": form,
        "page": name,
        "title": PAGES[name].title,
        "dashboard_pages": [(slug, p.title) for slug, p in PAGES.items()],
        "limits": LIMITS,
    }


def page_context(
    name: str, window: common.MetricsWindow, k: int | None
) -> dict[str, Any]:
    """The tables and charts of page `name` for `window` and capacity `k`
    (None: the default capacity)."""
    slugs = [slug for slug, spec in TABLES.items() if spec.page == name]
    with common.metrics_reads():
        inputs = Inputs(window, k)
        rows = {slug: table_rows(slug, inputs) for slug in slugs}
        if name == "models":
            active, reference = inputs.active, inputs.reference
        else:
            active, reference = None, None
        observed = inputs.observed_capacity if k is None else None
    params: dict[str, str | int] = {
        "date_from": window.first.isoformat(),
        "date_to": window.last.isoformat(),
        "k": inputs.k,
    }
    query = urlencode(params)
    small = [r for r in rows.get("versions", []) if r["small_sample"] and r["scored"]]
    return {
        "window": window,
        "k": inputs.k,
        "k_observed": observed,
        "tables": {slug: table_build(slug, rows[slug], query) for slug in slugs},
        "charts": {c.slug: c for c in PAGES[name].charts(window.days, rows)},
        "active": active,
        "reference": reference,
        "small_versions": small,
    }
