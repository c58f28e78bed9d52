"""Agreement and Cohen's kappa on QA double reviews."""

import pytest

from cases.services.users import user_create
from dashboard.selectors import agreement
from tests.dashboard.data import (
    D1,
    DAY1,
    PASSWORD,
    at,
    label,
    reviewed,
    scored_order,
)
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def test_daily_agreement_kappa_on_qa_pairs(reviewers):
    one, two = reviewers
    lead = user_create("lead-one", PASSWORD, "lead", tenant=TenantFactory())
    pairs = [("fraud", "fraud"), ("fraud", "legitimate"), ("legitimate",) * 2] + [
        ("legitimate",) * 2
    ]
    for first, second in pairs:
        case = reviewed(scored_order(D1, 0.5), "high_risk", first)
        label(case.order, second, case=case, by=two, known_at=at(D1, 15))
    # A lead's override is not a second review: no pair.
    overridden = reviewed(scored_order(D1, 0.5), "high_risk", "fraud")
    label(
        overridden.order,
        "legitimate",
        case=overridden,
        by=lead,
        known_at=at(D1, 16),
        reasons=("other", "lead_override"),
    )

    (day,), total = agreement.daily_agreement(DAY1)

    # Table [[1, 1], [0, 2]]: observed 3/4; chance (2·1 + 2·3) / 16 = 1/2.
    assert (day["pairs"], day["agreements"]) == (4, 3)
    assert day["kappa"] == pytest.approx(0.5)
    assert (total["pairs"], total["kappa"]) == (4, pytest.approx(0.5))
    assert (day["first_fraud_only"], day["second_fraud_only"]) == (1, 0)
