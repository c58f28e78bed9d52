"""The leads' metrics dashboard: three pages of SVG charts and tables, and a
CSV export of every table. Leads only.

Every table is one entry of TABLES: which page shows it, its columns and the
selector that computes its rows. Pages and CSV exports read rows through
`_rows`, which caches them for CACHE_SECONDS per (table, dates, k), so a
CSV downloaded from the page it was viewed on is not computed twice.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from dashboard.charts import Chart, model_charts, overview_charts, reviewer_charts
from dashboard.selectors import (
    agreement,
    audit,
    common,
    drift,
    outcomes,
    ranking,
    workload,
)

lead_required = permission_required("cases.lead_case", raise_exception=True)

CACHE_SECONDS = 300
DEFAULT_DAYS = 30
MAX_DAYS = 366
Rows = list[dict[str, Any]]


class DashboardFilterForm(forms.Form):
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    k = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=10_000,
        label="Capacity k (orders/day)",
        widget=forms.NumberInput(attrs={"placeholder": "observed"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        last = data.get("date_to") or timezone.localdate()
        first = data.get("date_from") or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise ValidationError("“From” must not be after “To”.")
        if (last - first).days >= MAX_DAYS:
            raise ValidationError(f"Pick at most {MAX_DAYS} days.")
        data["window"] = common.MetricsWindow(first, last)
        return data


# --- Tables ---------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str = "int"  # day text int num ratio pct money hours seconds datetime


class _Inputs:
    """What a table's rows depend on; the drift reference is read once."""

    def __init__(self, window: common.MetricsWindow, k: int) -> None:
        self.window, self.k = window, k

    @cached_property
    def reference(self) -> drift.Reference | None:
        return cache.get_or_set(
            "dashboard:reference", drift.drift_reference, CACHE_SECONDS
        )


def _agreement(i: _Inputs) -> Rows:
    days, total = agreement.daily_agreement(i.window)
    return [*days, total]


def _drift(
    read: Callable[[common.MetricsWindow, drift.Reference], Rows],
) -> Callable[[_Inputs], Rows]:
    return lambda i: read(i.window, i.reference) if i.reference else []


@dataclass(frozen=True)
class TableSpec:
    page: str
    title: str
    columns: tuple[Column, ...]
    read: Callable[[_Inputs], Rows]


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
            C("caught_amount", "Amount saved", "money"),
            C("missed_amount", "Missed amount", "money"),
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


def _rows(slug: str, inputs: _Inputs) -> Rows:
    w = inputs.window
    key = f"dashboard:{slug}:{w.first}:{w.last}:{inputs.k}"
    return cache.get_or_set(key, lambda: TABLES[slug].read(inputs), CACHE_SECONDS)


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


def _csv_cell(value: Any) -> str:
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


def _table(slug: str, rows: Rows, query: str) -> Table:
    columns = TABLES[slug].columns
    numeric = {c.key: c.kind not in ("day", "text", "datetime") for c in columns}
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


# --- Views ----------------------------------------------------------------------


def _filters(
    request: HttpRequest,
) -> tuple[DashboardFilterForm, common.MetricsWindow | None]:
    form = DashboardFilterForm(request.GET)
    return form, form.cleaned_data["window"] if form.is_valid() else None


def _page(request: HttpRequest, name: str) -> HttpResponse:
    page = PAGES[name]
    form, window = _filters(request)
    context: dict[str, Any] = {
        "form": form,
        "page": name,
        "title": page.title,
        "dashboard_pages": [(slug, p.title) for slug, p in PAGES.items()],
    }
    if window is None:
        return render(request, page.template, context, status=400)
    slugs = [slug for slug, spec in TABLES.items() if spec.page == name]
    with common.metrics_reads():
        k = form.cleaned_data["k"] or ranking.observed_capacity(window)
        inputs = _Inputs(window, k)
        rows = {slug: _rows(slug, inputs) for slug in slugs}
        reference = inputs.reference if name == "models" else None
    query = urlencode({"date_from": window.first, "date_to": window.last, "k": k})
    context |= {
        "window": window,
        "k": k,
        "k_observed": not form.cleaned_data["k"],
        "tables": {slug: _table(slug, rows[slug], query) for slug in slugs},
        "charts": {c.slug: c for c in page.charts(window.days, rows)},
        "reference": reference,
        "limits": {
            "cache_minutes": CACHE_SECONDS // 60,
            "sample_per_day": ranking.SAMPLE_PER_DAY,
            "sample_per_version": drift.SAMPLE_PER_VERSION,
            "drift_sample": drift.DRIFT_EDGE_SAMPLE,
            "feature_sample": drift.FEATURE_SAMPLE,
            "training_days": drift.TRAINING_WINDOW.days,
            "drift_bins": drift.DRIFT_BINS,
            "min_drift_scores": drift.MIN_DRIFT_SCORES,
        },
    }
    return render(request, page.template, context)


@require_GET
@login_required
@lead_required
def overview(request: HttpRequest) -> HttpResponse:
    return _page(request, "overview")


@require_GET
@login_required
@lead_required
def reviewers(request: HttpRequest) -> HttpResponse:
    return _page(request, "reviewers")


@require_GET
@login_required
@lead_required
def models(request: HttpRequest) -> HttpResponse:
    return _page(request, "models")


@require_GET
@login_required
@lead_required
def export(request: HttpRequest, table: str) -> HttpResponse:
    spec = TABLES.get(table)
    if spec is None:
        raise Http404("no such table")
    form, window = _filters(request)
    if window is None:
        return HttpResponse(
            form.errors.as_text(), status=400, content_type="text/plain"
        )
    with common.metrics_reads():
        k = form.cleaned_data["k"] or ranking.observed_capacity(window)
        rows = _rows(table, _Inputs(window, k))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"{table}_{window.first}_{window.last}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow([c.key for c in spec.columns])
    writer.writerows([_csv_cell(row.get(c.key)) for c in spec.columns] for row in rows)
    return response
