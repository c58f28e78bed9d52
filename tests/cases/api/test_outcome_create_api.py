import pytest

from cases.models import AuditEvent, Label
from tests.factories import OrderFactory, TenantFactory


@pytest.fixture
def order(client_and_token):
    client, _token = client_and_token
    return OrderFactory(client=client, order_id="o-1")


def _outcome(order_id: str = "o-1") -> str:
    return f"/api/v1/orders/{order_id}/outcomes/"


@pytest.mark.parametrize(
    ("outcome", "value", "source"),
    [
        ("chargeback", "fraud", "chargeback"),
        ("confirmed_fraud", "fraud", "merchant"),
        ("confirmed_legitimate", "legitimate", "merchant"),
    ],
)
def test_outcome_creates_a_label(api, order, outcome, value, source):
    response = api.post(_outcome(), {"outcome": outcome, "note": "bank"}, format="json")

    assert response.status_code == 201
    label = Label.objects.get()
    assert (label.order, label.value, label.source) == (order, value, source)
    assert label.note == "bank"
    assert label.client == order.client
    assert response.json() == {
        "id": label.pk,
        "value": value,
        "source": source,
        "reasons": [outcome],
        "note": "bank",
        "known_at": label.known_at.isoformat(),
    }


def test_repeated_outcome_is_200_and_not_duplicated(api, order):
    first = api.post(_outcome(), {"outcome": "chargeback"}, format="json")
    again = api.post(_outcome(), {"outcome": "chargeback"}, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Label.objects.count() == 1


def test_different_outcomes_for_one_order_are_both_kept(api, order):
    api.post(_outcome(), {"outcome": "chargeback"}, format="json")
    api.post(_outcome(), {"outcome": "confirmed_legitimate"}, format="json")

    assert Label.objects.filter(order=order).count() == 2


def test_outcome_is_audited(api, order):
    api.post(_outcome(), {"outcome": "confirmed_fraud"}, format="json")

    event = AuditEvent.objects.get(action="label.outcome")
    assert event.actor == f"client:{order.client.name}"
    assert event.after == {"order": "o-1", "value": "fraud", "source": "merchant"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "refund"}, "outcome"),
        ({}, "outcome"),
        ({"outcome": "chargeback", "note": "a\x00b"}, "note"),
        ({"outcome": "chargeback", "note": "x" * 2_001}, "note"),
        (
            {"outcome": "chargeback", "occurred_at": "2026-03-02T12:00:00"},
            "occurred_at",
        ),
        ({"outcome": "chargeback", "label": "fraud"}, "label"),
    ],
    ids=[
        "unknown",
        "missing",
        "nul-note",
        "long-note",
        "naive-time",
        "extra-field",
    ],
)
def test_invalid_outcome_is_400_naming_the_field(api, order, body, field):
    response = api.post(_outcome(), body, format="json")

    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == [field]
    assert not Label.objects.exists()


def test_outcome_for_unknown_order_is_404(api, order):
    response = api.post(_outcome("o-2"), {"outcome": "chargeback"}, format="json")

    assert response.status_code == 404
    assert response.json() == {
        "message": "No such order for this client.",
        "extra": {"code": "not_found"},
    }
    assert not Label.objects.exists()


def test_outcome_for_another_clients_order_is_404(other_api, order):
    response = other_api.post(_outcome(), {"outcome": "chargeback"}, format="json")

    assert response.status_code == 404
    assert not Label.objects.exists()


def test_outcome_for_order_id_with_nul_is_404(api, order):
    response = api.post(_outcome("o-1%00"), {"outcome": "chargeback"}, format="json")

    assert response.status_code == 404


def test_chargeback_contradicting_the_reviewer_sends_the_case_to_a_lead(
    api, client_and_token, db
):
    from cases.models import AuditEvent, Case, Label
    from cases.services.users import user_create
    from tests.factories import CaseFactory, OrderFactory

    client, _token = client_and_token
    case = CaseFactory(
        order=OrderFactory(client=client, order_id="cb-1"), status="decided"
    )
    reviewer = user_create(
        "r1", "long-enough-password-1", "reviewer", tenant=TenantFactory()
    )
    Label.objects.create(
        order=case.order,
        case=case,
        value="legitimate",
        source="reviewer",
        created_by=reviewer,
        known_at=case.order.created_at,
    )

    response = api.post(
        "/api/v1/orders/cb-1/outcomes/", {"outcome": "chargeback"}, format="json"
    )

    assert response.status_code == 201
    case.refresh_from_db()
    assert case.status == Case.Status.ESCALATED
    assert AuditEvent.objects.filter(action="case.outcome_disagrees").count() == 1
