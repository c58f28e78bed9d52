"""The lists endpoint and the backtest endpoint, for the client's tenant."""

import pytest

from cases.services import backtest
from rules.models import ListEntry
from tests.factories import OrderFactory, TenantFactory
from tests.rules.test_language import nested_comprehensions

pytestmark = pytest.mark.django_db

CARD = {"kind": "block", "entity_type": "card", "value": "fp-1", "reason": "testing"}


def test_adding_a_value_twice_stores_it_once(api):
    first = api.post("/api/v1/lists/", CARD, format="json")
    again = api.post("/api/v1/lists/", CARD, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["added_by"] == "client:shop-under-test"
    assert ListEntry.objects.count() == 1


def test_an_ip_range_is_stored_as_a_network(api):
    body = {"kind": "block", "entity_type": "ip", "value": "203.0.113.9/24"}

    assert api.post("/api/v1/lists/", body, format="json").json()["value"] == (
        "203.0.113.0/24"
    )


def test_bad_values_and_unknown_fields_are_refused(api):
    bad_ip = {"kind": "block", "entity_type": "ip", "value": "999.1.1.1"}
    extra = {**CARD, "colour": "red"}

    assert api.post("/api/v1/lists/", bad_ip, format="json").status_code == 400
    assert api.post("/api/v1/lists/", extra, format="json").status_code == 400
    assert not ListEntry.objects.exists()


def test_lists_are_the_clients_tenants_only(api, other_api):
    other_api.post("/api/v1/lists/", CARD, format="json")
    theirs = ListEntry.objects.get()

    assert api.get("/api/v1/lists/").json() == []
    assert api.delete(f"/api/v1/lists/{theirs.pk}/").status_code == 404


def test_an_entry_can_be_listed_and_removed(api):
    entry = api.post("/api/v1/lists/", CARD, format="json").json()

    listed = api.get("/api/v1/lists/?entity_type=card&value=fp-1").json()
    removed = api.delete(f"/api/v1/lists/{entry['id']}/")

    assert [e["id"] for e in listed] == [entry["id"]]
    assert removed.status_code == 204
    assert not ListEntry.objects.exists()


def test_backtest_endpoint_counts_hits_of_the_clients_tenant(api):
    OrderFactory(amount="900.00")
    OrderFactory(amount="10.00")
    OrderFactory(amount="900.00", tenant=TenantFactory(name="other"))

    body = api.post(
        "/api/v1/rules/backtest/", {"expression": "amount > 500.0"}, format="json"
    ).json()

    assert (body["orders"], body["hits"]) == (2, 1)


def test_backtest_endpoint_says_where_the_error_is(api):
    response = api.post(
        "/api/v1/rules/backtest/", {"expression": "amount >"}, format="json"
    )

    assert response.status_code == 400
    assert "column 9" in str(response.json())


@pytest.mark.parametrize(
    "after",
    [
        "--5",
        "²",
        "١٢",
        "１２",
        "-1",
        "+5",
        " 5",
        "5 ",
        "5\n",
        "1e3",
        "9" * 19,
        "9" * 5000,
    ],
)
def test_a_malformed_after_is_a_400_field_error(api, after):
    response = api.get("/api/v1/lists/", {"after": after})

    assert response.status_code == 400
    assert "after" in str(response.json())


def test_after_pages_by_entry_id(api):
    first = api.post("/api/v1/lists/", CARD, format="json").json()
    second = api.post("/api/v1/lists/", {**CARD, "value": "fp-2"}, format="json").json()

    page = api.get("/api/v1/lists/", {"after": str(first["id"])}).json()
    beyond = api.get("/api/v1/lists/", {"after": "9" * 18}).json()

    assert [e["id"] for e in page] == [second["id"]]
    assert beyond == []


LIST_PARAMETERS = ("kind", "entity_type", "value", "after")
HOSTILE = [
    "",
    "--5",
    "²",
    "\x00",
    "9" * 5000,
    "1e999999",
    "NaN",
    "-1",
    "'; --",
    "x" * 300,
]


@pytest.mark.parametrize("name", LIST_PARAMETERS)
def test_no_value_of_a_list_parameter_answers_5xx(api, name):
    statuses = {
        v[:8]: api.get("/api/v1/lists/", {name: v}).status_code for v in HOSTILE
    }

    assert {v: s for v, s in statuses.items() if s not in (200, 400)} == {}


@pytest.mark.parametrize("name", ["kind", "entity_type", "after"])
def test_an_empty_filter_is_a_400_not_no_filter(api, name):
    response = api.get("/api/v1/lists/", {name: ""})

    assert response.status_code == 400
    assert name in response.json()["extra"]["fields"]


def test_deleting_an_id_beyond_any_column_is_a_404(api):
    assert api.delete(f"/api/v1/lists/{'9' * 30}/").status_code == 404


def test_backtest_endpoint_refuses_nested_comprehensions_with_the_position(api):
    response = api.post(
        "/api/v1/rules/backtest/",
        {"expression": nested_comprehensions(8)},
        format="json",
    )

    assert response.status_code == 400
    assert "inside another comprehension" in str(response.json())
    assert "Line 1, column 71:" in str(response.json())


def test_backtest_endpoint_stops_a_rule_past_its_time_budget(api, monkeypatch):
    monkeypatch.setattr(backtest, "EVALUATE_SECONDS", -1.0)  # already past
    OrderFactory(amount="900.00")

    response = api.post(
        "/api/v1/rules/backtest/", {"expression": "amount > 500.0"}, format="json"
    )

    assert response.status_code == 400
    assert "The backtest was stopped after" in str(response.json())
