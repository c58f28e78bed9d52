"""Reads for the leads' dashboard.

Counts and sums are aggregated in SQL, one row per day (`TruncDate`, in the
site's time zone); only metrics that need individual scores (precision@k,
AP, ROC AUC, drift) read score rows, and those reads are capped: the top k
per day, or a deterministic sample (ordered by a hash of the order id).

Definitions, stated once here and on the dashboard:

- The *truth* of an order is its latest outcome label (chargeback or
  merchant confirmation) if it has one, else its latest reviewer label. An
  order without labels counts as legitimate in the ranking metrics.
- An order's *model decision* and *score* are those of its latest Score.
- A fraud is *caught* when its case was decided fraud or the model declined
  it; *missed* when an outcome label says fraud and neither happened.
- *Amount saved* is the amount of caught fraud; the *false-positive cost* is
  the amount of orders whose truth is legitimate but that were declined by
  the model or decided fraud by a reviewer. Declines nobody labelled are in
  neither (we never learn their truth), so both are lower bounds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Coalesce, NullIf, RowNumber, TruncDate
from django.utils import timezone

from cases.models import Case as ReviewCase
from cases.models import Claim, Label, Order
from models_ml import risk_metrics as rm
from models_ml.models import ModelVersion, Score

# Rows read per day (or per model version) for AP and ROC AUC.
SAMPLE_PER_DAY = 2000
SAMPLE_PER_VERSION = 5000
# Scores read from each window to place the drift bins, and to compare features.
DRIFT_EDGE_SAMPLE = 20000
FEATURE_SAMPLE = 5000
DRIFT_BINS = 10
# A day with fewer scores gets no PSI: on a handful of orders it is noise.
MIN_DRIFT_SCORES = 50
# The training window: orders created this long before the active version.
TRAINING_WINDOW = timedelta(days=30)
# Medians and 90th percentiles come from counts below these edges.
LATENCY_EDGES_HOURS = (1, 4, 12, 24, 72, 168, 336, 720, 1440, 2160, 4320)
DECISION_EDGES_SECONDS = (15, 30, 60, 120, 180, 300, 450, 600, 900, 1800, 3600)

FRAUD = Label.Value.FRAUD
LEGITIMATE = Label.Value.LEGITIMATE
OUTCOME_SOURCES = (Label.Source.CHARGEBACK, Label.Source.MERCHANT)
# Knuth's multiplicative hash: a fixed pseudo-random order of rows.
_HASH = (F("order_id") * 2654435761) % 4294967296


@dataclass(frozen=True)
class MetricsWindow:
    """Whole days from `first` to `last`, both included."""

    first: date
    last: date

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first, time.min))

    @property
    def until(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.last, time.min)) + timedelta(
            days=1
        )

    @property
    def days(self) -> list[date]:
        return [
            self.first + timedelta(days=i)
            for i in range((self.last - self.first).days + 1)
        ]

    def q(self, field: str) -> Q:
        return Q(**{f"{field}__gte": self.since, f"{field}__lt": self.until})


@contextmanager
def metrics_reads() -> Iterator[None]:
    """One transaction for a page's reads, with PostgreSQL's JIT switched off.

    The per-order subqueries inflate the planner's cost estimates, and JIT
    then spends longer compiling than the queries take to run (1.4 s against
    0.1 s for the outcomes on 300k orders).
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


def _by_day(
    window: MetricsWindow, rows: list[dict[str, Any]], zero: dict[str, Any]
) -> list[dict[str, Any]]:
    """One row per day of the window, zeros where the SQL returned none."""
    found = {row["day"]: row for row in rows}
    return [{**zero, **found.get(day, {}), "day": day} for day in window.days]


def _below(field: str, start: str, edges: tuple[int, ...], unit: str) -> dict:
    """COUNTs of rows whose `field` is under `start` + each edge."""
    return {
        f"below_{i}": Count(
            "id", filter=Q(**{f"{field}__lt": F(start) + timedelta(**{unit: edge})})
        )
        for i, edge in enumerate(edges)
    }


def _quantiles(row: dict[str, Any], edges: tuple[int, ...], total: int) -> tuple:
    below = [row[f"below_{i}"] for i in range(len(edges))]
    return tuple(rm.binned_quantile(edges, below, total, q) for q in (0.5, 0.9))


# --- Truth, scores -----------------------------------------------------------


def _label_value(order_ref: str, sources: tuple[str, ...]) -> Subquery:
    labels = Label.objects.filter(order_id=OuterRef(order_ref), source__in=sources)
    return Subquery(labels.order_by("-known_at", "-id").values("value")[:1])


def _truth(order_ref: str) -> Coalesce:
    """'fraud', 'legitimate' or NULL (no label), per the module's definition."""
    return Coalesce(
        _label_value(order_ref, OUTCOME_SOURCES),
        _label_value(order_ref, (Label.Source.REVIEWER,)),
    )


def _entity(prefix: str = "") -> Coalesce:
    """The card, or the customer when the order has no card fingerprint."""
    return Coalesce(
        NullIf(f"{prefix}card_fingerprint", Value("")), f"{prefix}customer_id"
    )


def _latest_scores(window: MetricsWindow) -> QuerySet[Score]:
    """The latest Score of each order created in the window."""
    newer = Score.objects.filter(order_id=OuterRef("order_id"), id__gt=OuterRef("id"))
    return Score.objects.filter(window.q("order__created_at")).filter(~Exists(newer))


def _scored(window: MetricsWindow) -> QuerySet[Score]:
    """Latest scores with a probability, with the order's day and card."""
    return (
        _latest_scores(window)
        .filter(probability__isnull=False)
        .annotate(day=TruncDate("order__created_at"), entity=_entity("order__"))
    )


def _fraud_orders(window: MetricsWindow) -> pd.DataFrame:
    """Orders of the window whose truth is fraud: day, order_id, entity and
    whether the order has a score. A few percent of orders at most."""
    latest = Score.objects.filter(order_id=OuterRef("pk")).order_by("-id")
    rows = (
        Order.objects.filter(window.q("created_at"))
        .filter(Exists(Label.objects.filter(order_id=OuterRef("pk"), value=FRAUD)))
        .annotate(
            truth=_truth("pk"),
            day=TruncDate("created_at"),
            entity=_entity(),
            probability=Subquery(latest.values("probability")[:1]),
        )
        .filter(truth=FRAUD)
        .values_list("day", "pk", "entity", "probability")
    )
    frame = pd.DataFrame(list(rows), columns=["day", "order_id", "entity", "p"])
    frame["scored"] = frame["p"].notna()
    return frame


# --- Decisions and outcomes ----------------------------------------------------


def daily_decisions(window: MetricsWindow) -> list[dict[str, Any]]:
    """Orders per day by the model's decision, and cases opened on them."""
    decisions = {d: Count("id", filter=Q(decision=d)) for d in Score.Decision.values}
    rows = (
        _latest_scores(window)
        .annotate(day=TruncDate("order__created_at"))
        .values("day")
        .annotate(orders=Count("id"), cases=Count("order__case"), **decisions)
    )
    zero = {"orders": 0, "cases": 0, **{d: 0 for d in decisions}}
    days = _by_day(window, list(rows), zero)
    for row in days:
        shares = rm.decision_rates({d: row[d] for d in decisions})
        row.update({f"{d}_share": share for d, share in shares.items()})
        # Review rate: orders that became cases (high-risk, exploration, audit).
        row["review_rate"] = rm.ratio(row["cases"], row["orders"])
    return days


def _labelled_orders(window: MetricsWindow) -> QuerySet[Order]:
    """Orders of the window with at least one label (the only ones whose
    truth is known), with their truth and whether they were stopped."""
    latest = Score.objects.filter(order_id=OuterRef("pk")).order_by("-id")
    stopped = Q(case__status=ReviewCase.Status.DECIDED, reviewed=FRAUD) | Q(
        decision=Score.Decision.DECLINE
    )
    queue = Q(
        case__queue_reason=ReviewCase.QueueReason.HIGH_RISK,
        case__status=ReviewCase.Status.DECIDED,
    )
    return (
        Order.objects.filter(window.q("created_at"))
        .filter(Exists(Label.objects.filter(order_id=OuterRef("pk"))))
        .annotate(
            day=TruncDate("created_at"),
            outcome=_label_value("pk", OUTCOME_SOURCES),
            reviewed=_label_value("pk", (Label.Source.REVIEWER,)),
            truth=Coalesce("outcome", "reviewed"),
            decision=Subquery(latest.values("decision")[:1]),
            stopped=_flag(stopped),
            queue=_flag(queue),
        )
    )


def _flag(condition: Q) -> Case:
    return Case(
        When(condition, then=Value(value=True)),
        default=Value(value=False),
        output_field=BooleanField(),
    )


def daily_outcomes(window: MetricsWindow) -> list[dict[str, Any]]:
    """Per order day: frauds caught and missed, amount saved, false-positive
    cost (risk_metrics.fraud_outcomes), and the precision of the high-risk
    queue (decided high-risk cases whose truth is fraud).

    Orders are grouped by their flags in SQL, so each subquery runs once per
    labelled order and Python sees a few rows per day.
    """
    groups = pd.DataFrame(
        list(
            _labelled_orders(window)
            .values("day", "truth", "outcome", "stopped", "queue")
            .annotate(orders=Count("id"), amount=Sum("amount"))
        ),
        columns=["day", "truth", "outcome", "stopped", "queue", "orders", "amount"],
    )
    groups["amount"] = groups["amount"].astype(float)
    by_day = dict(list(groups.groupby("day")))
    days = []
    for day in window.days:
        g = by_day.get(day, groups.iloc[:0])
        queue = g[g["queue"].astype(bool)]
        totals = rm.fraud_outcomes(
            g["truth"], g["outcome"], g["stopped"], g["orders"], g["amount"]
        )
        queue_frauds = int(queue[queue["truth"] == FRAUD]["orders"].sum())
        days.append(
            {
                "day": day,
                "labelled": int(g["orders"].sum()),
                **totals,
                "queue_decided": int(queue["orders"].sum()),
                "queue_frauds": queue_frauds,
                "queue_precision": rm.ratio(queue_frauds, queue["orders"].sum()),
            }
        )
    return days


# --- Ranking: precision@k, card precision@k, recall@k, AP, AUC -----------------


def observed_capacity(window: MetricsWindow) -> int:
    """Mean reviewer decisions per day, over the days with any (at least 1)."""
    totals = Claim.objects.filter(
        window.q("released_at"), end=Claim.End.DECIDED
    ).aggregate(
        decisions=Count("id"), days=Count(TruncDate("released_at"), distinct=True)
    )
    if not totals["days"]:
        return 1
    return max(1, round(totals["decisions"] / totals["days"]))


def _ranked_rows(window: MetricsWindow, k: int, cap: int) -> pd.DataFrame:
    """In one scan of the window's latest scores, per day: the 2k highest
    scores (`rank`) and `cap` orders in hash order (`pick`, the sample)."""
    rows = (
        _scored(window)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("day")],
                order_by=[F("probability").desc(), F("order_id").asc()],
            ),
            pick=Window(
                RowNumber(),
                partition_by=[F("day")],
                order_by=[_HASH.asc(), F("order_id").asc()],
            ),
        )
        .filter(Q(rank__lte=2 * k) | Q(pick__lte=cap))
        .values_list("day", "order_id", "entity", "probability", "rank", "pick")
    )
    columns = ["day", "order_id", "entity", "probability", "rank", "pick"]
    return pd.DataFrame(list(rows), columns=columns)


def _top_cards(window: MetricsWindow, day: date, k: int) -> list[tuple[str, float]]:
    """The day's k highest-scored cards (a card scores its riskiest order)."""
    one_day = MetricsWindow(day, day)
    return list(
        _scored(one_day)
        .values("entity")
        .annotate(top=Max("probability"))
        .order_by("-top", "entity")
        .values_list("entity", "top")[:k]
    )


def _cards_from_top(rows: pd.DataFrame, k: int) -> list[tuple[str, float]]:
    """Cards in the order their first (riskiest) order appears, at most k."""
    ranked = rows.sort_values("rank").drop_duplicates("entity")
    return list(zip(ranked["entity"][:k], ranked["probability"][:k], strict=True))


def daily_ranking(
    window: MetricsWindow, k: int, cap: int = SAMPLE_PER_DAY
) -> list[dict[str, Any]]:
    """Per order day, for a review capacity of k orders a day: precision@k,
    card precision@k and recall@k; AP and ROC AUC on a deterministic sample
    of at most `cap` orders (hash of the order id).

    Card precision@k needs the day's k riskiest cards: they are read off the
    2k riskiest orders, and only when those hold fewer than k cards is the
    day's card ranking computed in SQL.
    """
    rows = _ranked_rows(window, k, cap)
    frauds = _fraud_orders(window)
    fraud_ids = set(frauds["order_id"])
    fraud_cards = set(zip(frauds["day"], frauds["entity"], strict=True))
    rows["fraud"] = rows["order_id"].isin(fraud_ids).astype(int)
    by_day = dict(list(rows.groupby("day")))
    positives_by_day = frauds[frauds["scored"]].groupby("day").size()
    days = []
    for day in window.days:
        today = by_day.get(day, rows.iloc[:0])
        top = today[today["rank"] <= k]
        sample = today[today["pick"] <= cap]
        ranked = today[today["rank"] <= 2 * k]
        cards = _cards_from_top(ranked, k)
        if len(cards) < k and len(ranked) == 2 * k:
            cards = _top_cards(window, day, k)
        card_fraud = [int((day, entity) in fraud_cards) for entity, _ in cards]
        positives = int(positives_by_day.get(day, 0))
        days.append(
            {
                "day": day,
                "k": k,
                "ranked": len(top),
                "p_at_k": rm.precision_at_k(
                    top["fraud"].to_numpy(), top["probability"].to_numpy(), k
                ),
                "cp_at_k": rm.card_precision_at_k(
                    [e for e, _ in cards], card_fraud, [p for _, p in cards], k
                ),
                "recall_at_k": rm.recall_at_k(
                    top["fraud"], top["probability"], k, positives
                ),
                "sampled": len(sample),
                "sample_frauds": int(sample["fraud"].sum()),
                "ap": rm.average_precision(sample["fraud"], sample["probability"]),
                "auc": rm.roc_auc(sample["fraud"], sample["probability"]),
            }
        )
    return days


# --- Inverse-propensity estimates from the random audit -------------------------


def ipw_estimates(window: MetricsWindow) -> list[dict[str, Any]]:
    """Horvitz–Thompson precision and recall of two rules over orders of the
    window: the model's flag (review or decline) and the review queue.

    Decided high-risk cases stand for themselves (π = 1); decided random-audit
    cases stand for 1/π orders each, π being their recorded selection
    probability. Exploration cases are left out: they are not a random sample.
    Without a decided audit case nothing stands for the rest of the orders,
    so the estimates are NaN rather than a recall of 100%.
    """
    rows = list(
        ReviewCase.objects.filter(
            window.q("order__created_at"),
            status=ReviewCase.Status.DECIDED,
            queue_reason__in=[
                ReviewCase.QueueReason.HIGH_RISK,
                ReviewCase.QueueReason.NO_MODEL,
                ReviewCase.QueueReason.AUDIT,
            ],
        )
        .annotate(
            truth=_truth("order_id"),
            decision=Subquery(
                Score.objects.filter(order_id=OuterRef("order_id"))
                .order_by("-id")
                .values("decision")[:1]
            ),
        )
        .values("queue_reason", "truth", "decision")
        .annotate(
            cases=Count("id"),
            weight=Sum(
                ExpressionWrapper(
                    Value(1.0) / F("selection_probability"), output_field=FloatField()
                )
            ),
        )
    )
    audit = [r for r in rows if r["queue_reason"] == ReviewCase.QueueReason.AUDIT]
    y = [r["truth"] == FRAUD for r in rows]
    weights = [r["weight"] for r in rows]
    rules = {
        "Model flag (review or decline)": [
            r["decision"] != Score.Decision.APPROVE for r in rows
        ],
        "Review queue (high-risk cases)": [
            r["queue_reason"] != ReviewCase.QueueReason.AUDIT for r in rows
        ],
    }
    audit_cases = sum(r["cases"] for r in audit)
    counts = {
        "audit_cases": audit_cases,
        "audit_frauds": sum(r["cases"] for r in audit if r["truth"] == FRAUD),
        "queue_cases": sum(r["cases"] for r in rows) - audit_cases,
    }
    result = []
    for rule, flagged in rules.items():
        estimate = rm.ipw_precision_recall(y, flagged, weights)
        nan = float("nan")
        result.append(
            {
                "rule": rule,
                **counts,
                "est_frauds": estimate.frauds if audit_cases else nan,
                "est_flagged": estimate.flagged if audit_cases else nan,
                "precision": estimate.precision if audit_cases else nan,
                "recall": estimate.recall if audit_cases else nan,
            }
        )
    return result


# --- Labels ------------------------------------------------------------------


def daily_label_latency(window: MetricsWindow) -> list[dict[str, Any]]:
    """Time from order to label, per order day and label source (hours)."""
    rows = (
        Label.objects.filter(window.q("order__created_at"))
        .annotate(
            day=TruncDate("order__created_at"),
            latency=ExpressionWrapper(
                F("known_at") - F("order__created_at"), output_field=DurationField()
            ),
        )
        .values("day", "source")
        .annotate(
            labels=Count("id"),
            mean=Avg("latency"),
            **_below("known_at", "order__created_at", LATENCY_EDGES_HOURS, "hours"),
        )
        .order_by("day", "source")
    )
    result = []
    for row in rows:
        median, p90 = _quantiles(row, LATENCY_EDGES_HOURS, row["labels"])
        result.append(
            {
                "day": row["day"],
                "source": row["source"],
                "labels": row["labels"],
                "mean_hours": row["mean"].total_seconds() / 3600,
                "median_hours": median,
                "p90_hours": p90,
            }
        )
    return result


# --- Review operations ---------------------------------------------------------


def daily_workload(window: MetricsWindow) -> list[dict[str, Any]]:
    """Cases opened and finally decided per day, and the backlog at day end.

    A case leaves the backlog at its final decision (`decided_at` of a case
    whose status is decided); QA and escalated cases are still pending.
    """
    decided = ReviewCase.Status.DECIDED
    opened = (
        ReviewCase.objects.filter(window.q("created_at"))
        .values(day=TruncDate("created_at"))
        .annotate(opened=Count("id"))
    )
    closed = (
        ReviewCase.objects.filter(window.q("decided_at"), status=decided)
        .values(day=TruncDate("decided_at"))
        .annotate(closed=Count("id"))
    )
    start = (
        ReviewCase.objects.filter(created_at__lt=window.since)
        .exclude(status=decided, decided_at__lt=window.since)
        .count()
    )
    days = _by_day(window, list(opened), {"opened": 0, "closed": 0})
    closed_by_day = {row["day"]: row["closed"] for row in closed}
    for row in days:
        row["closed"] = closed_by_day.get(row["day"], 0)
    pending = rm.backlog(
        start, [r["opened"] for r in days], [r["closed"] for r in days]
    )
    for row, backlog in zip(days, pending, strict=True):
        row["backlog"] = backlog
    return days


def _decided_claims(window: MetricsWindow) -> QuerySet[Claim]:
    return Claim.objects.filter(
        window.q("released_at"), end=Claim.End.DECIDED
    ).annotate(
        seconds=ExpressionWrapper(
            F("released_at") - F("claimed_at"), output_field=DurationField()
        )
    )


def _throughput_row(row: dict[str, Any]) -> dict[str, Any]:
    median, p90 = _quantiles(row, DECISION_EDGES_SECONDS, row["decisions"])
    mean = row["mean"].total_seconds() if row["mean"] is not None else float("nan")
    return {
        **{k: v for k, v in row.items() if not k.startswith("below_") and k != "mean"},
        "mean_seconds": mean,
        "median_seconds": median,
        "p90_seconds": p90,
    }


def daily_throughput(window: MetricsWindow) -> list[dict[str, Any]]:
    """Decisions per day, reviewers active, and time from claim to decision."""
    rows = (
        _decided_claims(window)
        .values(day=TruncDate("released_at"))
        .annotate(
            decisions=Count("id"),
            reviewers=Count("reviewer", distinct=True),
            mean=Avg("seconds"),
            **_below("released_at", "claimed_at", DECISION_EDGES_SECONDS, "seconds"),
        )
    )
    found = {row["day"]: _throughput_row(row) for row in rows}
    days = []
    for day in window.days:
        row = found.get(day) or {
            "day": day,
            "decisions": 0,
            "reviewers": 0,
            "mean_seconds": float("nan"),
            "median_seconds": float("nan"),
            "p90_seconds": float("nan"),
        }
        row["per_reviewer"] = rm.ratio(row["decisions"], row["reviewers"])
        days.append(row)
    return days


def reviewer_throughput(window: MetricsWindow) -> list[dict[str, Any]]:
    """Per reviewer over the window: decisions, active days, decision time."""
    rows = (
        _decided_claims(window)
        .values(reviewer_name=F("reviewer__username"))
        .annotate(
            decisions=Count("id"),
            active_days=Count(TruncDate("released_at"), distinct=True),
            mean=Avg("seconds"),
            **_below("released_at", "claimed_at", DECISION_EDGES_SECONDS, "seconds"),
        )
        .order_by("-decisions", "reviewer_name")
    )
    result = []
    for row in rows:
        out = _throughput_row(row)
        out["per_day"] = rm.ratio(out["decisions"], out["active_days"])
        result.append(out)
    return result


def _qa_pairs(window: MetricsWindow) -> QuerySet[ReviewCase]:
    """Cases with a blind double review whose second label falls in the window.

    The pair is a case's first two reviewer labels; a lead's override is not
    a review of its own, so labels with the lead_override reason are skipped.
    """
    reviews = (
        Label.objects.filter(case_id=OuterRef("pk"), source=Label.Source.REVIEWER)
        .annotate(reasons_text=Cast("reasons", TextField()))
        .exclude(reasons_text__contains="lead_override")
        .order_by("id")
    )
    return (
        ReviewCase.objects.filter(decided_at__gte=window.since)
        .annotate(
            first=Subquery(reviews.values("value")[:1]),
            second=Subquery(reviews.values("value")[1:2]),
            second_at=Subquery(reviews.values("known_at")[1:2]),
        )
        .filter(second__isnull=False, second_at__gte=window.since)
        .filter(second_at__lt=window.until)
    )


def daily_agreement(window: MetricsWindow) -> tuple[list[dict[str, Any]], dict]:
    """Per QA day, and over the whole window: double reviews, agreement and
    Cohen's kappa."""
    rows = list(
        _qa_pairs(window)
        .values("first", "second", day=TruncDate("second_at"))
        .annotate(n=Count("id"))
    )
    categories = [FRAUD, LEGITIMATE]

    def summary(pairs: list[dict[str, Any]]) -> dict[str, Any]:
        table = rm.pair_table(
            ((p["first"], p["second"], p["n"]) for p in pairs), categories
        )
        total = int(table.sum())
        return {
            "pairs": total,
            "agreements": int(np.trace(table)),
            "agreement_rate": rm.ratio(float(np.trace(table)), total),
            "kappa": rm.cohen_kappa(table),
            "both_fraud": int(table[0, 0]),
            "both_legitimate": int(table[1, 1]),
            "first_fraud_only": int(table[0, 1]),
            "second_fraud_only": int(table[1, 0]),
        }

    days = [
        {"day": day, **summary([r for r in rows if r["day"] == day])}
        for day in window.days
    ]
    return days, {"day": None, **summary(rows)}


# --- Models and drift ------------------------------------------------------------


def model_version_metrics(
    window: MetricsWindow, cap: int = SAMPLE_PER_VERSION
) -> list[dict[str, Any]]:
    """Each trained version's holdout metrics (stored at training) next to its
    live metrics on the window's orders it scored: AP and ROC AUC on at most
    `cap` of them per version, sampled deterministically."""
    versions = list(
        ModelVersion.objects.exclude(
            status__in=[ModelVersion.Status.TRAINING, ModelVersion.Status.FAILED]
        ).order_by("id")
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
                order_by=[_HASH.asc(), F("id").asc()],
            )
        )
        .filter(pick__lte=cap)
        .values_list("model_version", "order_id", "probability")
    )
    frame = pd.DataFrame(list(sample), columns=["version", "order_id", "probability"])
    frame["fraud"] = frame["order_id"].isin(set(_fraud_orders(window)["order_id"]))
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
                "live_ap": rm.average_precision(rows["fraud"], rows["probability"]),
                "live_auc": rm.roc_auc(rows["fraud"], rows["probability"]),
            }
        )
    return result


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else float("nan")


def training_window(version: ModelVersion) -> MetricsWindow:
    """The TRAINING_WINDOW days of orders before `version` was trained."""
    last = timezone.localtime(version.created_at).date() - timedelta(days=1)
    return MetricsWindow(last - TRAINING_WINDOW + timedelta(days=1), last)


@dataclass(frozen=True)
class Reference:
    """The active version's training window, as a sample of its scores."""

    version: ModelVersion
    window: MetricsWindow
    scores: np.ndarray
    features: pd.DataFrame


def drift_reference() -> Reference | None:
    """At most DRIFT_EDGE_SAMPLE latest scores (hash order) of the orders in
    the active version's training window; None without an active version or
    without scores in that window."""
    version = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if version is None:
        return None
    window = training_window(version)
    rows = list(
        _scored(window)
        .order_by(_HASH.asc(), "id")
        .values_list("probability", "features")[:DRIFT_EDGE_SAMPLE]
    )
    if not rows:
        return None
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
    """The drift bin of a score, as risk_metrics.bin_counts places it."""
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
    edges = rm.quantile_edges(reference.scores, DRIFT_BINS)
    expected = rm.bin_counts(reference.scores, edges)[:-1]
    actual: dict[date, np.ndarray] = {}
    per_day = _scored(window).values("day", b=_bin(edges)).annotate(n=Count("id"))
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
                "psi": rm.psi(expected, counts) if enough else float("nan"),
            }
        )
    return days


def feature_drift(window: MetricsWindow, reference: Reference) -> list[dict[str, Any]]:
    """PSI of each feature of the active version, the window's scores against
    the reference, on at most FEATURE_SAMPLE scores of each (hash order)."""
    rows = (
        _latest_scores(window)
        .order_by(_HASH.asc(), "id")
        .values_list("features", flat=True)[:FEATURE_SAMPLE]
    )
    current = _feature_frame(list(rows), reference.version)
    if reference.features.empty or current.empty:
        return []
    psis = rm.psi_by_feature(reference.features, current, DRIFT_BINS)
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
