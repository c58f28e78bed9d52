"""The review workflow: claim, release, decide, escalate, override, reassign.

Every write here runs in a transaction that locks the case row, and records an
AuditEvent. A claim is a lease: it ends when the reviewer decides or releases,
or when it expires; a decision is accepted only under the reviewer's live lease.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.exceptions import CaseNotAvailable, InvalidTransition, LeaseLost
from cases.models import Case, Claim, Label, ReasonCode
from cases.selectors import order_latest_score
from cases.services.audit import audit_record
from cases.services.linked import linked_rescore_after_commit
from cases.services.opening import rule_reasons
from cases.services.webhooks import webhook_events_emit
from models_ml.feature_state import labels_record
from tenants.services import user_tenant_id


def actor_name(user: User) -> str:
    return f"user:{user.get_username()}"


def _lease_end() -> datetime:
    return timezone.now() + timedelta(minutes=settings.CASE_LEASE_MINUTES)


def _expire_stale_claims(case_ids: Sequence[int] | None = None) -> None:
    stale = Claim.objects.filter(
        released_at__isnull=True, expires_at__lte=timezone.now()
    )
    if case_ids is not None:
        stale = stale.filter(case_id__in=case_ids)
    stale.update(released_at=timezone.now(), end=Claim.End.EXPIRED)


def _statuses_for(user: User) -> list[str]:
    if user.has_perm("cases.lead_case"):
        return [Case.Status.ESCALATED, Case.Status.QA, Case.Status.OPEN]
    return [Case.Status.QA, Case.Status.OPEN]


def case_view_record(case: Case, user: User) -> None:
    """Record that `user` opened the case page.

    The one write a GET makes, on purpose: the page shows a customer's
    personal data, and who looked at whose data is itself part of the audit
    trail. It changes no state of the case; opening the page twice records
    two views, as it should.
    """
    audit_record(actor_name(user), "case.viewed", case)


def case_claim_next(user: User) -> Claim | None:
    """Claim the highest-priority case of the user's tenant that nobody holds;
    None if that queue is empty (or the user belongs to no tenant).

    Candidates are locked with SELECT … FOR UPDATE SKIP LOCKED, so concurrent
    reviewers never get the same case; the partial unique index on Claim is the
    last line of defence. QA cases are never offered to their first reviewer.
    """
    current = (
        Claim.objects.filter(
            reviewer=user, released_at__isnull=True, expires_at__gt=timezone.now()
        )
        .select_related("case")
        .first()
    )
    if current is not None:
        return current
    tenant_id = user_tenant_id(user)
    if tenant_id is None:
        return None  # a user of no tenant has no queue
    for status in _statuses_for(user):
        for _attempt in range(3):
            try:
                claim = _claim_first(user, status, tenant_id)
            except IntegrityError:
                continue
            if claim is not None:
                return claim
            break
    return None


def _claim_first(user: User, status: str, tenant_id: int) -> Claim | None:
    now = timezone.now()
    with transaction.atomic():
        candidates = (
            Case.objects.filter(tenant_id=tenant_id, status=status)
            .unclaimed(now)
            .not_deferred_for(user.pk, now)
            .by_priority()
        )
        if status == Case.Status.QA:
            candidates = candidates.exclude(labels__created_by=user)
        case = candidates.select_for_update(skip_locked=True, of=("self",)).first()
        if case is None:
            return None
        _expire_stale_claims([case.pk])
        claim = Claim.objects.create(case=case, reviewer=user, expires_at=_lease_end())
        audit_record(actor_name(user), "case.claimed", case, after={"claim": claim.pk})
    return claim


def case_claim(case: Case, user: User) -> Claim:
    """Claim a given case (from the queue page); refused if someone holds it,
    or if it is not of the user's tenant."""
    if case.tenant_id != user_tenant_id(user):
        raise CaseNotAvailable(f"case {case.pk} is not of your tenant")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status not in Case.PENDING:
            raise InvalidTransition(f"case {case.pk} is {case.status}")
        if case.status == Case.Status.ESCALATED and not user.has_perm(
            "cases.lead_case"
        ):
            raise CaseNotAvailable("escalated cases are for leads")
        if _labelled_for_qa_by(case, user):
            raise CaseNotAvailable("QA needs a second reviewer")
        _expire_stale_claims([case.pk])
        live = Claim.objects.filter(case=case, released_at__isnull=True).first()
        if live is not None:
            if live.reviewer_id == user.pk:
                return live
            raise CaseNotAvailable(f"case {case.pk} is claimed by someone else")
        claim = Claim.objects.create(case=case, reviewer=user, expires_at=_lease_end())
        audit_record(actor_name(user), "case.claimed", case, after={"claim": claim.pk})
    return claim


def _labelled_for_qa_by(case: Case, user: User) -> bool:
    """A QA case is reviewed blind by someone other than its first reviewer."""
    return (
        case.status == Case.Status.QA and case.labels.filter(created_by=user).exists()
    )


def case_release(claim_id: int, user: User) -> None:
    with transaction.atomic():
        claim = _live_claim(claim_id, user)
        claim.released_at, claim.end = timezone.now(), Claim.End.RELEASED
        claim.save(update_fields=["released_at", "end"])
        audit_record(
            actor_name(user), "case.released", claim.case, after={"claim": claim.pk}
        )


def _live_claim(claim_id: int, user: User) -> Claim:
    """The caller's live lease, locked with its case; LeaseLost otherwise."""
    claim = Claim.objects.select_related("case").filter(pk=claim_id).first()
    if claim is None:
        raise LeaseLost("no such claim")
    Case.objects.select_for_update().get(pk=claim.case_id)
    claim.refresh_from_db()
    if claim.reviewer_id != user.pk:
        raise LeaseLost("this case is claimed by someone else")
    if claim.released_at is not None:
        raise LeaseLost(f"your claim ended ({claim.end or 'released'})")
    if claim.expires_at <= timezone.now():
        raise LeaseLost("your claim expired; the case went back to the queue")
    return claim


def case_decide(
    claim_id: int,
    user: User,
    *,
    value: str,
    reasons: Sequence[str],
    note: str,
) -> Label:
    """Label the claimed case fraud / legitimate, for at least one active reason
    that applies to that value (ValidationError otherwise).

    A first decision may be sampled for blind QA (QA_SHARE); a QA decision that
    disagrees with the first sends the case to a lead.
    """
    with transaction.atomic():
        claim = _live_claim(claim_id, user)
        _check_decision(value, reasons, required=True)
        case = claim.case
        before = case.status
        label = Label.objects.create(
            order_id=case.order_id,
            case=case,
            value=value,
            source=Label.Source.REVIEWER,
            reasons=list(reasons),
            note=note,
            created_by=user,
            known_at=timezone.now(),
        )
        labels_record([label])
        linked_rescore_after_commit(label)
        case.status = _status_after_decision(case, label)
        case.decided_at = timezone.now()
        case.save(update_fields=["status", "decided_at"])
        claim.released_at, claim.end = timezone.now(), Claim.End.DECIDED
        claim.save(update_fields=["released_at", "end"])
        audit_record(
            actor_name(user),
            "case.decided",
            case,
            before={"status": before},
            after={
                "status": case.status,
                "label": value,
                "reasons": list(reasons),
                "note": note,
            },
        )
        if case.status == Case.Status.DECIDED:
            _decision_event(case, label, "case.decided")
    return label


def _check_decision(value: str, reasons: Sequence[str], *, required: bool) -> None:
    """A decision is fraud or legitimate, and each reason given is an active
    reason code that applies to that value (or to any)."""
    if value not in Label.Value.values:
        raise ValidationError({"value": [f"Not a decision: {value!r}."]})
    if required and not reasons:
        raise ValidationError({"reasons": ["Pick at least one reason."]})
    fitting = set(
        ReasonCode.objects.filter(
            code__in=reasons,
            active=True,
            applies_to__in=[value, ReasonCode.AppliesTo.ANY],
        ).values_list("code", flat=True)
    )
    wrong = [r for r in reasons if r not in fitting]
    if wrong:
        raise ValidationError(
            {"reasons": [f"Not a reason for {value}: {', '.join(wrong)}."]}
        )


def _check_note(note: str, why: str) -> None:
    if not note.strip():
        raise ValidationError({"note": [why]})


def _decision_event(case: Case, label: Label, event_type: str) -> None:
    """Tell the client's webhooks (sent after commit, at least once)."""
    webhook_events_emit(
        case.order,
        event_type,
        {
            "case_id": case.pk,
            "decision": label.value,
            "reasons": label.reasons,
            "decided_at": label.known_at.isoformat(),
            "rule_reasons": rule_reasons(order_latest_score(case.order)),
        },
    )


def _status_after_decision(case: Case, label: Label) -> str:
    if case.status == Case.Status.QA:
        first = case.labels.exclude(pk=label.pk).order_by("-id").first()
        agree = first is None or first.value == label.value
        return Case.Status.DECIDED if agree else Case.Status.ESCALATED
    if case.status == Case.Status.OPEN and random.random() < settings.QA_SHARE:  # noqa: S311
        return Case.Status.QA
    return Case.Status.DECIDED


def case_escalate(claim_id: int, user: User, *, note: str) -> Case:
    """Send the claimed case to a lead; the note says why (required)."""
    with transaction.atomic():
        claim = _live_claim(claim_id, user)
        _check_note(note, "Say why you escalate.")
        case = claim.case
        before = case.status
        case.status = Case.Status.ESCALATED
        case.save(update_fields=["status"])
        claim.released_at, claim.end = timezone.now(), Claim.End.ESCALATED
        claim.save(update_fields=["released_at", "end"])
        audit_record(
            actor_name(user),
            "case.escalated",
            case,
            before={"status": before},
            after={"status": case.status, "note": note},
        )
    return case


def case_override(
    case: Case,
    lead: User,
    *,
    value: str,
    reasons: Sequence[str],
    note: str,
    expected_status: str = "",
) -> Label:
    """A lead's decision replaces the case's outcome; earlier labels stay. The
    note (required) says why; reasons, if given, must fit the value.

    No claim is needed (a lead decides an escalated case straight away). With
    `expected_status` (the status the lead saw), the decision is refused if the
    case changed meanwhile, e.g. another lead decided it first; the check runs
    under the case's row lock.
    """
    if not lead.has_perm("cases.lead_case"):
        raise CaseNotAvailable("only leads can override")
    _check_decision(value, reasons, required=False)
    _check_note(note, "Say why you override.")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if expected_status and case.status != expected_status:
            raise InvalidTransition(
                f"Case {case.pk} changed while you looked at it (now "
                f"{case.get_status_display()}); reload it."
            )
        previous = case.labels.order_by("-id").first()
        label = Label.objects.create(
            order_id=case.order_id,
            case=case,
            value=value,
            source=Label.Source.REVIEWER,
            reasons=[*reasons, "lead_override"],
            note=note,
            created_by=lead,
            known_at=timezone.now(),
        )
        labels_record([label])
        linked_rescore_after_commit(label)
        before_status = case.status
        case.status = Case.Status.DECIDED
        case.decided_at = case.decided_at or timezone.now()
        case.save(update_fields=["status", "decided_at"])
        Claim.objects.filter(case=case, released_at__isnull=True).update(
            released_at=timezone.now(), end=Claim.End.DECIDED
        )
        audit_record(
            actor_name(lead),
            "case.overridden",
            case,
            before={
                "status": before_status,
                "label": previous.value if previous else None,
            },
            after={
                "status": case.status,
                "label": value,
                "reasons": list(reasons),
                "note": note,
            },
        )
        _decision_event(case, label, "case.overridden")
    return label


def case_reassign(case: Case, lead: User, to: User) -> Claim:
    if not lead.has_perm("cases.lead_case"):
        raise CaseNotAvailable("only leads can reassign")
    if not case.tenant_id == user_tenant_id(lead) == user_tenant_id(to):
        raise CaseNotAvailable("a case is reassigned within its tenant only")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status not in Case.PENDING:
            raise InvalidTransition(f"case {case.pk} is {case.status}")
        if _labelled_for_qa_by(case, to):
            raise CaseNotAvailable("QA needs a second reviewer")
        previous = Claim.objects.filter(case=case, released_at__isnull=True).first()
        if previous is not None:
            previous.released_at, previous.end = timezone.now(), Claim.End.REASSIGNED
            previous.save(update_fields=["released_at", "end"])
        claim = Claim.objects.create(case=case, reviewer=to, expires_at=_lease_end())
        audit_record(
            actor_name(lead),
            "case.reassigned",
            case,
            before={"reviewer": previous.reviewer.get_username() if previous else None},
            after={"reviewer": to.get_username()},
        )
    return claim
