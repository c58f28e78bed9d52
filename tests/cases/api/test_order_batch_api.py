import json

from cases.models import Case, Order
from models_ml.models import Score
from tests.factories import order_payload

BATCH = "/api/v1/orders/batch/"


def _batch(*order_ids: str, **overrides: object) -> dict:
    return {"orders": [order_payload(order_id=i, **overrides) for i in order_ids]}


def test_batch_returns_one_result_per_order_in_order(api, active_version):
    response = api.post(BATCH, _batch("b-2", "b-1", "b-3"), format="json")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["order_id"] for r in results] == ["b-2", "b-1", "b-3"]
    assert all(
        r["created"] and r["model_version"] == active_version.pk for r in results
    )
    assert all(0 <= r["risk_score"] <= 1 for r in results)
    assert Order.objects.count() == Score.objects.count() == 3


def test_batch_answers_stored_orders_without_storing_them_again(api):
    api.post("/api/v1/orders/", order_payload(order_id="b-1"), format="json")

    response = api.post(BATCH, _batch("b-1", "b-2"), format="json")

    assert [r["created"] for r in response.json()["results"]] == [False, True]
    assert Order.objects.count() == Score.objects.count() == 2


def test_batch_explains_only_orders_that_are_not_approved(
    api, active_version, settings
):
    settings.RISK_REVIEW_THRESHOLD = 0.0
    settings.RISK_DECLINE_THRESHOLD = 1.0
    reviewed = api.post(BATCH, _batch("b-1"), format="json").json()["results"][0]
    settings.RISK_REVIEW_THRESHOLD = 1.0

    approved = api.post(BATCH, _batch("b-2"), format="json").json()["results"][0]

    assert reviewed["decision"] == "review"
    assert len(reviewed["reasons"]) == 5
    assert reviewed["case_id"] == Case.objects.get().pk
    assert approved["decision"] == "approve"
    assert approved["reasons"] is None
    assert approved["case_id"] is None


def test_batch_with_one_invalid_order_stores_nothing(api, assert_nothing_stored):
    batch = _batch("b-1", "b-2", "b-3")
    batch["orders"][1]["amount"] = "-5"
    del batch["orders"][2]["customer_id"]

    response = api.post(BATCH, batch, format="json")

    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {
        "orders.1.amount",
        "orders.2.customer_id",
    }
    assert_nothing_stored()


def test_batch_of_1000_orders_is_accepted(api, active_version):
    ids = [f"b-{i}" for i in range(1_000)]
    body = json.dumps(_batch(*ids)).encode()

    response = api.generic("POST", BATCH, body, content_type="application/json")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1_000
    assert Order.objects.count() == 1_000


def test_batch_without_orders_key_is_400(api, assert_nothing_stored):
    response = api.post(BATCH, {"order": []}, format="json")

    assert set(response.json()["extra"]["fields"]) == {"orders", "order"}
    assert response.status_code == 400
    assert_nothing_stored()
