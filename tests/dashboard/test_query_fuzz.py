"""Every query parameter of every dashboard URL, fuzzed: bad values are a 400
with the field's message, never a 5xx."""

import pytest

from dashboard.forms import EARLIEST, LATEST, MAX_K, DashboardFilterForm
from dashboard.tables import TABLES

pytestmark = pytest.mark.django_db

URLS = [
    "/dashboard/",
    "/dashboard/reviewers/",
    "/dashboard/models/",
    *(f"/dashboard/export/{slug}.csv" for slug in TABLES),
]
PARAMS = ("date_from", "date_to", "k")
NASTY = [
    "9999-12-31",  # once an OverflowError on every page
    "0001-01-01",
    "1999-12-31",
    "2101-01-01",
    "2026-02-30",
    "2026-13-01",
    "-2026-01-01",
    "20260101",
    "2026-01-01T00:00:00",
    "1e999999",
    "-1",
    "0",
    "abc",
    str(MAX_K + 1),
    "9" * 50,
    "9" * 5000,  # beyond Python's int() digit limit
    "1.5",
    "NaN",
    "inf",
    "",
    " ",
    "\x00",
    "%00",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "１２",  # full-width digits
    "२०२६-०१-०१",  # Devanagari digits
    "\u202e1-10-6202",
]


# The values that once crashed or that stress the parser most, for the CSV
# exports (one code path for all twelve tables; the pages get every value).
SHARPEST = ["9999-12-31", "0001-01-01", "1e999999", "9" * 5000, "\x00", "abc", ""]


def _rotated(values: list[str]) -> list[dict[str, str]]:
    """One query per value, every parameter set, each value visiting each
    parameter in turn (three parameters per request keeps the suite fast)."""
    n = len(values)
    return [
        {param: values[(i + j) % n] for j, param in enumerate(PARAMS)} for i in range(n)
    ]


@pytest.mark.parametrize("url", URLS)
def test_nasty_values_of_every_parameter_never_answer_5xx(url, lead_client):
    values = NASTY if "/export/" not in url else SHARPEST
    statuses = [
        (query, lead_client.get(url, query).status_code) for query in _rotated(values)
    ]

    assert [(q, s) for q, s in statuses if s >= 500] == []
    assert lead_client.get(url, {"date_to": "9999-12-31"}).status_code == 400
    assert lead_client.get(url, {"k": "abc"}).status_code == 400


@pytest.mark.parametrize("param", PARAMS)
def test_naughty_strings_in_each_parameter_are_valid_or_a_field_error(
    param, naughty_strings
):
    """Every view parses its query string with this form alone."""
    for value in naughty_strings:
        form = DashboardFilterForm({param: value})
        assert form.is_valid() or set(form.errors) == {param}, value


@pytest.mark.slow
def test_naughty_strings_in_every_parameter_never_answer_5xx(
    naughty_strings, lead_client
):
    sample = naughty_strings[::10]  # the form test above takes every string
    server_errors = [
        query
        for query in _rotated(sample)
        if lead_client.get("/dashboard/", query).status_code >= 500
    ]

    assert server_errors == []


@pytest.mark.parametrize("value", ["../../etc/passwd", "ranking%00", "ranking.csv"])
def test_an_odd_table_name_is_not_found(value, lead_client):
    assert lead_client.get(f"/dashboard/export/{value}.csv").status_code == 404


def test_a_far_date_is_refused_with_the_field_message_on_the_page(lead_client):
    response = lead_client.get("/dashboard/", {"date_to": "9999-12-31"})

    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_date_to-error"' in html
    assert f"Pick a date from {EARLIEST} to {LATEST}." in html


def test_a_bad_capacity_is_refused_with_the_field_message_on_the_page(lead_client):
    response = lead_client.get("/dashboard/models/", {"k": "abc"})

    assert response.status_code == 400
    assert 'id="id_k-error"' in response.content.decode()


def test_a_bad_parameter_of_a_csv_names_the_field(lead_client):
    response = lead_client.get(
        "/dashboard/export/outcomes.csv", {"date_from": "9999-12-31"}
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "date_from" in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"date_to": f"{EARLIEST}"},  # the default 30 days would start before it
        {"date_from": f"{LATEST}", "date_to": f"{LATEST}"},
        {"k": f"{MAX_K}"},
    ],
)
def test_the_edges_of_the_allowed_ranges_render(params, lead_client):
    assert lead_client.get("/dashboard/", params).status_code == 200
