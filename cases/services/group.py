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
from django.db.models import Q

from cases.exceptions import DomainError
from cases.models import Case
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


def case_group(case: Case) -> list[GroupMember]:
    """The tenant's other pending cases whose order shares a card, device, IP,
    e-mail or customer with this case's order (at most MAX_GROUP, by
    priority), with what they share."""
    order = case.order
    match = Q()
    for field_name in GROUP_FIELDS.values():
        value = getattr(order, field_name)
        if value:
            match |= Q(**{f"order__{field_name}": value})
    if not match:
        return []
    others = (
        Case.objects.pending()
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
    one case at a time through `case_claim` and `case_decide`."""
    _check_decision(value, reasons, required=True)
    result = GroupDecision()
    cases = Case.objects.filter(pk__in=set(case_ids)).order_by("id")
    for case in cases:
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
