"""Taking back a decision a few seconds after making it."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from cases.exceptions import InvalidTransition
from cases.models import AuditEvent, Case, Claim, Label
from cases.services.audit import audit_record
from cases.services.linked import orders_linked_unscore
from cases.services.review import _lease_end, actor_name
from models_ml.feature_state import labels_withdraw


def case_decision_undo(label_id: int, user: User) -> Claim:
    """Withdraw `user`'s own reviewer decision and hand her the case again.

    Allowed for DECISION_UNDO_SECONDS after the decision, and only while
    nothing else happened to the case (no later label, claim, escalation or
    override). The label is deleted (and taken out of the online feature
    state), the case gets its status from before the
    decision back, and a fresh lease goes to the reviewer; the audit trail
    keeps both the decision and its undoing. A fraud decision's same-day
    propagation is undone too: the undecided orders its linked re-scoring
    scored are decided again without it (`orders_linked_unscore`), their
    cases re-prioritised. A `case.decided` webhook already sent is superseded
    by the next decision's. Locks the case row.
    """
    label = Label.objects.filter(pk=label_id).first()
    if label is None or label.case_id is None:
        raise InvalidTransition("There is no such decision to undo.")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=label.case_id)
        decided = _decision_event(case)
        latest = case.labels.order_by("-id").first()
        if (
            latest is None
            or latest.pk != label.pk
            or label.created_by_id != user.pk
            or decided is None
            or decided.before is None
        ):
            raise InvalidTransition("Only your own latest decision can be undone.")
        if timezone.now() > label.known_at + timedelta(
            seconds=settings.DECISION_UNDO_SECONDS
        ):
            raise InvalidTransition("Too late to undo: the undo window has closed.")
        if _moved_on(case, decided):
            raise InvalidTransition("Too late to undo: the case has moved on.")
        undone = {"status": case.status, "label": label.value, "reasons": label.reasons}
        case.status = (decided.before or {}).get("status", Case.Status.OPEN)
        previous = case.labels.exclude(pk=label.pk).order_by("-id").first()
        case.decided_at = previous.known_at if previous else None
        case.save(update_fields=["status", "decided_at"])
        labels_withdraw([label])
        # Its same-day propagation goes with it: the linked orders it
        # re-scored are decided again without it.
        rescored = (
            orders_linked_unscore(label) if label.value == Label.Value.FRAUD else 0
        )
        label.delete()
        claim = Claim.objects.create(case=case, reviewer=user, expires_at=_lease_end())
        audit_record(
            actor_name(user),
            "case.decision_undone",
            case,
            before=undone,
            after={
                "status": case.status,
                "claim": claim.pk,
                "linked_rescored": rescored,
            },
        )
    return claim


def _decision_event(case: Case) -> AuditEvent | None:
    return (
        AuditEvent.objects.filter(
            object_type="case", object_id=str(case.pk), action="case.decided"
        )
        .order_by("-id")
        .first()
    )


def _moved_on(case: Case, decided: AuditEvent) -> bool:
    """Anything but a page view recorded on the case after the decision."""
    later = AuditEvent.objects.filter(
        object_type="case", object_id=str(case.pk), id__gt=decided.pk
    ).exclude(action="case.viewed")
    live = Claim.objects.filter(case=case, released_at__isnull=True)
    return later.exists() or live.exists()
