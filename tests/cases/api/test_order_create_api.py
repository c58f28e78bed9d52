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
