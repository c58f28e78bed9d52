"""Celery tasks: thin wrappers over cases.services."""

from celery import shared_task

from cases.services import (
    feature_rebuild,
    linked,
    maturity,
    queue_mix,
    rescoring,
    retention,
    training,
    webhooks,
)
from models_ml.locks import TrainingInProgress
from models_ml.services import TrainingDataError

RESCORE_CHUNK = 1000


@shared_task(soft_time_limit=600, time_limit=660)
def cases_rescore(tenant_id: int | None = None) -> str:
    """Fan out re-scoring of a tenant's open cases and recent orders in chunks
    (every tenant's for None: a message queued before tenants existed)."""
    tenants = [tenant_id] if tenant_id is not None else rescoring.rescore_tenants()
    ids = [i for t in tenants for i in rescoring.rescore_candidates(t)]
    for start in range(0, len(ids), RESCORE_CHUNK):
        orders_rescore.delay(ids[start : start + RESCORE_CHUNK])
    return f"{len(ids)} orders in {-(-len(ids) // RESCORE_CHUNK)} chunks"


@shared_task(soft_time_limit=600, time_limit=660)
def orders_rescore(order_ids: list[int]) -> str:
    return f"{rescoring.orders_rescore(order_ids)} scored"


@shared_task(soft_time_limit=120, time_limit=150)
def orders_linked_rescore(label_id: int) -> str:
    r = linked.orders_linked_rescore(label_id)
    return f"{r.scored} linked orders scored, {r.raised} raised, {r.opened} opened"


@shared_task(soft_time_limit=1800, time_limit=1900)
def labels_mature() -> str:
    return f"{maturity.labels_mature()} matured labels"


@shared_task(soft_time_limit=300, time_limit=330)
def queue_mix_fill() -> str:
    run = queue_mix.queue_mix_fill()
    return f"{run.exploration} exploration, {run.audit} audit cases"


@shared_task(bind=True, max_retries=None, soft_time_limit=60, time_limit=90)
def webhook_deliver(self, delivery_id: int) -> str:
    delay = webhooks.webhook_attempt(delivery_id)
    if delay is not None:
        raise self.retry(countdown=delay)
    return "done"


@shared_task(soft_time_limit=60, time_limit=90)
def webhook_deliveries_sweep() -> str:
    due = webhooks.webhook_deliveries_due()
    for delivery_id in due:
        webhook_deliver.delay(delivery_id)
    return f"{len(due)} re-enqueued"


@shared_task(soft_time_limit=3000, time_limit=3300)
def orders_purge() -> str:
    report = retention.orders_purge()
    return f"{report.orders} orders purged"


@shared_task(soft_time_limit=600, time_limit=660)
def feature_tiles_expire() -> str:
    return f"{feature_rebuild.feature_tiles_expire()} tiles dropped"


# The training tasks keep the names they had when they lived in models_ml, so
# beat schedules and messages already queued still find them.
@shared_task(name="models_ml.tasks.model_train", soft_time_limit=3000, time_limit=3300)
def model_train(force: bool = False) -> str:  # noqa: FBT001, FBT002 - task argument
    """Train every tenant with labels, each on its own."""
    try:
        results = training.models_retrain(force=force)
    except TrainingInProgress:
        return "skipped: a training is already running"
    return _trainings(results) or "not trained: no labels"


@shared_task(
    name="models_ml.tasks.model_train_if_due", soft_time_limit=3000, time_limit=3300
)
def model_train_if_due() -> str:
    try:
        results = training.model_retrain_if_due()
    except TrainingInProgress:
        return "skipped: a training is already running"
    return _trainings(results) or "not due"


def _trainings(results: dict) -> str:
    return "; ".join(
        f"{tenant.name}: not trained: {r}"
        if isinstance(r, TrainingDataError)
        else f"{tenant.name}: v{r.pk} {r.status}"
        for tenant, r in results.items()
    )
