import pytest

from cases.models import Case
from tests.factories import CaseFactory, LabelFactory, OrderFactory, order_payload


@pytest.fixture
def case(client_and_token):
    client, _token = client_and_token
    return CaseFactory(order=OrderFactory(client=client, order_id="o-1"))


def test_case_detail_returns_the_clients_case(api, case):
    label = LabelFactory(order=case.order, case=case)

    response = api.get(f"/api/v1/cases/{case.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == case.pk
    assert body["order_id"] == "o-1"
    assert body["status"] == Case.Status.OPEN
    assert body["queue_reason"] == Case.QueueReason.HIGH_RISK
    assert body["decided_at"] is None
    assert [item["id"] for item in body["labels"]] == [label.pk]


def test_case_opened_by_intake_is_readable(api, settings):
    settings.RISK_REVIEW_THRESHOLD = 0.0
    case_id = api.post("/api/v1/orders/", order_payload(), format="json").json()[
        "case_id"
    ]

    assert api.get(f"/api/v1/cases/{case_id}/").json()["order_id"] == "web-1001"


def test_another_clients_case_is_404(other_api, case):
    response = other_api.get(f"/api/v1/cases/{case.pk}/")

    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "extra": {"code": "not_found"}}


@pytest.mark.parametrize("case_id", ["0", "99999", "9" * 30])
def test_unknown_case_is_404(api, case_id):
    assert api.get(f"/api/v1/cases/{case_id}/").status_code == 404
