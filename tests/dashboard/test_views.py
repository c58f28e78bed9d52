"""The dashboard's pages and CSV exports: access, rendering, filters."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client

from cases.services.users import user_create
from dashboard.selectors import ranking
from dashboard.tables import TABLES
from models_ml.models import ModelVersion
from tests.dashboard.data import (
    D1,
    PASSWORD,
    at,
    claim,
    label,
    reviewed,
    scored_order,
)
from tests.factories import CaseFactory, TenantFactory

pytestmark = pytest.mark.django_db


PAGES = ["/dashboard/", "/dashboard/reviewers/", "/dashboard/models/"]


RANGE = {"date_from": "2026-03-02", "date_to": "2026-03-03", "k": "2"}


@pytest.mark.parametrize("url", PAGES)
def test_page_renders_svg_charts_for_leads(url, world, active, lead_client):
    response = lead_client.get(url, RANGE)

    assert response.status_code == 200
    assert b'<svg class="chart' in response.content
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
    user = user_create("@sum", PASSWORD, "reviewer", tenant=TenantFactory())
    case = CaseFactory(priority=1, queue_reason="audit")
    claim(case, user, at(D1, 10), 60)

    rows = _csv(lead_client, "reviewers", date_from="2026-03-02", date_to="2026-03-02")

    assert rows[1][0] == "'@sum"


def test_an_inverted_date_range_is_refused(lead_client):
    params = {"date_from": "2026-03-03", "date_to": "2026-03-02"}

    assert lead_client.get("/dashboard/", params).status_code == 400
    assert lead_client.get("/dashboard/export/ranking.csv", params).status_code == 400


def test_an_unknown_table_is_not_found(lead_client):
    assert lead_client.get("/dashboard/export/nope.csv").status_code == 404


def test_capacity_defaults_to_the_observed_daily_decisions_but_at_least_ten(
    reviewers, lead_client
):
    one, _two = reviewers
    for hour in (9, 10, 11):
        case = CaseFactory(priority=1, queue_reason="audit")
        claim(case, one, at(D1, hour), 60)
    params = {"date_from": "2026-03-01", "date_to": "2026-03-02"}

    rows = _csv(lead_client, "ranking", **params)
    html = lead_client.get("/dashboard/", params).content.decode()

    assert {r[1] for r in rows[1:]} == {"10"}
    # 3 decisions on the one day with any, raised to the minimum of 10.
    assert "per day in this range (3), raised to 10" in html


def test_default_capacity_is_the_observed_one_above_the_minimum():
    assert ranking.default_capacity(3) == ranking.MIN_DEFAULT_K == 10
    assert ranking.default_capacity(12) == 12


def test_drift_names_the_active_version_when_its_window_has_no_scores(
    active, lead_client
):
    """The section once said "No active model version" while one was active."""
    html = lead_client.get("/dashboard/models/", RANGE).content.decode()

    assert f"v{active.pk} is the active version" in html
    assert "No active model version" not in html


def test_drift_says_so_without_an_active_version(lead_client):
    html = lead_client.get("/dashboard/models/", RANGE).content.decode()

    assert "No active model version" in html


def test_drift_shows_a_version_promoted_after_the_page_was_cached(lead_client):
    lead_client.get("/dashboard/models/", RANGE)  # cached: no active version
    version = ModelVersion.objects.create(
        tenant=TenantFactory(),
        status=ModelVersion.Status.ACTIVE,
        feature_names=["amount"],
    )
    for i in range(10):
        order = scored_order(D1 - timedelta(days=5), 0.05 + 0.1 * i, version=version)
        label(order, "legitimate", known_at=at(D1 - timedelta(days=4)))

    html = lead_client.get("/dashboard/models/", RANGE).content.decode()

    assert 'id="chart-score_drift"' in html


def test_live_metrics_on_a_handful_of_orders_carry_a_small_sample_warning(
    world, active, lead_client
):
    fraud = scored_order(D1, 0.9, version=active)
    label(fraud, "fraud", "chargeback")
    scored_order(D1, 0.2, version=active)

    html = lead_client.get("/dashboard/models/", RANGE).content.decode()

    assert 'id="small-sample-warning"' in html
    assert f"v{active.pk} rest on 2 orders with 1 fraud" in html


def test_pages_render_many_points(lead_client):
    """Ninety days of orders, one a day, each scored, labelled and reviewed."""
    first = D1 - timedelta(days=89)
    for offset in range(90):
        order = scored_order(first + timedelta(days=offset), (offset % 10) / 10)
        reviewed(order, "high_risk", "fraud" if offset % 3 else "legitimate")
    params = {"date_from": f"{first}", "date_to": f"{D1}"}

    for url in PAGES[:2]:  # the models page charts versions, not days
        response = lead_client.get(url, params)
        assert response.status_code == 200
        assert response.content.count(b"<circle") >= 90  # a dot per day
    assert lead_client.get(PAGES[2], params).status_code == 200
