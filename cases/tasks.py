"""Celery tasks: thin wrappers over cases.services."""

from celery import shared_task

from cases.services import queue_mix, rescoring

RESCORE_CHUNK = 1000


@shared_task(soft_time_limit=600, time_limit=660)
def cases_rescore() -> str:
    """Fan out re-scoring of open cases and recent orders in chunks."""
    ids = rescoring.rescore_candidates()
    for start in range(0, len(ids), RESCORE_CHUNK):
        orders_rescore.delay(ids[start : start + RESCORE_CHUNK])
    return f"{len(ids)} orders in {-(-len(ids) // RESCORE_CHUNK)} chunks"


@shared_task(soft_time_limit=600, time_limit=660)
def orders_rescore(order_ids: list[int]) -> str:
    return f"{rescoring.orders_rescore(order_ids)} scored"


@shared_task(soft_time_limit=300, time_limit=330)
def queue_mix_fill() -> str:
    run = queue_mix.queue_mix_fill()
    return f"{run.exploration} exploration, {run.audit} audit cases"
