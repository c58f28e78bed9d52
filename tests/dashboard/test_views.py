"""The leads' dashboard: its SQL reads on hand-built data, its charts, its pages
and CSV exports."""

import csv
import io
import math
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.test import Client

from cases.models import Case, Claim, Label, Order
from cases.services.users import user_create
from dashboard.charts import chart, nice_ticks
from dashboard.selectors import common as sm
from dashboard.views import TABLES
from models_ml.models import ModelVersion, Score
from models_ml.scoring import decision_for
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"
D0, D1, D2 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
DAY1 = sm.MetricsWindow(D1, D1)
BOTH = sm.MetricsWindow(D1, D2)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The dashboard caches its rows; every test starts from the database."""
    cache.clear()
    yield
    cache.clear()


def at(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=UTC)


def scored_order(
    day: date,
    p: float,
    amount: str = "100.00",
    card: str = "",
    version: ModelVersion | None = None,
    features: dict | None = None,
) -> Order:
    order = OrderFactory(
        created_at=at(day), amount=Decimal(amount), card_fingerprint=card
    )
    Score.objects.create(
        order=order,
        probability=p,
        decision=decision_for(p),
        model_version=version,
        features=features or {},
    )
    return order


def reviewed(
    order: Order, reason: str, value: str, pi: float = 1.0, status: str = "decided"
) -> Case:
    """A case on `order` decided `value` by a reviewer an hour after the order."""
    case = Case.objects.create(
        order=order,
        priority=1.0,
        queue_reason=reason,
        selection_probability=pi,
        status=status,
        decided_at=order.created_at + timedelta(hours=1),
    )
    label(order, value, case=case)
    return case


def label(
    order: Order,
    value: str,
    source: str = "reviewer",
    case: Case | None = None,
    known_at: datetime | None = None,
    by: AbstractBaseUser | None = None,
    reasons: tuple[str, ...] = (),
) -> Label:
    return Label.objects.create(
        order=order,
        case=case,
        value=value,
        source=source,
        created_by=by,
        reasons=list(reasons),
        known_at=known_at or order.created_at + timedelta(hours=1),
    )


@pytest.fixture
def world() -> dict[str, Order]:
    """Day 1: six orders, worked through by hand in the tests below.

    order  score  decision  case            truth                     stopped
    o1     .95    decline   audit π=.25     legitimate (merchant)     yes
    o2     .80    review    high-risk       fraud (reviewer)          yes
    o3     .50    review    high-risk       fraud (chargeback over a  no
                                            reviewer's "legitimate")
    o4     .10    approve   —               fraud (chargeback)        no
    o5     .20    approve   audit π=.25     legitimate (reviewer)     no
    o6     .05    approve   audit π=.25     fraud (reviewer)          yes
    Day 2: o7 (.60, review, high-risk, decided fraud). o1 and o2 share card A.
    """
    o1 = scored_order(D1, 0.95, "30.00", card="card-A")
    reviewed(o1, "audit", "legitimate", pi=0.25)
    label(o1, "legitimate", "merchant", known_at=at(D1 + timedelta(days=3)))
    o2 = scored_order(D1, 0.80, "100.00", card="card-A")
    reviewed(o2, "high_risk", "fraud")
    o3 = scored_order(D1, 0.50, "50.00", card="card-B")
    reviewed(o3, "high_risk", "legitimate")
    label(o3, "fraud", "chargeback", known_at=at(D1 + timedelta(days=20)))
    o4 = scored_order(D1, 0.10, "20.00", card="card-C")
    label(o4, "fraud", "chargeback", known_at=at(D1 + timedelta(days=30)))
    o5 = scored_order(D1, 0.20, "10.00", card="card-D")
    reviewed(o5, "audit", "legitimate", pi=0.25)
    o6 = scored_order(D1, 0.05, "10.00", card="card-E")
    reviewed(o6, "audit", "fraud", pi=0.25)
    o7 = scored_order(D2, 0.60, "200.00", card="card-F")
    reviewed(o7, "high_risk", "fraud")
    return {"o1": o1, "o2": o2, "o3": o3, "o4": o4, "o5": o5, "o6": o6, "o7": o7}


# --- Decisions, outcomes, ranking, IPW ------------------------------------------


def test_daily_decisions_count_the_latest_score_of_each_order(world):
    # A newer score replaces o4's approve with a decline.
    Score.objects.create(order=world["o4"], probability=0.97, decision="decline")

    (day,) = sm.daily_decisions(DAY1)

    assert (day["orders"], day["approve"], day["review"], day["decline"]) == (
        6,
        2,
        2,
        2,
    )
    assert day["cases"] == 5
    assert day["review_rate"] == pytest.approx(5 / 6)
    assert day["decline_share"] == pytest.approx(2 / 6)


def test_daily_outcomes_split_caught_missed_and_false_positives(world):
    (day,) = sm.daily_outcomes(DAY1)

    assert day["frauds"] == 4  # o2, o3, o4, o6
    assert (day["caught"], day["caught_amount"]) == (2, 110.0)  # o2, o6
    assert (day["missed"], day["missed_amount"]) == (2, 70.0)  # o3, o4
    assert (day["false_positives"], day["false_positives_amount"]) == (1, 30.0)


def test_daily_outcomes_queue_precision_uses_the_truth_not_the_decision(world):
    (day,) = sm.daily_outcomes(DAY1)

    # o2 and o3 are the decided high-risk cases; o3's chargeback makes it fraud.
    assert (day["queue_decided"], day["queue_frauds"]) == (2, 2)
    assert day["queue_precision"] == 1.0


def test_daily_outcomes_give_each_day_its_own_row(world):
    first, second = sm.daily_outcomes(BOTH)

    assert (first["day"], first["caught"]) == (D1, 2)
    assert (second["day"], second["caught"], second["caught_amount"]) == (D2, 1, 200.0)


def test_daily_ranking_for_a_capacity_of_two(world):
    (day,) = sm.daily_ranking(DAY1, k=2)

    # Ranked: o1 .95 (legit), o2 .80 (fraud), o3, o5, o4, o6.
    assert day["p_at_k"] == 0.5
    assert day["recall_at_k"] == 0.25  # 1 of the 4 frauds
    # Cards: A (o1 + o2: .95, fraud through o2), then B (o3, fraud).
    assert day["cp_at_k"] == 1.0


def test_daily_ranking_ap_and_auc_on_the_day_sample(world):
    (day,) = sm.daily_ranking(DAY1, k=2)

    # Frauds at ranks 2, 3, 5, 6: AP = (1/2 + 2/3 + 3/5 + 4/6) / 4.
    assert day["ap"] == pytest.approx((1 / 2 + 2 / 3 + 3 / 5 + 4 / 6) / 4)
    # Only o2 and o3 outrank a legitimate order (o5): 2 of 4 × 2 pairs.
    assert day["auc"] == 0.25
    assert (day["sampled"], day["sample_frauds"]) == (6, 4)


def test_daily_ranking_sample_is_capped_per_day(world):
    (day,) = sm.daily_ranking(DAY1, k=2, cap=3)

    assert day["sampled"] == 3


def test_daily_ranking_falls_back_to_sql_when_one_card_fills_the_top(world):
    # Four more orders on card A, all riskier than anything else: the top 2k
    # orders (k = 2) hold one card only, so the card ranking is read in SQL.
    for _ in range(4):
        scored_order(D1, 0.99, "5.00", card="card-A")

    (day,) = sm.daily_ranking(DAY1, k=2)

    assert day["cp_at_k"] == 1.0  # cards A and B, both fraud
    assert day["p_at_k"] == 0.0  # the four new orders are unlabelled


def test_ipw_estimates_weight_audit_cases_by_one_over_pi(world):
    model_flag, queue = sm.ipw_estimates(DAY1)

    # Weights: o1, o5, o6 (audit, π = .25) 4 each; o2, o3 (queue) 1 each.
    # Frauds: o2 + o3 + o6 = 1 + 1 + 4 = 6.
    assert model_flag["est_frauds"] == 6.0
    # Model flag: o1 (decline, legit, 4), o2, o3 → precision 2/6, recall 2/6.
    assert model_flag["precision"] == pytest.approx(1 / 3)
    assert model_flag["recall"] == pytest.approx(1 / 3)
    # Review queue: o2, o3 → precision 1, recall 2/6.
    assert queue["precision"] == 1.0
    assert queue["recall"] == pytest.approx(1 / 3)
    assert (queue["audit_cases"], queue["audit_frauds"], queue["queue_cases"]) == (
        3,
        1,
        2,
    )


def test_ipw_estimates_leave_out_exploration_and_pending_cases(world):
    reviewed(scored_order(D1, 0.2), "exploration", "fraud", pi=0.5)
    reviewed(scored_order(D1, 0.2), "audit", "fraud", pi=0.25, status="qa")

    model_flag, _queue = sm.ipw_estimates(DAY1)

    assert model_flag["est_frauds"] == 6.0


def test_ipw_estimates_are_undefined_without_audit_cases():
    reviewed(scored_order(D1, 0.8), "high_risk", "fraud")

    model_flag, queue = sm.ipw_estimates(DAY1)

    assert (model_flag["queue_cases"], model_flag["audit_cases"]) == (1, 0)
    assert math.isnan(model_flag["recall"])
    assert math.isnan(queue["precision"])


# --- Labels and review operations -----------------------------------------------


def test_daily_label_latency_per_source():
    order = scored_order(D1, 0.5)
    label(order, "fraud", known_at=at(D1, 14))  # 2 hours
    label(order, "fraud", "chargeback", known_at=at(D1 + timedelta(days=10)))

    chargeback, reviewer = sm.daily_label_latency(DAY1)

    assert (chargeback["source"], chargeback["mean_hours"]) == ("chargeback", 240.0)
    # 240 h lies between the 168 h and 336 h edges: median 168 + .5 × 168.
    assert chargeback["median_hours"] == pytest.approx(252.0)
    assert chargeback["p90_hours"] == pytest.approx(168 + 0.9 * 168)
    assert (reviewer["labels"], reviewer["mean_hours"]) == (1, 2.0)
    assert reviewer["median_hours"] == pytest.approx(2.5)  # between 1 h and 4 h


def _case_created(day: date, status: str = "open", decided: date | None = None) -> Case:
    case = Case.objects.create(
        order=OrderFactory(), priority=1.0, queue_reason="high_risk", status=status
    )
    Case.objects.filter(pk=case.pk).update(
        created_at=at(day, 9), decided_at=at(decided, 15) if decided else None
    )
    return case


def test_daily_workload_counts_the_backlog_from_before_the_window():
    _case_created(D0)  # still open: in the backlog from the start
    _case_created(D0, "decided", decided=D0)  # done before the window
    _case_created(D0, "decided", decided=D1)  # pending at the start, closed D1
    _case_created(D1)
    _case_created(D1, "decided", decided=D2)
    _case_created(D1, "qa", decided=D1)  # first decision, QA pending: not closed

    day1, day2 = sm.daily_workload(BOTH)

    assert (day1["opened"], day1["closed"], day1["backlog"]) == (3, 1, 4)
    assert (day2["opened"], day2["closed"], day2["backlog"]) == (0, 1, 3)


@pytest.fixture
def reviewers() -> tuple[AbstractBaseUser, AbstractBaseUser]:
    return (
        user_create("rev-one", PASSWORD, "reviewer"),
        user_create("rev-two", PASSWORD, "reviewer"),
    )


def _claim(case: Case, user: AbstractBaseUser, start: datetime, seconds: int) -> None:
    claim = Claim.objects.create(
        case=case,
        reviewer=user,
        expires_at=start + timedelta(minutes=15),
        released_at=start + timedelta(seconds=seconds),
        end=Claim.End.DECIDED,
    )
    Claim.objects.filter(pk=claim.pk).update(claimed_at=start)


def test_throughput_and_decision_time_per_day_and_reviewer(reviewers):
    one, two = reviewers
    case = Case.objects.create(order=OrderFactory(), priority=1, queue_reason="audit")
    _claim(case, one, at(D1, 10), 100)
    _claim(case, two, at(D1, 11), 300)

    (day,) = sm.daily_throughput(DAY1)
    by_name = {r["reviewer_name"]: r for r in sm.reviewer_throughput(DAY1)}

    assert (day["decisions"], day["reviewers"], day["per_reviewer"]) == (2, 2, 1.0)
    assert day["mean_seconds"] == 200.0
    # Counts below the edges: 1 under 120 s, 2 under 450 s. Median: the 1st
    # value, at the top of the 60–120 s bin; 90th pct.: 1.8 → 300 + .8 × 150.
    assert day["median_seconds"] == pytest.approx(120.0)
    assert day["p90_seconds"] == pytest.approx(420.0)
    assert by_name["rev-one"]["mean_seconds"] == 100.0
    assert by_name["rev-two"]["median_seconds"] == pytest.approx(375.0)
    assert by_name["rev-two"]["per_day"] == 1.0


def test_daily_agreement_kappa_on_qa_pairs(reviewers):
    one, two = reviewers
    lead = user_create("lead-one", PASSWORD, "lead")
    pairs = [("fraud", "fraud"), ("fraud", "legitimate"), ("legitimate",) * 2] + [
        ("legitimate",) * 2
    ]
    for first, second in pairs:
        case = reviewed(scored_order(D1, 0.5), "high_risk", first)
        label(case.order, second, case=case, by=two, known_at=at(D1, 15))
    # A lead's override is not a second review: no pair.
    overridden = reviewed(scored_order(D1, 0.5), "high_risk", "fraud")
    label(
        overridden.order,
        "legitimate",
        case=overridden,
        by=lead,
        known_at=at(D1, 16),
        reasons=("other", "lead_override"),
    )

    (day,), total = sm.daily_agreement(DAY1)

    # Table [[1, 1], [0, 2]]: observed 3/4; chance (2·1 + 2·3) / 16 = 1/2.
    assert (day["pairs"], day["agreements"]) == (4, 3)
    assert day["kappa"] == pytest.approx(0.5)
    assert (total["pairs"], total["kappa"]) == (4, pytest.approx(0.5))
    assert (day["first_fraud_only"], day["second_fraud_only"]) == (1, 0)


# --- Models and drift -----------------------------------------------------------


@pytest.fixture
def active() -> ModelVersion:
    version = ModelVersion.objects.create(
        status=ModelVersion.Status.ACTIVE,
        feature_names=["amount", "hour"],
        metrics={"holdout": {"ap": 0.5, "auc": 0.8, "p_at_k": 0.4, "brier": 0.1}},
    )
    ModelVersion.objects.filter(pk=version.pk).update(created_at=at(D1, 0))
    version.refresh_from_db()
    return version


def test_training_window_is_the_30_days_before_the_version(active):
    window = sm.training_window(active)

    assert (window.first, window.last) == (date(2026, 1, 31), D0)


def _training_orders(version: ModelVersion) -> None:
    """Ten orders in the training window scored .05, .15, … .95 (one per
    decile), with amounts 10, 20, … 100."""
    for i in range(10):
        scored_order(
            date(2026, 2, 20),
            0.05 + 0.1 * i,
            version=version,
            features={"amount": 10.0 * (i + 1), "hour": None},
        )


def test_score_drift_against_the_training_window_deciles(active):
    _training_orders(active)
    for p in (0.97, 0.98, 0.99):
        scored_order(D1, p, version=active, features={"amount": 100.0})
    reference = sm.drift_reference()

    (day,) = sm.score_drift(DAY1, reference, min_scores=1)

    # Reference: one score per decile bin (share .1 each); the day: all three
    # in the top bin. PSI = 9 · (1e-4 − .1) · ln(1e-4 / .1) + .9 · ln(1 / .1).
    expected = 9 * (1e-4 - 0.1) * math.log(1e-4 / 0.1) + 0.9 * math.log(10)
    assert day["scored"] == 3
    assert day["psi"] == pytest.approx(expected)


def test_score_drift_skips_days_with_too_few_scores(active):
    _training_orders(active)
    scored_order(D1, 0.5, version=active)

    (day,) = sm.score_drift(DAY1, sm.drift_reference())

    assert day["scored"] == 1
    assert math.isnan(day["psi"])


def test_feature_drift_per_feature_of_the_active_version(active):
    _training_orders(active)
    for _ in range(3):
        scored_order(D1, 0.5, version=active, features={"amount": 100.0})

    amount, hour = sm.feature_drift(DAY1, sm.drift_reference())

    # amount: same as the score case, all current values in the top decile.
    expected = 9 * (1e-4 - 0.1) * math.log(1e-4 / 0.1) + 0.9 * math.log(10)
    assert (amount["feature"], amount["psi"]) == ("amount", pytest.approx(expected))
    assert (amount["reference_mean"], amount["current_mean"]) == (55.0, 100.0)
    # hour: missing in both windows, so all in the missing bin.
    assert (hour["feature"], hour["psi"], hour["current_missing"]) == ("hour", 0, 1.0)


def test_drift_reference_is_none_without_an_active_version():
    assert sm.drift_reference() is None


def test_model_version_metrics_holdout_and_live(active):
    retired = ModelVersion.objects.create(status=ModelVersion.Status.RETIRED)
    ModelVersion.objects.create(status=ModelVersion.Status.FAILED)
    fraud = scored_order(D1, 0.9, version=active)
    label(fraud, "fraud", "chargeback")
    scored_order(D1, 0.2, version=active)
    scored_order(D1, 0.4, version=retired)

    rows = {r["version"]: r for r in sm.model_version_metrics(DAY1)}

    old, new = rows[f"v{retired.pk}"], rows[f"v{active.pk}"]
    assert len(rows) == 2  # the failed version is left out
    assert (old["scored"], math.isnan(old["holdout_ap"])) == (1, True)
    assert (new["holdout_ap"], new["holdout_auc"], new["scored"]) == (0.5, 0.8, 2)
    assert (new["live_ap"], new["live_auc"], new["sample_frauds"]) == (1.0, 1.0, 1)


# --- Charts ---------------------------------------------------------------------


def test_nice_ticks_cover_the_range_in_round_steps():
    assert nice_ticks(0, 0.83) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(0, 1234) == [0, 250, 500, 750, 1000, 1250]


def test_nice_ticks_widen_an_empty_range():
    assert nice_ticks(0, 0) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])


def test_chart_of_zeros_draws_on_the_zero_line():
    result = chart("c", "C", ["a", "b"], lines={"x": [0, 0]})

    assert {dot.y for dot in result.lines[0].dots} == {result.bottom}


def test_chart_breaks_a_line_where_a_value_is_missing():
    result = chart("c", "C", list("abcde"), lines={"x": [1, 2, None, 3, 4]})

    (line,) = result.lines
    assert len(line.segments) == 2
    assert len(line.dots) == 4


def test_chart_without_values_is_empty():
    assert chart("c", "C", ["a"], lines={"x": [float("nan")]}).empty


def test_chart_of_one_point_draws_it():
    """One value (one decided case in the range) once crashed every dashboard page."""
    result = chart("c", "C", ["a"], lines={"x": [0.5]})

    assert not result.empty
    (line,) = result.lines
    assert len(line.dots) == 1


def test_chart_of_one_point_with_a_rule_covers_both():
    result = chart("c", "C", ["a"], lines={"x": [0.05]}, rules={"limit": 0.25})

    assert float(result.y_ticks[-1].text) >= 0.25


def test_chart_bars_grow_from_zero_to_their_value():
    result = chart("c", "C", ["a", "b"], bars={"n": [2, 4]})

    small, large = result.bars
    assert small.y + small.height == large.y + large.height == result.bottom
    assert large.height == pytest.approx(2 * small.height)


# --- Pages and CSV exports ------------------------------------------------------


@pytest.fixture
def lead_client() -> Client:
    client = Client()
    client.force_login(user_create("lead-dash", PASSWORD, "lead"))
    return client


@pytest.fixture
def reviewer_client() -> Client:
    client = Client()
    client.force_login(user_create("reviewer-dash", PASSWORD, "reviewer"))
    return client


PAGES = ["/dashboard/", "/dashboard/reviewers/", "/dashboard/models/"]
RANGE = {"date_from": "2026-03-02", "date_to": "2026-03-03", "k": "2"}


@pytest.mark.parametrize("url", PAGES)
def test_page_renders_svg_charts_for_leads(url, world, active, lead_client):
    response = lead_client.get(url, RANGE)

    assert response.status_code == 200
    assert b'<svg class="chart"' in response.content
    assert b"<script" not in response.content.split(b"<main>")[1]


@pytest.mark.parametrize("url", PAGES)
def test_page_renders_without_any_data(url, lead_client):
    response = lead_client.get(url)

    assert response.status_code == 200
    assert b"No data in this date range." in response.content


@pytest.mark.parametrize("url", PAGES)
def test_page_renders_with_one_decided_case(url, lead_client):
    reviewed(scored_order(D1, 0.7), "high_risk", "fraud")

    response = lead_client.get(
        url, {"date_from": "2026-03-02", "date_to": "2026-03-02"}
    )

    assert response.status_code == 200


@pytest.mark.parametrize("url", [*PAGES, "/dashboard/export/ranking.csv"])
def test_reviewers_are_forbidden(url, reviewer_client):
    assert reviewer_client.get(url).status_code == 403


@pytest.mark.parametrize("url", [*PAGES, "/dashboard/export/ranking.csv"])
def test_anonymous_users_are_sent_to_sign_in(url, client):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/dashboard/")


def test_overview_labels_the_ipw_estimate(world, lead_client):
    response = lead_client.get("/dashboard/", RANGE)

    assert "IPW estimate from the random audit" in response.content.decode()


def test_overview_links_a_csv_for_every_table_on_it(world, lead_client):
    html = lead_client.get("/dashboard/", RANGE).content.decode()

    for slug, spec in TABLES.items():
        if spec.page == "overview":
            assert (
                f'href="/dashboard/export/{slug}.csv?date_from=2026-03-02&amp;'
                f'date_to=2026-03-03&amp;k=2"' in html
            )


def _csv(client: Client, table: str, **params: str) -> list[list[str]]:
    response = client.get(f"/dashboard/export/{table}.csv", params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("table", list(TABLES))
def test_csv_export_has_a_header_row_of_column_keys(table, world, active, lead_client):
    rows = _csv(lead_client, table, **RANGE)

    assert rows[0] == [c.key for c in TABLES[table].columns]


def test_date_filter_changes_the_numbers(world, lead_client):
    first = _csv(lead_client, "outcomes", date_from="2026-03-02", date_to="2026-03-02")
    second = _csv(lead_client, "outcomes", date_from="2026-03-03", date_to="2026-03-03")

    caught = first[0].index("caught")
    assert [(r[0], r[caught]) for r in first[1:]] == [("2026-03-02", "2")]
    assert [(r[0], r[caught]) for r in second[1:]] == [("2026-03-03", "1")]


def test_csv_leaves_undefined_metrics_empty(lead_client):
    rows = _csv(lead_client, "ranking", date_from="2026-03-02", date_to="2026-03-02")

    assert rows[1][rows[0].index("p_at_k")] == ""


def test_csv_defuses_text_that_spreadsheets_would_run(lead_client):
    user = user_create("@sum", PASSWORD, "reviewer")
    case = Case.objects.create(order=OrderFactory(), priority=1, queue_reason="audit")
    _claim(case, user, at(D1, 10), 60)

    rows = _csv(lead_client, "reviewers", date_from="2026-03-02", date_to="2026-03-02")

    assert rows[1][0] == "'@sum"


def test_an_inverted_date_range_is_refused(lead_client):
    params = {"date_from": "2026-03-03", "date_to": "2026-03-02"}

    assert lead_client.get("/dashboard/", params).status_code == 400
    assert lead_client.get("/dashboard/export/ranking.csv", params).status_code == 400


def test_an_unknown_table_is_not_found(lead_client):
    assert lead_client.get("/dashboard/export/nope.csv").status_code == 404


def test_capacity_defaults_to_the_observed_daily_decisions(reviewers, lead_client):
    one, _two = reviewers
    for hour in (9, 10, 11):
        case = Case.objects.create(
            order=OrderFactory(), priority=1, queue_reason="audit"
        )
        _claim(case, one, at(D1, hour), 60)

    rows = _csv(lead_client, "ranking", date_from="2026-03-01", date_to="2026-03-02")

    assert {r[1] for r in rows[1:]} == {"3"}  # 3 decisions on the one day with any
