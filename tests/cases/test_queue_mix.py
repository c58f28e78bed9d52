import numpy as np
import pytest

from cases.models import Case, Order
from cases.services.queue_mix import (
    poisson_probabilities,
    queue_mix_select,
    uncertainty,
)
from models_ml.models import Score
from models_ml.policy import DecisionPolicy
from tests.factories import ApiClientFactory, OrderFactory

N_ORDERS = 4000
N_HIGH = 170


def _window(seed: int = 0) -> None:
    """N_ORDERS scored orders, the N_HIGH riskiest already high-risk cases."""
    rng = np.random.default_rng(seed)
    client = ApiClientFactory()
    orders = Order.objects.bulk_create(
        OrderFactory.build(client=client, order_id=f"w{i}") for i in range(N_ORDERS)
    )
    probabilities = np.sort(rng.beta(0.3, 6, N_ORDERS))
    Score.objects.bulk_create(
        Score(order=o, probability=float(p), decision="approve")
        for o, p in zip(orders, probabilities, strict=True)
    )
    Case.objects.bulk_create(
        Case(
            order=o,
            tenant_id=o.tenant_id,
            priority=float(p) * 100,
            queue_reason="high_risk",
        )
        for o, p in zip(orders[-N_HIGH:], probabilities[-N_HIGH:], strict=True)
    )


@pytest.mark.django_db
@pytest.mark.slow
def test_queue_mix_matches_the_policys_shares_and_records_probabilities():
    _window()
    policy = DecisionPolicy(0.3, 0.9, exploration_share=0.2, audit_share=0.1)
    rng = np.random.default_rng(42)

    high, explore, audit = queue_mix_select(Order.objects.all(), policy, rng)

    queue = high + explore + audit
    expected_queue = N_HIGH / policy.high_risk_share
    # Poisson sampling: counts are sums of Bernoullis; allow 4 standard deviations.
    for count, share in (
        (explore, policy.exploration_share),
        (audit, policy.audit_share),
    ):
        mean = expected_queue * share
        assert abs(count - mean) <= 4 * np.sqrt(mean), (count, mean)
    assert queue == Case.objects.count()
    extra = Case.objects.exclude(queue_reason="high_risk")
    assert all(0 < c.selection_probability <= 1 for c in extra)
    audit_pi = {c.selection_probability for c in extra.filter(queue_reason="audit")}
    assert len(audit_pi) == 1  # uniform: one inclusion probability for all
    explored = extra.filter(queue_reason="exploration").select_related("order")
    assert all(c.probability < policy.review_threshold for c in explored)


@pytest.mark.django_db
@pytest.mark.slow
def test_audit_share_gives_unbiased_horvitz_thompson_totals():
    _window(seed=1)
    windows = Order.objects.all()
    eligible = windows.filter(case__isnull=True).count()
    estimates = []
    for seed in range(30):
        Case.objects.exclude(queue_reason="high_risk").delete()
        queue_mix_select(
            windows,
            DecisionPolicy(0.3, 0.9, exploration_share=0.0, audit_share=0.1),
            np.random.default_rng(seed),
        )
        audit = Case.objects.filter(queue_reason="audit")
        estimates.append(sum(1 / c.selection_probability for c in audit))

    mean, sem = np.mean(estimates), np.std(estimates) / np.sqrt(len(estimates))
    assert abs(mean - eligible) <= 4 * sem


def test_poisson_probabilities_sum_to_expected_and_cap_at_one():
    weights = np.array([100.0, 1, 1, 1, 1, 0])

    pi = poisson_probabilities(weights, expected=3.0)

    assert pi.sum() == pytest.approx(3.0)
    assert pi[0] == 1.0 and pi[-1] == 0.0
    np.testing.assert_allclose(pi[1:5], 0.5)


def test_uncertainty_peaks_at_one_half():
    values = uncertainty(np.array([0.01, 0.2, 0.5, 0.8, 0.99]))

    assert values[2] == pytest.approx(1.0)
    assert values[1] == pytest.approx(values[3])
    assert values[0] < values[1] < values[2]
