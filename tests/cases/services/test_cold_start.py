"""Before a tenant's first model, cases open by the cold-start policy."""

from dataclasses import replace

import pytest

from cases.schemas import OrderIn
from cases.services.cold_start import cold_start_draw, cold_start_reason
from cases.services.intake import orders_ingest
from models_ml.policy import decision_policy
from tests.factories import ApiClientFactory, order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy():
    return replace(
        decision_policy(), cold_start_amount=500.0, cold_start_audit_share=0.2
    )


def _ingest(policy, amounts):
    client = ApiClientFactory()
    payloads = [
        OrderIn.model_validate(order_payload(order_id=f"cs-{i}", amount=str(a)))
        for i, a in enumerate(amounts)
    ]
    return orders_ingest(client, payloads, explain_all=False, policy=policy)


def test_large_orders_are_reviewed_and_a_random_share_is_audited(policy):
    results = _ingest(policy, [900] * 10 + [20] * 1000)

    large, small = results[:10], results[10:]
    assert all(r.case.queue_reason == "no_model" for r in large)
    assert all(r.case.selection_probability == 1.0 for r in large)
    audited = [r for r in small if r.case is not None]
    assert 150 < len(audited) < 250  # 20 % of 1,000, drawn
    assert {r.case.queue_reason for r in audited} == {"audit"}
    assert {r.case.selection_probability for r in audited} == {0.2}
    passed = [r for r in small if r.case is None]
    assert {r.score.decision for r in passed} == {"approve"}
    assert {r.score.decision for r in audited} == {"review"}


def test_the_audit_draw_is_fixed_by_the_order(policy):
    results = _ingest(policy, [20] * 200)

    for r in results:
        assert (cold_start_reason(r.order, policy) is not None) == (r.case is not None)
    draws = {cold_start_draw(r.order) for r in results}
    assert len(draws) == 200 and all(0 <= d < 1 for d in draws)


def test_with_a_model_the_policy_does_not_apply(policy, active_version, settings):
    settings.RISK_REVIEW_THRESHOLD = 0.0
    results = _ingest(replace(policy, review_threshold=0.0), [20] * 20)
    assert {r.case.queue_reason for r in results} == {"high_risk"}
