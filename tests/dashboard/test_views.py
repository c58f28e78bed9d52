"""The dashboard's pages and CSV exports: access, rendering, filters."""

import csv
import io

import pytest
from django.test import Client

from cases.models import Case
from cases.services.users import user_create
from dashboard.views import TABLES
from tests.dashboard.data import (
    D1,
    PASSWORD,
    at,
    claim,
    reviewed,
    scored_order,
)
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


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
    claim(case, user, at(D1, 10), 60)

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
        claim(case, one, at(D1, hour), 60)

    rows = _csv(lead_client, "ranking", date_from="2026-03-01", date_to="2026-03-02")

    assert {r[1] for r in rows[1:]} == {"3"}  # 3 decisions on the one day with any
