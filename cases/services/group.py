"""Group decisions: the open cases that share a card, device, IP, e-mail or
customer with a case, decided together (a card-testing burst of 40 orders).

Each case goes through the single-case path, `case_claim` then `case_decide`,
in its own transaction: its own claim, label and audit events, the same
race-free locking. A case someone else holds, or that is no longer pending,
is left alone and reported; the others are decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cases.exceptions import DomainError
from cases.models import Case, CaseQuerySet, Claim
from cases.services.review import _check_decision, case_claim, case_decide

# Entity → order field; the seller is no group (one seller sells to everyone).
GROUP_FIELDS = {
    "card": "card_fingerprint",
    "device": "device_id",
    "ip": "ip_address",
    "email": "email",
    "customer": "customer_id",
}
MAX_GROUP = 200


@dataclass
class GroupMember:
    case: Case
    shared: list[str]


@dataclass
class GroupDecision:
    decided: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def _decidable_by(user: User) -> CaseQuerySet:
    """The cases `user` may decide in a group: pending ones nobody else holds;
    for a reviewer only open ones (a QA case is reviewed blind, one at a time,
    and an escalated one is a lead's)."""
    others_hold = Claim.objects.filter(
        case=OuterRef("pk"), released_at__isnull=True, expires_at__gt=timezone.now()
    ).exclude(reviewer=user)
    cases = Case.objects.exclude(Exists(others_hold))
    if user.has_perm("cases.lead_case"):
        return cases.pending()
    return cases.filter(status=Case.Status.OPEN)


def case_group(case: Case, user: User) -> list[GroupMember]:
    """The tenant's other cases that `user` may decide (`_decidable_by`) whose
    order shares a card, device, IP, e-mail or customer with this case's order
    (at most MAX_GROUP, by priority), with what they share."""
    order = case.order
    match = Q()
    for field_name in GROUP_FIELDS.values():
        value = getattr(order, field_name)
        if value:
            match |= Q(**{f"order__{field_name}": value})
    if not match:
        return []
    others = (
        _decidable_by(user)
        .filter(match, tenant_id=case.tenant_id)
        .exclude(pk=case.pk)
        .select_related("order")
        .by_priority()[:MAX_GROUP]
    )
    return [
        GroupMember(
            other,
            [
                kind
                for kind, f in GROUP_FIELDS.items()
                if getattr(order, f) and getattr(other.order, f) == getattr(order, f)
            ],
        )
        for other in others
    ]


def cases_decide_together(
    case_ids: Sequence[int],
    user: User,
    *,
    value: str,
    reasons: Sequence[str],
    note: str,
) -> GroupDecision:
    """Decide each case of `case_ids` with the same value, reasons and note,
    one case at a time through `case_claim` and `case_decide`. A case the
    user may not decide in a group (`_decidable_by`: a QA case for a
    reviewer) is left alone and reported."""
    _check_decision(value, reasons, required=True)
    result = GroupDecision()
    cases = Case.objects.filter(pk__in=set(case_ids)).order_by("id")
    decidable = set(
        _decidable_by(user).filter(pk__in=set(case_ids)).values_list("pk", flat=True)
    )
    for case in cases:
        if case.pk not in decidable:
            result.refused[case.pk] = _why_not(case)
            continue
        try:
            claim = case_claim(case, user)
            case_decide(claim.pk, user, value=value, reasons=reasons, note=note)
        except DomainError as exc:
            result.refused[case.pk] = str(exc)
            continue
        result.decided.append(case.pk)
    for missing in set(case_ids) - {c.pk for c in cases}:
        result.refused[missing] = "no such case"
    return result


def _why_not(case: Case) -> str:
    if case.status == Case.Status.QA:
        return "a QA case is reviewed blind, on its own"
    if case.status == Case.Status.ESCALATED:
        return "escalated cases are for leads"
    if case.status not in Case.PENDING:
        return f"case is {case.status}"
    return "claimed by someone else"
