"""The case page says which fraud decision raised a case's risk."""

import pytest
from django.test import Client

from models_ml.models import Score
from tests.factories import LabelFactory, OrderFactory

pytestmark = pytest.mark.django_db


def _page(user, case) -> str:
    client = Client()
    client.force_login(user)
    return client.get(f"/cases/{case.pk}/").content.decode()


def test_a_raised_score_names_the_fraud_decision_behind_it(reviewer, make_case):
    case = make_case()
    source = OrderFactory(order_id="shop-4711")
    label = LabelFactory(order=source, source="reviewer", value="fraud")
    Score.objects.create(order=case.order, decision="approve", probability=0.12)
    Score.objects.create(
        order=case.order, decision="review", probability=0.64, cause_label=label
    )

    html = _page(reviewer, case)

    assert "Risk raised by the fraud decision on order shop-4711 (12% → 64%)" in html


def test_a_score_the_label_did_not_raise_says_nothing(reviewer, make_case):
    case = make_case()
    label = LabelFactory(order=OrderFactory(), source="chargeback", value="fraud")
    Score.objects.create(order=case.order, decision="review", probability=0.5)
    Score.objects.create(
        order=case.order, decision="review", probability=0.4, cause_label=label
    )

    assert "Risk raised" not in _page(reviewer, case)
