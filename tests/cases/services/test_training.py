"""Train → promote → re-score, driven from the review side."""

import pytest

import cases.services.training as training
import cases.tasks
from cases.models import AuditEvent
from models_ml.models import ModelVersion


class _Enqueued:
    def __init__(self) -> None:
        self.calls = 0

    def delay(self) -> None:
        self.calls += 1


@pytest.fixture
def rescore(monkeypatch) -> _Enqueued:
    fake = _Enqueued()
    monkeypatch.setattr(cases.tasks, "cases_rescore", fake)
    return fake


def _trained(active_version: ModelVersion, status: str) -> ModelVersion:
    return ModelVersion.objects.create(
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
    assert rescore.calls == 1


@pytest.mark.parametrize(("status", "rescored"), [("active", 1), ("rejected", 0)])
@pytest.mark.django_db
def test_retrain_rescores_only_after_a_promotion(
    status, rescored, monkeypatch, rescore, django_capture_on_commit_callbacks
):
    def fake_train(load, **_kwargs):
        return ModelVersion.objects.create(status=status)

    monkeypatch.setattr(training, "model_train", fake_train)

    with django_capture_on_commit_callbacks(execute=True):
        training.model_retrain()

    assert rescore.calls == rescored
