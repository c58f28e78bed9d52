import pytest

from cases.models import WebhookDelivery
from cases.services.rescoring import orders_rescore
from cases.services.review import case_claim, case_decide
from cases.services.users import user_create
from cases.services.webhooks import webhook_endpoint_create
from models_ml.models import Score
from tests.factories import CaseFactory, OrderFactory, TenantFactory

ALL_EVENTS = ["case.decided", "case.overridden", "order.decision_changed"]


@pytest.fixture
def reviewer(db):
    return user_create(
        "rev", "long-enough-password-1", "reviewer", tenant=TenantFactory()
    )


def _subscribe(order):
    webhook_endpoint_create(order.client, "http://127.0.0.1:9/h", ALL_EVENTS, actor="t")


@pytest.mark.django_db
def test_final_decision_queues_a_case_decided_event(reviewer, settings):
    settings.QA_SHARE = 0
    case = CaseFactory()
    _subscribe(case.order)
    claim = case_claim(case, reviewer)

    case_decide(claim.pk, reviewer, value="fraud", reasons=["stolen_card"], note="x")

    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == "case.decided"
    assert delivery.payload["data"]["decision"] == "fraud"
    assert delivery.payload["data"]["reasons"] == ["stolen_card"]
    assert "note" not in delivery.payload["data"]  # notes stay internal


@pytest.mark.django_db
def test_decision_held_for_qa_sends_nothing_yet(reviewer, settings):
    settings.QA_SHARE = 1
    case = CaseFactory()
    _subscribe(case.order)
    claim = case_claim(case, reviewer)

    case_decide(
        claim.pk, reviewer, value="legitimate", reasons=["good_history"], note=""
    )

    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_rescoring_that_changes_the_decision_queues_an_event(active_version, settings):
    settings.RISK_REVIEW_THRESHOLD = 0.0
    order = OrderFactory()
    Score.objects.create(order=order, probability=0.01, decision="approve")
    _subscribe(order)

    assert orders_rescore([order.pk]) == 1

    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == "order.decision_changed"
    assert delivery.payload["data"]["previous_decision"] == "approve"
    assert delivery.payload["data"]["model_version"] == active_version.pk
    assert orders_rescore([order.pk]) == 0  # already scored by this version


@pytest.mark.django_db
def test_a_decision_made_by_a_list_is_named_in_the_event(active_version, settings):
    from cases.services.rules import list_entry_add

    settings.RISK_REVIEW_THRESHOLD = settings.RISK_DECLINE_THRESHOLD = 1.0
    order = OrderFactory(card_fingerprint="fp-stolen")
    Score.objects.create(order=order, probability=0.01, decision="approve")
    list_entry_add(
        order.tenant_id, kind="block", entity_type="card", value="fp-stolen", actor="t"
    )
    _subscribe(order)

    orders_rescore([order.pk])

    data = WebhookDelivery.objects.get().payload["data"]
    assert data["decision"] == "decline"
    (reason,) = data["rule_reasons"]
    assert reason["kind"] == "list" and reason["decided"] is True
    assert reason["text"].startswith("Card on block list since")
