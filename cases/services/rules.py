"""Writing rules and list entries: every change versioned and audited.

The rules themselves, the lists' lookup and how they decide an order are the
`rules` app's; this is the review side's write path over it, because the
audit trail lives here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import Order
from cases.services.audit import audit_record
from rules.engine import active_rules_forget
from rules.language import rule_compile
from rules.lists import ENTITY_FIELDS, list_value
from rules.models import ListEntry, Rule, RuleVersion

_VERSIONED = ("name", "description", "expression", "action", "boost", "state")


def _snapshot(rule: Rule) -> dict[str, Any]:
    return {f: getattr(rule, f) for f in _VERSIONED}


def _check(rule: Rule) -> None:
    if not rule.name.strip():
        raise ValidationError({"name": ["A rule needs a name."]})
    if rule.action not in Rule.Action.values:
        raise ValidationError({"action": [f"Unknown action {rule.action}."]})
    if rule.state not in Rule.State.values:
        raise ValidationError({"state": [f"Unknown state {rule.state}."]})
    if rule.action == Rule.Action.BOOST and not rule.boost > 0:
        raise ValidationError({"boost": ["A boost rule needs a boost above 0."]})
    if rule.action != Rule.Action.BOOST:
        rule.boost = 0.0
    rule_compile(rule.expression)


def _version(rule: Rule, actor: str) -> None:
    RuleVersion.objects.create(
        rule=rule, number=rule.version, changed_by=actor, **_snapshot(rule)
    )


def rule_create(
    tenant_id: int,
    *,
    actor: str,
    owner: User | None,
    name: str,
    expression: str,
    action: str,
    description: str = "",
    boost: float = 0.0,
    state: str = Rule.State.DRAFT,
) -> Rule:
    """A new rule (a draft unless told), version 1, audited. ValidationError
    with the position when the expression does not compile or check."""
    rule = Rule(
        tenant_id=tenant_id,
        owner=owner,
        name=name.strip(),
        description=description,
        expression=expression,
        action=action,
        boost=boost,
        state=state,
    )
    _check(rule)
    try:
        with transaction.atomic():
            rule.save()
            _version(rule, actor)
            audit_record(actor, "rule.created", rule, after=_snapshot(rule))
            transaction.on_commit(lambda: active_rules_forget(rule.tenant_id))
    except IntegrityError:
        raise ValidationError({"name": ["A rule of that name exists."]}) from None
    return rule


def rule_update(rule_id: int, *, actor: str, **changes: Any) -> Rule:
    """Change a rule (fields of `_VERSIONED`): a new version, audited with
    before and after. Nothing changes (no version) when nothing differs."""
    unknown = set(changes) - set(_VERSIONED)
    if unknown:
        raise ValueError(f"not rule fields: {sorted(unknown)}")
    try:
        with transaction.atomic():
            rule = Rule.objects.select_for_update().get(pk=rule_id)
            before = _snapshot(rule)
            for field, value in changes.items():
                setattr(rule, field, value)
            _check(rule)
            if _snapshot(rule) == before:
                return rule
            rule.version += 1
            rule.save()
            _version(rule, actor)
            audit_record(
                actor, "rule.changed", rule, before=before, after=_snapshot(rule)
            )
            transaction.on_commit(lambda: active_rules_forget(rule.tenant_id))
    except IntegrityError:
        raise ValidationError({"name": ["A rule of that name exists."]}) from None
    return rule


def list_entry_add(
    tenant_id: int,
    *,
    kind: str,
    entity_type: str,
    value: str,
    actor: str,
    reason: str = "",
    expires_at: datetime | None = None,
) -> tuple[ListEntry, bool]:
    """Put a value on the tenant's block or allow list; (entry, created).

    Idempotent: a value already on that list is returned as it is (its reason
    and expiry kept). Audited."""
    if kind not in ListEntry.Kind.values:
        raise ValidationError({"kind": [f"Unknown list {kind}."]})
    stored = list_value(entity_type, value)
    for _attempt in range(2):
        existing = ListEntry.objects.filter(
            tenant_id=tenant_id, kind=kind, entity_type=entity_type, value=stored
        ).first()
        if (
            existing is not None
            and existing.expires_at is not None
            and (existing.expires_at <= timezone.now())
        ):
            # Expired: put it back on the list, as a new entry would be.
            with transaction.atomic():
                existing.expires_at, existing.reason = expires_at, reason[:1000]
                existing.added_by = actor
                existing.save(update_fields=["expires_at", "reason", "added_by"])
                audit_record(actor, "list.added", existing, after=_entry_dict(existing))
            return existing, True
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                entry = ListEntry.objects.create(
                    tenant_id=tenant_id,
                    kind=kind,
                    entity_type=entity_type,
                    value=stored,
                    reason=reason[:1000],
                    expires_at=expires_at,
                    added_by=actor,
                )
                audit_record(actor, "list.added", entry, after=_entry_dict(entry))
            return entry, True
        except IntegrityError:
            continue  # added concurrently: the next attempt finds it
    raise RuntimeError("list entry kept colliding")


def list_entry_remove(entry: ListEntry, *, actor: str) -> None:
    with transaction.atomic():
        audit_record(actor, "list.removed", entry, before=_entry_dict(entry))
        entry.delete()


# What a reviewer may block from a case: the order's own traces. A customer
# or a seller is a whole account (every order of it declined): leads only.
REVIEWER_BLOCKS = ("card", "email", "device", "ip")


def order_entity_block(
    order: Order, entity_type: str, *, actor: str, reason: str = "", lead: bool = False
) -> tuple[ListEntry, bool]:
    """Block the order's card, e-mail, device or IP (the case page's "block
    this card"); its customer or seller too if `lead`. PermissionDenied for
    a customer or seller otherwise, ValidationError for anything else."""
    field = ENTITY_FIELDS.get(entity_type)
    if field is None:
        raise ValidationError(
            {"entity_type": [f"One of {', '.join(REVIEWER_BLOCKS)}."]}
        )
    if entity_type not in REVIEWER_BLOCKS and not lead:
        raise PermissionDenied(
            f"Only a lead may put a whole {entity_type} on the block list."
        )
    value = getattr(order, field)
    if not value:
        raise ValidationError({"entity_type": [f"This order has no {entity_type}."]})
    why = reason or f"blocked from order {order.order_id}"
    return list_entry_add(
        order.tenant_id,
        kind=ListEntry.Kind.BLOCK,
        entity_type=entity_type,
        value=str(value),
        actor=actor,
        reason=why,
    )


def _entry_dict(entry: ListEntry) -> dict[str, Any]:
    return {
        "kind": entry.kind,
        "entity_type": entry.entity_type,
        "value": entry.value,
        "reason": entry.reason,
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
    }
