import pytest

from models_ml.models import Score
from models_ml.services import scores_save
from tests.factories import OrderFactory


@pytest.mark.django_db
def test_many_scores_are_stored_with_their_json_intact():
    orders = [OrderFactory() for _ in range(60)]
    features = {"amount": 12.5, "hour": None, "note": 'quote " and \\ backslash\t'}
    reasons = [{"feature": "amount", "value": 12.5, "contribution": -0.25, "text": "é"}]
    scores = [
        Score(
            order=o,
            probability=i / 100,
            decision="approve",
            features=features,
            base_value=-3.5 if i % 2 else None,
            contributions=reasons if i % 2 else None,
        )
        for i, o in enumerate(orders)
    ]

    scores_save(scores)

    stored = list(Score.objects.order_by("order_id"))
    assert len(stored) == 60
    assert stored[7].features == features
    assert stored[7].contributions == reasons
    assert stored[8].contributions is None
    assert [s.probability for s in stored] == [i / 100 for i in range(60)]
    assert all(s.created_at is not None for s in stored)


@pytest.mark.django_db
def test_many_scores_keep_the_label_that_caused_them():
    from tests.factories import LabelFactory

    orders = [OrderFactory() for _ in range(60)]
    label = LabelFactory(order=orders[0], value="fraud")
    scores = [
        Score(
            order=o, probability=0.5, decision="review", features={}, cause_label=label
        )
        for o in orders[1:]
    ]

    scores_save(scores)

    assert set(Score.objects.values_list("cause_label_id", flat=True)) == {label.pk}
