"""Matured labels: approved, undisputed orders become legitimate after the window."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from cases.datasets import training_set
from cases.models import Case, Label
from cases.services import maturity
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


def test_maturity_keys_on_the_decision_served_at_intake():
    declined_then_approved = _scored("decline")
    Score.objects.create(
        order=declined_then_approved, decision="approve", probability=0.01
    )
    approved_then_declined = _scored("approve")
    Score.objects.create(
        order=approved_then_declined, decision="decline", probability=0.99
    )

    assert labels_mature(now=NOW, maturity_days=30) == 1
    assert Label.objects.get().order == approved_then_declined


def test_an_order_has_at_most_one_matured_label_in_the_database():
    order = _scored("approve")
    LabelFactory(order=order, source="matured", value="legitimate")

    with pytest.raises(IntegrityError), transaction.atomic():
        LabelFactory(order=order, source="matured", value="legitimate")


def test_a_run_with_a_stale_snapshot_adds_no_second_matured_label(monkeypatch):
    """Two concurrent runs: the second selected the order before the first
    committed its label. Seen from the second run, the order is unlabelled."""
    order = _scored("approve")
    assert labels_mature(now=NOW, maturity_days=30) == 1
    first = Label.objects.get()
    # The stale run's view: blind to the first run's label, not to its own.
    own = Label.objects.filter(order_id=OuterRef("pk"), pk__gt=first.pk)
    stale = type(order).objects.filter(pk=order.pk).exclude(Exists(own))
    recorded = []
    monkeypatch.setattr(maturity, "labels_record", recorded.extend)
    monkeypatch.setattr(maturity, "maturity_candidates", lambda *a, **k: stale)

    assert labels_mature(now=NOW, maturity_days=30) == 0
    assert Label.objects.filter(order=order, source="matured").count() == 1
    assert recorded == []
