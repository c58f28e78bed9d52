"""Train → promote → re-score: the review side drives the model registry.

The registry (`models_ml.services`) fits, evaluates and promotes on frames it
is handed; what a promotion means for the review queue (open cases and recent
orders scored again, a rollback in the audit log) is decided here.

Every tenant has its own models: a training reads one tenant's labelled
orders, competes with that tenant's champion, and a promotion re-scores that
tenant's orders only. Retraining never crosses tenants.
"""

from __future__ import annotations

from django.conf import settings

from cases.datasets import training_set
from cases.models import Case, Label
from cases.services.audit import audit_record
from cases.services.gate_samples import gate_policy, gate_sample
from cases.services.jobs import task_enqueue_after_commit
from models_ml.models import ModelVersion
from models_ml.services import TrainingDataError, model_promote, model_train
from tenants.models import Tenant


def model_retrain(
    tenant_id: int,
    *,
    force: bool = False,
    params: dict | None = None,
    first_model_if_held: bool = False,
) -> ModelVersion:
    """Train a challenger on every label of the tenant known now; re-score the
    tenant's orders if it was promoted.

    The unbiased gate decides the promotion (`gate_samples`): a challenger is
    compared with the champion on held-out audit cases (or a matured window),
    and a sample too small holds it. Only an operator's training
    (`first_model_if_held`, `train_model`) installs a tenant's first model
    from a labelled history without a gate sample.

    Raises TrainingDataError (too few labels, or none new unless `force`) and
    TrainingInProgress (another training holds the lock).
    """
    version = model_train(
        lambda: training_set(tenant_id),
        tenant_id=tenant_id,
        force=force,
        params=params,
        gate_sample=lambda data: gate_sample(tenant_id, data),
        gate_policy=gate_policy(),
        first_model_if_held=first_model_if_held,
    )
    if version.status == ModelVersion.Status.ACTIVE:
        rescore_after_commit(tenant_id)
    return version


def models_retrain(
    *, force: bool = False, params: dict | None = None
) -> dict[Tenant, ModelVersion | TrainingDataError]:
    """`model_retrain` for every tenant with labels, one after the other: each
    tenant's new version, or why it was not trained. TrainingInProgress
    (another process trains) stops the round."""
    out: dict[Tenant, ModelVersion | TrainingDataError] = {}
    for tenant in tenants_with_labels():
        try:
            out[tenant] = model_retrain(tenant.pk, force=force, params=params)
        except TrainingDataError as exc:
            out[tenant] = exc
    return out


def model_retrain_if_due() -> dict[Tenant, ModelVersion | TrainingDataError]:
    """Train each tenant that received RETRAIN_MIN_NEW_LABELS labels since its
    last model, and a tenant without a model as soon as the gate's sample is
    big enough (`first_model_due`); {} when none is due."""
    out: dict[Tenant, ModelVersion | TrainingDataError] = {}
    for tenant in tenants_with_labels():
        new = labels_since_last_training(tenant.pk)
        if not new or (
            new < settings.RETRAIN_MIN_NEW_LABELS and not first_model_due(tenant.pk)
        ):
            continue
        try:
            out[tenant] = model_retrain(tenant.pk)
        except TrainingDataError as exc:
            out[tenant] = exc
    return out


def first_model_due(tenant_id: int) -> bool:
    """No active model yet, and labelled audit cases enough for the gate
    (GATE_MIN_CASES, of which GATE_MIN_FRAUDS fraud)."""
    if ModelVersion.objects.filter(
        tenant_id=tenant_id, status=ModelVersion.Status.ACTIVE
    ).exists():
        return False
    audited = Label.objects.filter(
        order__tenant_id=tenant_id, order__case__queue_reason=Case.QueueReason.AUDIT
    )
    cases = audited.values("order_id").distinct().count()
    frauds = (
        audited.filter(value=Label.Value.FRAUD).values("order_id").distinct().count()
    )
    return cases >= settings.GATE_MIN_CASES and frauds >= settings.GATE_MIN_FRAUDS


def tenants_with_labels() -> list[Tenant]:
    ids = Label.objects.values_list("order__tenant_id", flat=True).distinct()
    return list(Tenant.objects.filter(pk__in=ids).order_by("pk"))


def labels_since_last_training(tenant_id: int) -> int:
    """The tenant's labels created since its newest training that produced a
    model."""
    last = (
        ModelVersion.objects.filter(tenant_id=tenant_id)
        .exclude(status__in=[ModelVersion.Status.FAILED, ModelVersion.Status.TRAINING])
        .order_by("-created_at")
        .first()
    )
    labels = Label.objects.filter(order__tenant_id=tenant_id)
    if last is not None:
        labels = labels.filter(created_at__gt=last.created_at)
    return labels.count()


def model_rollback(version_id: int, *, actor: str) -> ModelVersion:
    """Make an earlier version active again for its tenant (it must have been
    trained fine), audited, and re-score the tenant's orders with it."""
    tenant_id = ModelVersion.objects.values_list("tenant_id", flat=True).get(
        pk=version_id
    )
    previous = ModelVersion.objects.filter(
        tenant_id=tenant_id, status=ModelVersion.Status.ACTIVE
    ).first()
    version = model_promote(version_id, reason=f"rollback by {actor}")
    audit_record(
        actor,
        "model.rollback",
        version,
        before={"active": previous.pk if previous else None},
        after={"active": version.pk},
    )
    rescore_after_commit(tenant_id)
    return version


def rescore_after_commit(tenant_id: int) -> None:
    """Enqueue the re-scoring of the tenant's open cases and recent orders
    once committed."""
    task_enqueue_after_commit("cases.tasks.cases_rescore", tenant_id)
