"""Putting a claimed case aside: skip (for me, for a while) or snooze (for
everyone, until a time). Both end the caller's lease and are audited."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from cases.exceptions import InvalidTransition
from cases.models import CaseDeferral, Claim
from cases.services.audit import audit_record
from cases.services.review import _live_claim, actor_name

SNOOZE_MAX = timedelta(days=30)


def case_skip(claim_id: int, user: User) -> CaseDeferral:
    """Give the case back and keep it out of this reviewer's "next case" for
    CASE_SKIP_MINUTES; other reviewers still get it. Locks the case row."""
    until = timezone.now() + timedelta(minutes=settings.CASE_SKIP_MINUTES)
    return _defer(claim_id, user, CaseDeferral.Kind.SKIP, until, reviewer=user)


def case_snooze(claim_id: int, user: User, *, until: datetime) -> CaseDeferral:
    """Give the case back and keep it out of everyone's "next case" until
    `until` (later than now, at most 30 days ahead). Locks the case row."""
    now = timezone.now()
    if until <= now:
        raise InvalidTransition("Snooze until a time in the future.")
    if until > now + SNOOZE_MAX:
        raise InvalidTransition("Snooze for 30 days at most.")
    return _defer(claim_id, user, CaseDeferral.Kind.SNOOZE, until, reviewer=None)


def _defer(
    claim_id: int, user: User, kind: str, until: datetime, *, reviewer: User | None
) -> CaseDeferral:
    with transaction.atomic():
        claim = _live_claim(claim_id, user)
        claim.released_at = timezone.now()
        claim.end = Claim.End.SKIPPED if kind == "skip" else Claim.End.SNOOZED
        claim.save(update_fields=["released_at", "end"])
        deferral = CaseDeferral.objects.create(
            case=claim.case, kind=kind, reviewer=reviewer, until=until, created_by=user
        )
        audit_record(
            actor_name(user),
            {"skip": "case.skipped", "snooze": "case.snoozed"}[kind],
            claim.case,
            after={"claim": claim.pk, "until": until.isoformat()},
        )
    return deferral
