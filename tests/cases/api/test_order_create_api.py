import json
from datetime import UTC, datetime
from decimal import Decimal

from cases.models import Case, Order
from models_ml.models import Score
from tests.factories import order_payload


def test_order_create_returns_score_decision_and_reasons(api, active_version):
    response = api.post("/api/v1/orders/", order_payload(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["order_id"] == "web-1001"
    assert 0 <= body["risk_score"] <= 1
    assert body["decision"] in {"approve", "review", "decline"}
    assert body["model_version"] == active_version.pk
    assert len(body["reasons"]) == 5
    assert {"feature", "value", "contribution", "text"} <= set(body["reasons"][0])
    assert Order.objects.count() == 1
    assert Score.objects.get().model_version == active_version


def test_order_sent_twice_is_stored_once(api, active_version):
    first = api.post("/api/v1/orders/", order_payload(), format="json")
    second = api.post("/api/v1/orders/", order_payload(), format="json")

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["risk_score"] == first.json()["risk_score"]
    assert Order.objects.count() == 1
    assert Score.objects.count() == 1


def test_order_above_review_threshold_opens_one_case(api, active_version, settings):
    settings.RISK_REVIEW_THRESHOLD = 0.0
    settings.RISK_DECLINE_THRESHOLD = 1.0

    body = api.post("/api/v1/orders/", order_payload(), format="json").json()
    api.post("/api/v1/orders/", order_payload(), format="json")

    assert body["decision"] == "review"
    case = Case.objects.get()
    assert body["case_id"] == case.pk
    assert case.priority == round(body["risk_score"] * 129.90, 4)


def test_order_without_active_model_goes_to_review(api):
    body = api.post("/api/v1/orders/", order_payload(), format="json").json()

    assert body["risk_score"] is None
    assert body["decision"] == "review"
    assert Case.objects.get().queue_reason == Case.QueueReason.NO_MODEL


def test_anonymous_request_is_refused(client, db):
    response = client.post(
        "/api/v1/orders/", order_payload(), content_type="application/json"
    )

    assert response.status_code == 401
    assert Order.objects.count() == 0


def test_order_time_with_offset_is_stored_in_utc(api):
    payload = order_payload(created_at="2026-03-02T13:30:00+01:30")

    assert api.post("/api/v1/orders/", payload, format="json").status_code == 201

    assert Order.objects.get().created_at == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_order_time_at_the_edges_of_the_accepted_range_is_stored(api):
    for order_id, moment in [
        ("early", "1970-01-01T00:00:00Z"),
        ("late", "2099-12-31T23:59:59.999999Z"),
    ]:
        payload = order_payload(
            order_id=order_id, created_at=moment, account_created_at=None
        )
        assert api.post("/api/v1/orders/", payload, format="json").status_code == 201

    assert Order.objects.count() == 2


def test_amount_sent_as_json_number_is_stored_exactly(api):
    body = json.dumps(order_payload(amount=129.9)).encode()

    api.generic("POST", "/api/v1/orders/", body, content_type="application/json")

    assert Order.objects.get().amount == Decimal("129.90")


def test_ipv6_address_is_stored(api):
    payload = order_payload(ip_address="2001:db8::7")

    assert api.post("/api/v1/orders/", payload, format="json").status_code == 201

    assert Order.objects.get().ip_address == "2001:db8::7"


def test_attribute_text_that_looks_like_an_escape_is_stored_verbatim(api):
    attributes = {"raw": "\\u0000", "\\u0000": "key"}
    payload = order_payload(attributes=attributes)

    response = api.post("/api/v1/orders/", payload, format="json")

    assert response.status_code == 201
    assert Order.objects.get().attributes == attributes


def test_order_after_zero_amount_orders_of_the_customer_is_scored(api):
    for i, amount in enumerate(["0.00", "25.00"]):
        payload = order_payload(
            order_id=f"o-{i}", amount=amount, created_at=f"2026-03-02T12:0{i}:00Z"
        )
        response = api.post("/api/v1/orders/", payload, format="json")

    assert response.status_code == 201
