"""The truth of an order: the SQL and the Python form of one rule agree."""

from datetime import timedelta

import numpy as np
import pytest

from cases.models import Label, Order
from cases.truth import orders_truth, truth_expression
from tests.factories import BASE_TIME, OrderFactory

pytestmark = pytest.mark.django_db


def _label(order: Order, source: str, value: str, hours: int) -> Label:
    return Label.objects.create(
        order=order,
        source=source,
        value=value,
        known_at=BASE_TIME + timedelta(hours=hours),
    )


def _sql_truth() -> dict[int, int]:
    rows = Order.objects.annotate(truth=truth_expression()).values_list("pk", "truth")
    return {pk: int(t == "fraud") for pk, t in rows if t is not None}


def test_an_outcome_overrides_a_later_reviewer_label():
    order = OrderFactory()
    _label(order, "chargeback", "fraud", hours=1)
    _label(order, "reviewer", "legitimate", hours=5)

    assert orders_truth() == _sql_truth() == {order.pk: 1}


def test_the_latest_label_wins_and_a_tie_goes_to_the_newer_row():
    later, tied, unlabelled = OrderFactory(), OrderFactory(), OrderFactory()
    _label(later, "reviewer", "fraud", hours=1)
    _label(later, "reviewer", "legitimate", hours=2)
    _label(tied, "merchant", "fraud", hours=3)
    _label(tied, "chargeback", "legitimate", hours=3)

    assert orders_truth() == _sql_truth() == {later.pk: 0, tied.pk: 0}
    assert unlabelled.pk not in orders_truth()


def test_sql_and_python_agree_on_random_labels():
    rng = np.random.default_rng(5)
    orders = [OrderFactory() for _ in range(40)]
    sources = [s.value for s in Label.Source]
    matured: set[int] = set()  # at most one matured label per order (a constraint)
    for _ in range(200):
        order = orders[rng.integers(len(orders))]
        source = sources[rng.integers(len(sources))]
        if source == Label.Source.MATURED:
            if order.pk in matured:
                continue
            matured.add(order.pk)
        _label(
            order,
            source,
            "fraud" if rng.random() < 0.4 else "legitimate",
            hours=int(rng.integers(6)),  # few distinct times: many ties
        )

    assert orders_truth() == _sql_truth()
