import pytest

from models_ml.models import Score
from tests.factories import OrderFactory


@pytest.mark.django_db
def test_latest_per_order_keeps_only_the_newest_score_of_each_order():
    first, second, unscored = OrderFactory(), OrderFactory(), OrderFactory()
    for order, probabilities in ((first, [0.1, 0.7, 0.4]), (second, [0.9])):
        for p in probabilities:
            Score.objects.create(order=order, probability=p, decision="approve")

    latest = Score.objects.latest_per_order()

    assert dict(latest.values_list("order_id", "probability")) == {
        first.pk: 0.4,
        second.pk: 0.9,
    }
    assert unscored.scores.latest_per_order().first() is None
    assert first.scores.filter(probability__gt=0.5).latest_per_order().count() == 0
