from datetime import timedelta
from decimal import Decimal

import pytest

from cases.models import Case, Label, LabelDailyStats, Order
from cases.services.retention import orders_purge
from models_ml.models import Score
from tests.factories import BASE_TIME, CaseFactory, LabelFactory, OrderFactory


@pytest.mark.django_db
def test_old_orders_go_with_features_cases_and_labels_kept_as_aggregates():
    old = OrderFactory(created_at=BASE_TIME - timedelta(days=400), amount=Decimal("10"))
    Score.objects.create(
        order=old, probability=0.5, decision="review", features={"a": 1}
    )
    CaseFactory(order=old)
    LabelFactory(order=old, value="fraud", source="chargeback")
    recent = OrderFactory(created_at=BASE_TIME)
    LabelFactory(order=recent)

    report = orders_purge(before=BASE_TIME - timedelta(days=30))

    assert report.orders == 1
    assert list(Order.objects.all()) == [recent]
    assert not Score.objects.filter(order_id=old.pk).exists()
    assert not Case.objects.filter(order_id=old.pk).exists()
    assert Label.objects.count() == 1
    stats = LabelDailyStats.objects.get()
    assert (stats.value, stats.source, stats.labels) == ("fraud", "chargeback", 1)
    assert stats.amount == Decimal("10.00")


@pytest.mark.django_db
def test_retention_off_by_default_deletes_nothing(settings):
    settings.RETENTION_DAYS = 0
    OrderFactory(created_at=BASE_TIME - timedelta(days=4000))

    assert orders_purge().orders == 0
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_aggregates_can_be_switched_off(settings):
    settings.RETENTION_KEEP_LABEL_STATS = False
    LabelFactory(order=OrderFactory(created_at=BASE_TIME - timedelta(days=400)))

    orders_purge(before=BASE_TIME)

    assert not LabelDailyStats.objects.exists()
    assert not Label.objects.exists()
