"""The learning loop end to end, through a real worker on the real broker."""

from datetime import timedelta
from pathlib import Path

import pytest

from cases.datasets import training_set
from cases.models import Case, Label
from cases.schemas import OrderIn
from cases.services.bulk import import_client, orders_bulk_load
from cases.services.intake import orders_ingest
from cases.tasks import model_train as model_train_task
from cases.tasks import model_train_if_due
from lab.demo_data import TRUTH_KEYS, generate_orders
from models_ml.models import ModelVersion, Score
from models_ml.services import model_train
from tests.worker.conftest import wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _payloads(rows: list[dict]) -> list[OrderIn]:
    return [
        OrderIn.model_validate({k: v for k, v in r.items() if k not in TRUTH_KEYS})
        for r in rows
    ]


def _history(n: int = 2000, labelled: float = 0.8) -> list[dict]:
    rows = generate_orders(n, seed=21, days=20)
    labels = [
        (
            r["order_id"],
            "fraud" if r["is_fraud"] else "legitimate",
            r["created_at"] + timedelta(days=2),
        )
        for r in rows[: int(n * labelled)]
    ]
    orders_bulk_load(import_client(), _payloads(rows), labels)
    return rows


def _weak_champion() -> ModelVersion:
    tenant_id = import_client().tenant_id
    return model_train(
        lambda: training_set(tenant_id),
        tenant_id=tenant_id,
        params={"max_iter": 1, "max_depth": 1},
    )


def test_new_labels_retrain_promote_and_rescore_open_cases(worker, settings):
    settings.RISK_REVIEW_THRESHOLD = 0.0
    # The gate compares the two on the audit cases labelled after the
    # champion was trained: those of the 60 % of the history labelled later.
    rows = _history(labelled=0.4)
    _audit_cases(every=4)
    champion = _weak_champion()
    client = import_client()
    fresh = generate_orders(60, seed=22, start=rows[-1]["created_at"], days=1)
    for r in fresh:
        r["order_id"] = "new-" + r["order_id"]
    orders_ingest(client, _payloads(fresh), explain_all=False)
    open_cases = list(Case.objects.pending().values_list("order_id", flat=True))
    assert open_cases, "the weak champion must open some cases"
    # Reviewers label the unlabelled history: enough new labels for a retrain.
    unlabelled = rows[int(len(rows) * 0.4) :]
    Label.objects.bulk_create(
        Label(
            order=o,
            value="fraud" if r["is_fraud"] else "legitimate",
            source="reviewer",
            known_at=r["created_at"] + timedelta(days=1),
        )
        for r, o in zip(unlabelled, _orders(unlabelled), strict=True)
    )

    model_train_if_due.delay()

    challenger = wait_for(
        lambda: (
            ModelVersion.objects.filter(pk__gt=champion.pk)
            .exclude(status__in=["training", "candidate"])  # not decided yet
            .first()
        ),
        120,
        "the retrain task",
    )
    assert challenger.status == ModelVersion.Status.ACTIVE, challenger.error
    champion.refresh_from_db()
    assert champion.status == ModelVersion.Status.RETIRED
    wait_for(
        lambda: (
            Score.objects.filter(
                order_id__in=open_cases, model_version=challenger
            ).count()
            == len(open_cases)
        ),
        120,
        "open cases to be re-scored by the new version",
    )


def test_killed_worker_mid_training_leaves_no_partial_model_and_task_reruns(
    worker, settings
):
    _history(3000)
    champion = _weak_champion()

    model_train_task.delay(force=True)
    wait_for(
        lambda: ModelVersion.objects.filter(status="training").exists(),
        60,
        "the training to start",
    )
    worker.kill()

    assert ModelVersion.objects.filter(status="active").count() == 1
    worker.start()  # the unacknowledged task comes back (visibility timeout)
    done = wait_for(
        lambda: ModelVersion.objects.filter(
            pk__gt=champion.pk, status__in=["active", "rejected"]
        ).first(),
        180,
        "the redelivered training to finish",
    )
    assert done is not None
    interrupted = ModelVersion.objects.get(status="failed")
    assert "interrupted" in interrupted.error
    assert ModelVersion.objects.filter(status="active").count() == 1
    model_dir = Path(settings.MODEL_DIR)
    assert not list(model_dir.glob(".*.part"))
    for path in model_dir.glob("*.skops"):
        assert ModelVersion.objects.filter(artifact_path=str(path)).exists()


def _audit_cases(every: int) -> None:
    """Decided random-audit cases (π = 0.05) on every `every`-th order."""
    from cases.models import Order

    Case.objects.bulk_create(
        Case(
            order=o,
            tenant_id=o.tenant_id,
            priority=0,
            queue_reason=Case.QueueReason.AUDIT,
            selection_probability=0.05,
            status=Case.Status.DECIDED,
        )
        for o in Order.objects.order_by("id")[::every]
    )


def _orders(rows: list[dict]) -> list:
    from cases.models import Order

    by_id = {
        o.order_id: o
        for o in Order.objects.filter(order_id__in=[r["order_id"] for r in rows])
    }
    return [by_id[r["order_id"]] for r in rows]
