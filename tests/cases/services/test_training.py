"""Train → promote → re-score, driven from the review side."""

import pytest

import cases.services.training as training
import cases.tasks
from cases.models import AuditEvent
from models_ml.models import ModelVersion
from tests.factories import ApiClientFactory, LabelFactory, TenantFactory


class _Enqueued:
    def __init__(self) -> None:
        self.calls = 0
        self.tenants: list[int] = []

    def delay(self, tenant_id: int) -> None:
        self.calls += 1
        self.tenants.append(tenant_id)


@pytest.fixture
def rescore(monkeypatch) -> _Enqueued:
    fake = _Enqueued()
    # The registered task itself: services enqueue it by name, not by import.
    monkeypatch.setattr(cases.tasks.cases_rescore, "delay", fake.delay)
    return fake


def _trained(active_version: ModelVersion, status: str) -> ModelVersion:
    return ModelVersion.objects.create(
        tenant=active_version.tenant,
        status=status,
        artifact_path=active_version.artifact_path,
        sha256=active_version.sha256,
        sklearn_version=active_version.sklearn_version,
        feature_names=active_version.feature_names,
    )


@pytest.mark.django_db
def test_rollback_activates_the_version_audits_and_rescores_after_commit(
    active_version, rescore, django_capture_on_commit_callbacks
):
    earlier = _trained(active_version, ModelVersion.Status.RETIRED)

    with django_capture_on_commit_callbacks(execute=True):
        training.model_rollback(earlier.pk, actor="user:lead")

    earlier.refresh_from_db()
    active_version.refresh_from_db()
    assert (earlier.status, active_version.status) == ("active", "retired")
    event = AuditEvent.objects.get(action="model.rollback")
    assert event.before == {"active": active_version.pk}
    assert rescore.tenants == [active_version.tenant_id]


@pytest.mark.parametrize(("status", "rescored"), [("active", 1), ("rejected", 0)])
@pytest.mark.django_db
def test_retrain_rescores_only_after_a_promotion(
    status, rescored, monkeypatch, rescore, django_capture_on_commit_callbacks
):
    tenant = TenantFactory()

    def fake_train(load, *, tenant_id, **_kwargs):
        return ModelVersion.objects.create(
            tenant=TenantFactory(), status=status, tenant_id=tenant_id
        )

    monkeypatch.setattr(training, "model_train", fake_train)

    with django_capture_on_commit_callbacks(execute=True):
        training.model_retrain(tenant.pk)

    assert rescore.tenants == [tenant.pk] * rescored


@pytest.mark.django_db
def test_only_tenants_with_enough_new_labels_of_their_own_are_retrained(
    settings, monkeypatch, rescore
):
    settings.RETRAIN_MIN_NEW_LABELS = 3
    busy, quiet = TenantFactory(name="busy"), TenantFactory(name="quiet")
    LabelFactory.create_batch(3, order__client=ApiClientFactory(tenant=busy))
    LabelFactory.create_batch(2, order__client=ApiClientFactory(tenant=quiet))
    trained: list[int] = []

    def fake_train(load, *, tenant_id, **_kwargs):
        trained.append(tenant_id)
        return ModelVersion.objects.create(
            tenant=TenantFactory(), status="rejected", tenant_id=tenant_id
        )

    monkeypatch.setattr(training, "model_train", fake_train)

    results = training.model_retrain_if_due()

    assert trained == [busy.pk]
    assert [t.name for t in results] == ["busy"]
    assert training.labels_since_last_training(busy.pk) == 0
    assert training.labels_since_last_training(quiet.pk) == 2
