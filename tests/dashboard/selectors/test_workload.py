"""Backlog, throughput and decision time."""

import pytest

from dashboard.selectors import workload
from tests.dashboard.data import (
    BOTH,
    D0,
    D1,
    D2,
    DAY1,
    at,
    case_created,
    claim,
)
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_daily_workload_counts_the_backlog_from_before_the_window():
    case_created(D0)  # still open: in the backlog from the start
    case_created(D0, "decided", decided=D0)  # done before the window
    case_created(D0, "decided", decided=D1)  # pending at the start, closed D1
    case_created(D1)
    case_created(D1, "decided", decided=D2)
    case_created(D1, "qa", decided=D1)  # first decision, QA pending: not closed

    day1, day2 = workload.daily_workload(BOTH)

    assert (day1["opened"], day1["closed"], day1["backlog"]) == (3, 1, 4)
    assert (day2["opened"], day2["closed"], day2["backlog"]) == (0, 1, 3)


def test_throughput_and_decision_time_per_day_and_reviewer(reviewers):
    one, two = reviewers
    case = CaseFactory(priority=1, queue_reason="audit")
    claim(case, one, at(D1, 10), 100)
    claim(case, two, at(D1, 11), 300)

    (day,) = workload.daily_throughput(DAY1)
    by_name = {r["reviewer_name"]: r for r in workload.reviewer_throughput(DAY1)}

    assert (day["decisions"], day["reviewers"], day["per_reviewer"]) == (2, 2, 1.0)
    assert day["mean_seconds"] == 200.0
    # Counts below the edges: 1 under 120 s, 2 under 450 s. Median: the 1st
    # value, at the top of the 60–120 s bin; 90th pct.: 1.8 → 300 + .8 × 150.
    assert day["median_seconds"] == pytest.approx(120.0)
    assert day["p90_seconds"] == pytest.approx(420.0)
    assert by_name["rev-one"]["mean_seconds"] == 100.0
    assert by_name["rev-two"]["median_seconds"] == pytest.approx(375.0)
    assert by_name["rev-two"]["per_day"] == 1.0
