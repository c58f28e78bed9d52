from cases.models import Label
from models_ml.models import Score
from tests.factories import LabelFactory, OrderFactory, order_payload


def _detail(order_id: str = "web-1001") -> str:
    return f"/api/v1/orders/{order_id}/"


def test_order_detail_returns_order_as_sent_score_and_labels(api, active_version):
    created = api.post("/api/v1/orders/", order_payload(), format="json").json()
    api.post(_detail() + "outcomes/", {"outcome": "chargeback"}, format="json")

    response = api.get(_detail())

    assert response.status_code == 200
    body = response.json()
    sent = order_payload()
    assert body["order"] == {
        **sent,
        "created_at": "2026-03-02T12:00:00+00:00",
        "account_created_at": "2025-01-10T08:00:00+00:00",
    }
    assert body["score"] == {**created, "created": False}
    assert [label["source"] for label in body["labels"]] == ["chargeback"]


def test_order_detail_explains_a_score_stored_without_reasons(
    api, active_version, settings
):
    settings.RISK_REVIEW_THRESHOLD = settings.RISK_DECLINE_THRESHOLD = 1.0
    batch = {"orders": [order_payload()]}
    (result,) = api.post("/api/v1/orders/batch/", batch, format="json").json()[
        "results"
    ]

    body = api.get(_detail()).json()

    assert result["reasons"] is None
    assert len(body["score"]["reasons"]) == 5
    assert Score.objects.get().contributions == body["score"]["reasons"]


def test_order_detail_without_model_has_no_score(api, client_and_token):
    client, _token = client_and_token
    OrderFactory(client=client, order_id="o-1")

    score = api.get(_detail("o-1")).json()["score"]

    assert score["risk_score"] is None
    assert score["decision"] == "review"
    assert score["reasons"] is None


def test_order_detail_lists_labels_oldest_first(api, client_and_token):
    client, _token = client_and_token
    order = OrderFactory(client=client, order_id="o-1")
    newer = LabelFactory(order=order, value=Label.Value.LEGITIMATE)
    older = LabelFactory(order=order, known_at=newer.known_at.replace(year=2025))

    labels = api.get(_detail("o-1")).json()["labels"]

    assert [label["id"] for label in labels] == [older.pk, newer.pk]


def test_unknown_order_is_404(api):
    response = api.get(_detail("nope"))

    assert response.status_code == 404
    assert response.json()["extra"] == {"code": "not_found"}


def test_another_clients_order_is_404(other_api, api):
    api.post("/api/v1/orders/", order_payload(), format="json")

    assert other_api.get(_detail()).status_code == 404


def test_order_id_with_nul_is_404(api):
    assert api.get(_detail("web%00")).status_code == 404
