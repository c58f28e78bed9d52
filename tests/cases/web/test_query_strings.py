"""No page answers 5xx to any query string: every GET route of the access
table, signed in as a lead and as an admin, with hostile values in every query
parameter any page reads (and one no page reads)."""

import pytest

from cases.web.forms import QueueFilterForm
from dashboard.forms import DashboardFilterForm
from tests.cases.web.test_access_matrix import ACCESS, world  # noqa: F401
from tests.cases.web.test_page_parameters import HOSTILE

PARAMETERS = sorted(
    {
        *QueueFilterForm.base_fields,
        *DashboardFilterForm.base_fields,
        *("value", "before", "after", "next", "q", "o", "p", "e", "page"),
        *("kind", "entity_type", "days", "expression"),  # rules and lists
        "not_a_parameter",
    }
)
GET_ROUTES = sorted(
    route
    for route, access in ACCESS.items()
    if access.method == "GET" and not access.url.startswith("/api/")
)


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("world", ["lead", "admin"], indirect=True)
@pytest.mark.parametrize("route", GET_ROUTES)
def test_no_query_string_makes_a_page_answer_5xx(route, world):  # noqa: F811
    client, ctx = world
    url = ACCESS[route].url.format(**ctx).split("?")[0]
    failures = []

    for value in HOSTILE:
        response = client.get(url, dict.fromkeys(PARAMETERS, value))
        if response.status_code >= 500:
            failures.append((value[:20], response.status_code))

    assert failures == []
