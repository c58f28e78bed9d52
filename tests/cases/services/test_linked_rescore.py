"""Same-day feedback: a fraud label re-scores the open orders linked to it."""

import pytest

from cases.models import Case
from cases.schemas import OutcomeIn
from cases.selectors_links import score_risk_cause
from cases.services.linked import linked_candidates, orders_linked_rescore
from cases.services.outcomes import outcome_record
from cases.services.scoring import orders_score
from models_ml.models import Score
from models_ml.policy import decision_policy
from tests.factories import CaseFactory, OrderFactory, TenantFactory

pytestmark = pytest.mark.django_db

CARD = {"card_fingerprint": "fp-stolen", "customer_id": "c-1", "device_id": "d-1"}


def _scored_case(**order) -> Case:
    case = CaseFactory(order=OrderFactory(**order))
    (score,) = orders_score([case.order], decision_policy())
    score.save()
    case.probability = score.probability
    case.save(update_fields=["probability"])
    return case


@pytest.fixture
def linked(active_version):
    source = OrderFactory(**CARD, amount=900)
    same_card = _scored_case(**CARD)  # the same customer, card and device
    unrelated = _scored_case(card_fingerprint="fp-ok", customer_id="c-9", device_id="x")
    other = TenantFactory(name="other")
    elsewhere = OrderFactory(**CARD, client__tenant=other)
    return source, same_card, unrelated, elsewhere


def test_candidates_share_an_entity_within_the_tenant(linked):
    source, same_card, unrelated, elsewhere = linked
    assert [o.pk for o in linked_candidates(source)] == [same_card.order_id]


def test_a_chargeback_rescores_and_reprioritises_linked_cases_on_commit(
    linked, django_capture_on_commit_callbacks
):
    source, same_card, unrelated, elsewhere = linked
    before = same_card.probability

    with django_capture_on_commit_callbacks(execute=True):
        label, _ = outcome_record(
            source.client, source, OutcomeIn(outcome="chargeback")
        )

    score = Score.objects.filter(order=same_card.order).order_by("-id").first()
    assert score.cause_label_id == label.pk
    assert score.probability > before
    same_card.refresh_from_db()
    assert same_card.probability == score.probability
    assert same_card.priority == pytest.approx(score.probability * 49.90, abs=1e-3)
    assert not Score.objects.filter(cause_label=label).exclude(order=same_card.order)
    assert score_risk_cause(score).startswith(
        f"Risk raised by the chargeback on order {source.order_id}"
    )


def test_rescoring_a_label_twice_adds_nothing(linked):
    source, same_card, *_ = linked
    label, _ = outcome_record(source.client, source, OutcomeIn(outcome="chargeback"))

    assert orders_linked_rescore(label.pk).scored == 1
    assert orders_linked_rescore(label.pk).scored == 0


def test_a_legitimate_outcome_rescores_nothing(
    linked, django_capture_on_commit_callbacks
):
    source, same_card, *_ = linked
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outcome_record(source.client, source, OutcomeIn(outcome="confirmed_legitimate"))
    assert callbacks == []
    assert not Score.objects.filter(cause_label__isnull=False).exists()
