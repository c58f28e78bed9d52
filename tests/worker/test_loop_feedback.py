"""Same-day feedback and matured labels, through a real worker."""

from datetime import timedelta

import pytest
from django.db import transaction

from cases.models import Label
from cases.schemas import OutcomeIn
from cases.services.outcomes import outcome_record
from cases.tasks import labels_mature
from models_ml.models import Score
from tests.cases.services.test_linked_rescore import CARD, _scored_case
from tests.factories import BASE_TIME, OrderFactory, TenantFactory
from tests.worker.conftest import wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_chargeback_reprioritises_a_linked_case_within_seconds(worker, champion):
    champion(TenantFactory())
    source = OrderFactory(**CARD)
    linked = _scored_case(**CARD)

    with transaction.atomic():
        label, _ = outcome_record(
            source.client, source, OutcomeIn(outcome="chargeback")
        )

    score = wait_for(
        lambda: Score.objects.filter(order=linked.order, cause_label=label).first(),
        30,
        "the linked case to be re-scored",
    )
    linked.refresh_from_db()
    assert linked.probability == score.probability > 0


def test_the_maturity_task_labels_old_approved_orders(worker):
    old = OrderFactory(created_at=BASE_TIME - timedelta(days=400))
    Score.objects.create(order=old, decision="approve", probability=0.01)

    labels_mature.delay()

    label = wait_for(
        lambda: Label.objects.filter(order=old, source="matured").first(),
        30,
        "the matured label",
    )
    assert label.value == "legitimate"
