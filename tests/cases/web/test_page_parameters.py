"""Every query parameter of the queue page: out-of-range or malformed values
are a form error, never a 500 (finding 10 of the second hardening round)."""

import pytest

from cases.forms import QueueFilterForm
from tests.factories import CaseFactory

HOSTILE = [
    "9999-12-31",
    "0001-01-01",
    "1e999999",
    "-1e999999",
    "1e-999999",
    "NaN",
    "inf",
    "99999999999999999999999999",
    "-1",
    "\x00",
    "x" * 5000,
    "1_99999999999999999999",
    "1e999_1",
]


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    CaseFactory()
    return client


@pytest.mark.parametrize("name", list(QueueFilterForm.base_fields))
@pytest.mark.parametrize("value", HOSTILE)
def test_a_queue_parameter_never_answers_500(reviewer_client, name, value):
    response = reviewer_client.get("/queue/", {name: value})

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("date_to", "9999-12-31"),
        ("date_from", "1900-01-01"),
        ("amount_min", "1e999999"),
    ],
)
def test_an_out_of_range_filter_is_a_form_error(reviewer_client, name, value):
    response = reviewer_client.get("/queue/", {name: value})

    assert name in response.context["form"].errors
