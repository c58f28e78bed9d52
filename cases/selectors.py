"""Reads that span several models."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from cases.models import ApiClient, Case, Label, Order
from models_ml.models import Score


def order_get_for_client(client: ApiClient, order_id: str) -> Order:
    return get_object_or_404(Order, client=client, order_id=order_id)


def order_latest_score(order: Order) -> Score | None:
    return order.scores.order_by("-id").first()


def order_labels(order: Order) -> list[Label]:
    return list(order.labels.order_by("known_at", "id"))


def case_get_for_client(client: ApiClient, case_id: int) -> Case:
    return get_object_or_404(
        Case.objects.select_related("order"), pk=case_id, order__client=client
    )
