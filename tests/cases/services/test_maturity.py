"""Matured labels: approved, undisputed orders become legitimate after the window."""

from datetime import timedelta

import pytest

from cases.datasets import training_set
from cases.models import Case, Label
from cases.services.maturity import labels_mature
from cases.truth import orders_truth
from models_ml.models import Score
from tests.factories import BASE_TIME, CaseFactory, LabelFactory, OrderFactory

pytestmark = pytest.mark.django_db

NOW = BASE_TIME + timedelta(days=40)


def _scored(decision: str, **order):
    o = OrderFactory(**order)
    Score.objects.create(order=o, decision=decision, probability=0.1)
    return o


def test_an_approved_order_past_the_window_matures_once(settings):
    settings.RISK_MATURITY_DAYS = 30
    order = _scored("approve")

    assert labels_mature(now=NOW) == 1
    assert labels_mature(now=NOW) == 0

    label = Label.objects.get(order=order)
    assert (label.value, label.source) == ("legitimate", "matured")
    assert label.known_at == order.created_at + timedelta(days=30)


def test_only_let_through_orders_past_the_window_mature():
    young = _scored("approve", created_at=NOW - timedelta(days=5))
    declined = _scored("decline")
    review = _scored("review")
    waiting = CaseFactory(order=_scored("approve")).order
    labelled = LabelFactory(order=_scored("approve"), value="fraud").order
    unscored = OrderFactory()  # an imported history's order

    assert labels_mature(now=NOW, maturity_days=30) == 1
    matured = set(
        Label.objects.filter(source="matured").values_list("order", flat=True)
    )
    assert matured == {unscored.pk}
    assert {young.pk, declined.pk, review.pk, waiting.pk} & matured == set()
    assert Label.objects.filter(order=labelled).count() == 1


def test_a_decided_case_does_not_block_maturity_but_its_label_does():
    case = CaseFactory(order=_scored("approve"), status=Case.Status.DECIDED)
    assert labels_mature(now=NOW, maturity_days=30) == 1
    LabelFactory(order=case.order, source="reviewer", value="fraud")
    assert orders_truth()[case.order.pk] == 1


def test_a_later_chargeback_overrides_the_matured_label():
    order = _scored("approve")
    labels_mature(now=NOW, maturity_days=30)
    assert orders_truth() == {order.pk: 0}

    LabelFactory(
        order=order,
        source="chargeback",
        value="fraud",
        known_at=NOW + timedelta(days=10),
    )

    assert orders_truth() == {order.pk: 1}


def test_matured_labels_count_in_training():
    orders = [_scored("approve") for _ in range(3)]
    labels_mature(now=NOW, maturity_days=30)

    data = training_set(orders[0].tenant_id)

    assert data.label_counts == {"fraud": 0, "legitimate": 3}


def test_the_beat_runs_it_every_hour():
    from riskreview.celery import app

    app.finalize(auto=True)  # declares the schedule
    entry = app.conf.beat_schedule["matured-labels"]
    assert entry["task"] == "cases.tasks.labels_mature"
    assert entry["schedule"].minute == {47}


def test_since_limits_maturity_to_newer_orders():
    old = _scored("approve", created_at=BASE_TIME - timedelta(days=3))
    new = _scored("approve")

    assert labels_mature(now=NOW, maturity_days=30, since=BASE_TIME) == 1
    assert Label.objects.get().order == new
    assert not Label.objects.filter(order=old).exists()
