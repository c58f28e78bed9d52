"""Same-day feedback: a fraud label re-scores the orders linked to it.

When a reviewer (or an outcome) marks an order fraud, the label aggregates
of its customer, card, device and seller change at once (`labels_record`, in the
label's transaction). The open cases and recent unreviewed orders of the same
tenant sharing one of those entities are then scored again, within seconds,
by a task enqueued on commit, without waiting for a retrain: their pending
cases are re-prioritised, an order that now needs review gets a case, and
each new Score names the label that caused it (`Score.cause_label`), so the
case page can say "risk raised by the fraud decision on order X".

Features stay as of each order's own time, except the label aggregates,
read as of the moment the label became known: that is the knowledge the
reviewers would act on now.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from cases.models import Case, Label, Order
from cases.services.jobs import task_enqueue_after_commit
from cases.services.opening import (
    cases_open,
    cases_rescored,
    openings_for_review,
)
from cases.services.scoring import orders_decide, scores_latest
from cases.services.webhooks import order_decision_changed_emit
from models_ml.feature_state import features_online
from models_ml.features import FEATURE_NAMES
from models_ml.models import Score
from models_ml.policy import DecisionPolicy, decision_policy
from models_ml.scoring import active_model
from models_ml.services import scores_save

# The entities whose label aggregates are features (feature_spec): sharing
# one of them is what makes a fraud label change another order's score. A
# busy seller links many orders: LINKED_RESCORE_LIMIT bounds the work.
LINK_FIELDS = ("customer_id", "card_fingerprint", "device_id", "seller_id")
RECENT = timedelta(days=7)
# Label windows end before their query's own minute (tiles): read them from
# the minute after the label became known.
_AFTER_LABEL = timedelta(minutes=1)
_LABEL_FEATURES = [name for name in FEATURE_NAMES if "_fraud_" in name]


def linked_rescore_after_commit(label: Label) -> None:
    """Enqueue the linked re-scoring of a fraud label once committed (a
    legitimate label changes nothing worth a task)."""
    if label.value != Label.Value.FRAUD:
        return
    task_enqueue_after_commit("cases.tasks.orders_linked_rescore", label.pk)


@dataclass(frozen=True)
class LinkedRescore:
    scored: int
    raised: int
    opened: int


def linked_candidates(order: Order, limit: int | None = None) -> list[Order]:
    """The tenant's orders sharing a LINK_FIELDS entity with `order` that are
    still undecided: pending cases, and unlabelled orders without a case from
    the tenant's last 7 days of order time. Newest first, at most `limit`."""
    limit = settings.LINKED_RESCORE_LIMIT if limit is None else limit
    shared = Q()
    for name in LINK_FIELDS:
        value = getattr(order, name)
        if value:
            shared |= Q(**{name: value})
    if not shared:
        return []
    orders = Order.objects.filter(shared, tenant_id=order.tenant_id).exclude(
        pk=order.pk
    )
    newest = orders.aggregate(newest=Max("created_at"))["newest"]
    if newest is None:
        return []
    undecided = Q(case__status__in=Case.PENDING) | Q(
        case__isnull=True, labels__isnull=True, created_at__gte=newest - RECENT
    )
    return list(orders.filter(undecided).distinct().order_by("-created_at")[:limit])


def orders_linked_rescore(
    label_id: int, policy: DecisionPolicy | None = None
) -> LinkedRescore:
    """Score the orders linked to a fraud label's order again (see the module).

    Decided as intake decides (`orders_decide`: lists, rules, boosts), with
    the label aggregates as of the label. Idempotent and safe to run
    concurrently: the candidate orders are locked (by id) before checking
    which were already re-scored for this label, and an order that has a
    case by then is re-prioritised, not given a second one. Nothing happens
    while the tenant has no model (the cold-start policy queues).
    """
    label = Label.objects.select_related("order").filter(pk=label_id).first()
    if label is None:  # undone before this task ran: nothing to propagate
        return LinkedRescore(0, 0, 0)
    policy = policy or decision_policy()
    source = label.order
    if label.value != Label.Value.FRAUD or active_model(source.tenant_id) is None:
        return LinkedRescore(0, 0, 0)
    candidates = linked_candidates(source)
    if not candidates:
        return LinkedRescore(0, 0, 0)
    with transaction.atomic():
        # Two labels' tasks (a group decision enqueues one per case) may share
        # orders: lock them in one order, then decide what is left to do. No
        # key update: a reviewer deciding one of these cases (case locked, then
        # a Label inserted, which key-shares the order) is not blocked by it,
        # so the two cannot deadlock.
        _lock(candidates)
        done = set(
            Score.objects.filter(cause_label=label, order__in=candidates).values_list(
                "order_id", flat=True
            )
        )
        orders = [o for o in candidates if o.pk not in done]
        if not orders:
            return LinkedRescore(0, 0, 0)
        features = _features_with_labels_as_of(orders, label.known_at + _AFTER_LABEL)
        return _decide_again(orders, features, policy, cause=label)


def _lock(orders: list[Order]) -> None:
    """Lock the orders (by id, no key update: see `orders_linked_rescore`)."""
    locked = Order.objects.select_for_update(no_key=True).filter(
        pk__in=[o.pk for o in orders]
    )
    list(locked.order_by("pk").values_list("pk", flat=True))


def _decide_again(
    orders: list[Order],
    features: pd.DataFrame,
    policy: DecisionPolicy,
    cause: Label | None,
) -> LinkedRescore:
    """Decide locked orders again on `features`, save the scores (naming
    `cause`), open the cases review now asks for, re-prioritise the pending
    ones and announce changed decisions."""
    explain = lambda d: d != Score.Decision.APPROVE  # noqa: E731
    scores = orders_decide(orders, policy, explain, features=features)
    before = scores_latest([o.pk for o in orders], "probability", "decision")
    cases = {c.order_id: c for c in Case.objects.filter(order__in=orders)}
    for score in scores:
        score.cause_label = cause
    scores_save(scores)
    opened = cases_open(
        openings_for_review([s for s in scores if s.order.pk not in cases], policy)
    )
    cases_rescored(cases, scores)
    for score in scores:
        was = before.get(score.order.pk, (None, None))[1]
        order_decision_changed_emit(score, was)
    raised = sum(
        (s.probability or 0) > (before.get(s.order.pk, (None, None))[0] or 0)
        for s in scores
    )
    return LinkedRescore(len(scores), raised, len(opened))


def orders_linked_unscore(label: Label, policy: DecisionPolicy | None = None) -> int:
    """A fraud label is being undone (`case_decision_undo`, in its transaction,
    after the label left the online feature state): the still undecided
    orders its linked re-scoring scored are decided again through the one
    decision path, with the label aggregates as of now, so without it; their
    pending cases are re-prioritised. Returns how many were scored.

    The linked candidates are locked first, as the linked task locks them, so
    a re-scoring of this label still running finishes before its scores are
    looked for; one that starts later finds the label gone.
    """
    policy = policy or decision_policy()
    candidates = linked_candidates(label.order)
    if not candidates:
        return 0
    _lock(candidates)
    caused = set(
        Score.objects.filter(cause_label=label, order__in=candidates).values_list(
            "order_id", flat=True
        )
    )
    orders = [o for o in candidates if o.pk in caused]
    if not orders or active_model(label.order.tenant_id) is None:
        return 0
    now = timezone.now()
    features = _features_with_labels_as_of(orders, now + _AFTER_LABEL)
    return _decide_again(orders, features, policy, cause=None).scored


def _features_with_labels_as_of(orders: list[Order], as_of: datetime) -> pd.DataFrame:
    """Features at each order's time, label aggregates as of `as_of`."""
    features = features_online(orders)
    later = [copy.copy(o) for o in orders]
    for o in later:
        o.created_at = max(o.created_at, as_of)
    labels_now = features_online(later)
    features[_LABEL_FEATURES] = labels_now[_LABEL_FEATURES].to_numpy()
    return features
