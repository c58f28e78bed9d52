"""Matured labels are their own source in the dashboard's label table."""

from datetime import timedelta

import pytest

from cases.services.maturity import labels_mature
from dashboard.selectors.common import MetricsWindow
from dashboard.selectors.outcomes import daily_label_latency
from tests.factories import BASE_TIME, LabelFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_matured_labels_are_counted_apart_from_chargebacks():
    orders = [
        OrderFactory(created_at=BASE_TIME + timedelta(minutes=i)) for i in range(3)
    ]
    LabelFactory(order=orders[0], source="chargeback")
    labels_mature(now=BASE_TIME + timedelta(days=40), maturity_days=30)

    day = BASE_TIME.date()
    rows = daily_label_latency(MetricsWindow(day, day, orders[0].tenant_id))

    by_source = {r["source"]: r["labels"] for r in rows}
    assert by_source == {"chargeback": 1, "matured": 2}
