"""A model file that cannot be loaded never takes intake down, and is never
activated (finding 7 of the second hardening round)."""

from pathlib import Path

import pytest

from cases.models import Case
from models_ml.models import ModelVersion
from models_ml.scoring import active_model, active_model_forget
from tests.factories import TenantFactory, order_payload

ORDERS = "/api/v1/orders/"


@pytest.fixture
def lead_client(client, django_user_model):
    from cases.services.users import user_create

    client.force_login(
        user_create("lena", "correct-horse-battery", "lead", tenant=TenantFactory())
    )
    return client


def _copy(version: ModelVersion, status: str, **changes) -> ModelVersion:
    fields = {
        f.name: getattr(version, f.name)
        for f in ModelVersion._meta.concrete_fields
        if f.name not in {"id", "created_at"}
    }
    return ModelVersion.objects.create(**{**fields, "status": status, **changes})


def test_rollback_to_a_version_whose_file_is_missing_is_refused(
    lead_client, active_version, api, tmp_path
):
    missing = _copy(
        active_version, "retired", artifact_path=str(tmp_path / "gone.skops")
    )

    response = lead_client.post(f"/models/{missing.pk}/rollback/", follow=True)

    assert b"was not activated" in response.content
    missing.refresh_from_db()
    active_version.refresh_from_db()
    assert missing.status == "retired" and active_version.status == "active"
    assert api.post(ORDERS, order_payload(), format="json").status_code == 201


def test_intake_keeps_the_last_good_model_when_the_active_file_breaks(
    active_version, api, tmp_path
):
    tenant_id = active_version.tenant_id
    assert active_model(tenant_id).version_id == active_version.pk  # the last good
    broken = tmp_path / "broken.skops"
    broken.write_bytes(b"not a model")
    ModelVersion.objects.filter(pk=active_version.pk).update(status="retired")
    _copy(active_version, "active", artifact_path=str(broken))

    response = api.post(ORDERS, order_payload(), format="json")

    assert response.status_code == 201
    assert response.json()["model_version"] == active_version.pk
    health = api.get("/health/").json()
    assert health["status"] == "degraded"
    assert health["models"] == {"active": 1, "failing": 1}  # no tenant named


def test_with_no_good_model_intake_decides_review_and_queues(
    active_version, api, lead_client, tmp_path
):
    active_model_forget()
    corrupted = Path(tmp_path / "corrupted.skops")
    corrupted.write_bytes(Path(active_version.artifact_path).read_bytes()[:-10])
    ModelVersion.objects.filter(pk=active_version.pk).update(
        artifact_path=str(corrupted)
    )

    response = api.post(ORDERS, order_payload(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["decision"], body["risk_score"]) == ("review", None)
    assert Case.objects.get().queue_reason == Case.QueueReason.NO_MODEL
    page = lead_client.get("/models/")
    assert b"cannot be loaded" in page.content
