import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from django.db import connection

from cases.datasets import training_set
from cases.schemas import OrderIn
from cases.services.bulk import import_client, orders_bulk_load
from lab.demo_data import TRUTH_KEYS, generate_orders
from models_ml.models import ModelVersion
from models_ml.services import TrainingDataError, model_promote, model_train
from tests.factories import TenantFactory

FAST = {"max_iter": 40}


def from_ms(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(ms))


def _load_labelled_orders(n: int = 1500, seed: int = 2) -> None:
    rows = generate_orders(n, seed=seed, days=20)
    payloads = [
        OrderIn.model_validate({k: v for k, v in r.items() if k not in TRUTH_KEYS})
        for r in rows
    ]
    labels = [
        (
            r["order_id"],
            "fraud" if r["is_fraud"] else "legitimate",
            r["created_at"] + timedelta(days=3),
        )
        for r in rows
    ]
    orders_bulk_load(import_client(), payloads, labels)


def _tenant_id() -> int:
    """The tenant of the imported orders (import_client's)."""
    return import_client().tenant_id


def _load():
    return training_set(_tenant_id())


@pytest.fixture
def model_dir(settings, tmp_path) -> Path:
    settings.MODEL_DIR = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_first_model_is_trained_saved_and_promoted(model_dir):
    _load_labelled_orders()

    version = model_train(_load, tenant_id=_tenant_id(), params=FAST)

    assert version.status == ModelVersion.Status.ACTIVE
    assert Path(version.artifact_path).parent == model_dir
    assert version.metrics["holdout"]["auc"] > 0.8
    assert version.label_counts["fraud"] > 0
    assert version.training_rows == pytest.approx(1200, abs=5)


@pytest.mark.django_db
def test_unchanged_labels_are_not_trained_again(model_dir):
    _load_labelled_orders()
    model_train(_load, tenant_id=_tenant_id(), params=FAST)

    with pytest.raises(TrainingDataError, match="no new labels"):
        model_train(_load, tenant_id=_tenant_id(), params=FAST)

    assert ModelVersion.objects.filter(status="active").count() == 1


@pytest.mark.django_db
def test_worse_challenger_is_rejected_and_champion_stays(model_dir):
    _load_labelled_orders()
    champion = model_train(_load, tenant_id=_tenant_id(), params=FAST)

    weak = model_train(
        _load,
        tenant_id=_tenant_id(),
        force=True,
        params={"max_iter": 1, "max_depth": 1},
    )

    assert weak.status == ModelVersion.Status.REJECTED
    assert weak.metrics["holdout"]["ap"] < weak.metrics["champion"]["ap"]
    champion.refresh_from_db()
    assert champion.status == ModelVersion.Status.ACTIVE


@pytest.mark.django_db
def test_too_few_labels_fail_visibly(model_dir):
    with pytest.raises(TrainingDataError):
        model_train(_load, tenant_id=_tenant_id())

    failed = ModelVersion.objects.get()
    assert failed.status == ModelVersion.Status.FAILED
    assert "labelled orders" in failed.error


@pytest.mark.django_db
def test_a_window_without_holdout_trains_on_the_window_and_promotes(model_dir):
    _load_labelled_orders()
    data = training_set(_tenant_id())
    start_ms, end_ms = np.quantile(data.created_ts, [0.25, 0.75]).astype(int)
    inside = (data.created_ts >= start_ms) & (data.created_ts < end_ms)

    version = model_train(
        _load,
        tenant_id=_tenant_id(),
        params=FAST,
        window=(from_ms(start_ms), from_ms(end_ms)),
        holdout_share=0.0,
    )

    assert version.status == ModelVersion.Status.ACTIVE
    assert version.training_rows == int(inside.sum())
    assert version.label_counts["fraud"] == int(data.target[inside].sum())
    assert version.metrics == {"holdout": None, "champion": None}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_promotions_leave_exactly_one_active_version(trained_artifact):
    import sklearn

    from models_ml.features import FEATURE_NAMES

    path, digest, _model = trained_artifact
    tenant = TenantFactory()
    candidates = [
        ModelVersion.objects.create(
            tenant=tenant,
            status=ModelVersion.Status.CANDIDATE,
            artifact_path=str(path),
            sha256=digest,
            sklearn_version=sklearn.__version__,
            feature_names=FEATURE_NAMES,
        )
        for _ in range(10)
    ]
    barrier = threading.Barrier(len(candidates))
    errors: list[BaseException] = []

    def promote(version_id: int) -> None:
        try:
            barrier.wait()
            model_promote(version_id, reason="race")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=promote, args=(c.pk,)) for c in candidates]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert ModelVersion.objects.filter(status="active").count() == 1
    assert ModelVersion.objects.filter(status="retired").count() == 9


@pytest.mark.django_db
def test_each_tenant_trains_on_its_own_labels_and_keeps_its_own_champion(
    model_dir, champion
):
    """Another tenant's labels never reach a tenant's training set, and a
    promotion in one tenant leaves the other's champion active."""
    _load_labelled_orders(1200, seed=2)  # the import client's tenant
    other = TenantFactory(name="other")
    theirs = champion(other)
    rows = generate_orders(300, seed=9, days=20)
    payloads = [
        OrderIn.model_validate({k: v for k, v in r.items() if k not in TRUTH_KEYS})
        for r in rows
    ]
    labels = [
        (r["order_id"], "fraud", r["created_at"] + timedelta(days=1)) for r in rows
    ]
    orders_bulk_load(
        import_client("other-import", tenant=other), payloads, labels
    )  # all fraud, on the same ids: a leak would show in the counts

    mine = training_set(_tenant_id())
    version = model_train(_load, tenant_id=_tenant_id(), params=FAST)

    assert len(mine.order_ids) == 1200
    assert version.tenant_id == _tenant_id() and version.status == "active"
    assert version.label_counts == mine.label_counts
    theirs.refresh_from_db()
    assert theirs.status == "active"  # the other tenant's champion stays
    assert len(training_set(other.pk).order_ids) == 300
