"""How lists, rules and the model decide an order together: one definition.

For each order, in this order of precedence:

1. **allow**: the order's card, e-mail, device, IP, customer or seller is on
   the tenant's allow list, or an active `allow` rule matches → approve;
2. **block**: a value is on the block list, or a `decline` rule matches →
   decline;
3. **the model**: the decision policy's reading of the score (review when
   there is no model);
4. **review rules**: an order the model approves is reviewed when a `review`
   rule matches;
5. **boosts**: every matching `boost` rule adds its amount to the priority of
   the order's case.

All active rules are evaluated on every order (their hits are kept on the
Score, deciding or not, for the case page and the backtest's overlap); a rule
that fails on an order is skipped for that order, logged and counted on the
rule (`run_errors`). Intake, re-scoring and the replay reach this through
`cases.services.scoring.orders_decide`; the backtest evaluates the same
rules with `rule_evaluate` on the same contexts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import F

from models_ml.models import Score
from rules.language import (
    ORDER_VARIABLES,
    Compiled,
    RuleRuntimeError,
    cel_context,
    order_context,
    rule_compile,
    rule_execute,
)
from rules.lists import listed_pairs, orders_listed
from rules.models import ListEntry, Rule

log = logging.getLogger(__name__)

ORDER_NAMES = frozenset(ORDER_VARIABLES)
_ACTION_ORDER = {"allow": 0, "decline": 1, "review": 2, "boost": 3}


@dataclass(frozen=True)
class ActiveRule:
    id: int
    version: int
    name: str
    action: str
    boost: float
    compiled: Compiled


_cache: dict[int, tuple[float, list[ActiveRule]]] = {}
_cache_lock = threading.Lock()


def active_rules(tenant_ids: Iterable[int]) -> dict[int, list[ActiveRule]]:
    """Each tenant's active rules, compiled (cached by expression), in order
    of precedence; re-read at most every RULES_REFRESH_SECONDS (one query for
    all the tenants due). A rule that no longer compiles is logged and left
    out."""
    now = time.monotonic()
    wanted = set(tenant_ids)
    with _cache_lock:
        cached = {t: _cache[t] for t in wanted if t in _cache}
    fresh = {
        t: rules
        for t, (at, rules) in cached.items()
        if now - at < settings.RULES_REFRESH_SECONDS
    }
    due = wanted - fresh.keys()
    if due:
        read = _active_rules_read(due)
        with _cache_lock:
            for tenant_id in due:
                _cache[tenant_id] = (now, read.get(tenant_id, []))
        fresh.update(read)
    return {t: rules for t, rules in fresh.items() if rules}


def active_rules_forget(tenant_id: int | None = None) -> None:
    """Read the rules again at the next intake (after a change in this
    process; other processes see it within RULES_REFRESH_SECONDS)."""
    with _cache_lock:
        if tenant_id is None:
            _cache.clear()
        else:
            _cache.pop(tenant_id, None)


def _active_rules_read(tenant_ids: set[int]) -> dict[int, list[ActiveRule]]:
    rows = Rule.objects.filter(
        tenant_id__in=tenant_ids, state=Rule.State.ACTIVE
    ).values_list("tenant_id", "id", "version", "name", "action", "boost", "expression")
    found: dict[int, list[ActiveRule]] = {}
    for tenant_id, pk, version, name, action, boost, expression in rows:
        try:
            compiled = rule_compile(expression)
        except Exception:
            log.exception("rule %s no longer compiles; skipped", pk)
            continue
        found.setdefault(tenant_id, []).append(
            ActiveRule(pk, version, name, action, boost, compiled)
        )
    for rules in found.values():
        rules.sort(key=lambda r: (_ACTION_ORDER[r.action], r.id))
    return found


def rule_hit(rule: ActiveRule) -> dict[str, Any]:
    return {
        "kind": "rule",
        "action": rule.action,
        "id": rule.id,
        "version": rule.version,
        "name": rule.name,
        "boost": rule.boost if rule.action == Rule.Action.BOOST else 0.0,
        "text": f"Rule '{rule.name}' matched",
        "decided": False,
    }


def list_hit(entry: ListEntry) -> dict[str, Any]:
    label = dict(ListEntry.EntityType.choices)[entry.entity_type]
    label = "IP" if entry.entity_type == "ip" else label.capitalize()
    text = (
        f"{label} on {entry.kind} list since {entry.created_at:%Y-%m-%d %H:%M} UTC, "
        f"by {entry.added_by}"
    )
    if entry.entity_type == "ip":
        text += f" ({entry.value})"
    if entry.reason:
        text += f": {entry.reason[:120]}"
    return {
        "kind": "list",
        "action": "allow" if entry.kind == ListEntry.Kind.ALLOW else "decline",
        "id": entry.pk,
        "list": entry.kind,
        "entity_type": entry.entity_type,
        "value": entry.value,
        "text": text,
        "decided": False,
    }


def decision_combine(model_decision: str, hits: list[dict[str, Any]]) -> str:
    """The decision for the model's decision and the hits (precedence above);
    marks the hits that decided it."""
    by_action: dict[str, list[dict[str, Any]]] = {}
    for hit in hits:
        by_action.setdefault(hit["action"], []).append(hit)
    decision: str
    if "allow" in by_action:
        deciders, decision = by_action["allow"], Score.Decision.APPROVE
    elif "decline" in by_action:
        deciders, decision = by_action["decline"], Score.Decision.DECLINE
    elif model_decision == Score.Decision.APPROVE and "review" in by_action:
        deciders, decision = by_action["review"], Score.Decision.REVIEW
    else:
        deciders, decision = [], model_decision
    for hit in deciders:
        hit["decided"] = True
    return decision


def hits_boost(hits: Iterable[dict[str, Any]]) -> float:
    """What boost rules add to the priority of the order's case."""
    return sum(float(h.get("boost") or 0.0) for h in hits if h["action"] == "boost")


def scores_rules_apply(scores: Sequence[Score]) -> None:
    """Decide `scores` (unsaved, decided by the model) with their tenants'
    lists and active rules, in place: `model_decision` keeps the model's,
    `decision` becomes the combined one, `rule_hits` names every rule and
    list entry that matched. One query for the rules, one for the lists."""
    if not scores:
        return
    orders = [s.order for s in scores]
    rules = active_rules({o.tenant_id for o in orders})
    listed = orders_listed(orders)
    errors: Counter[int] = Counter()
    last_error: dict[int, str] = {}
    for score, order, entries in zip(scores, orders, listed, strict=True):
        own = rules.get(order.tenant_id, [])
        hits = [list_hit(e) for e in _one_per_type(entries)]
        if own:
            wanted = set().union(*(r.compiled.variables for r in own))
            context = cel_context(
                order_context(
                    {
                        n: getattr(order, n, None)
                        for n in wanted
                        if n in ORDER_VARIABLES
                    },
                    score.features,
                    score.probability,
                    listed_pairs(entries),
                    wanted,
                )
            )
            for rule in own:
                try:
                    if rule_execute(rule.compiled, context):
                        hits.append(rule_hit(rule))
                except RuleRuntimeError as exc:
                    errors[rule.id] += 1
                    last_error[rule.id] = f"order {order.order_id}: {exc}"
        score.model_decision = score.decision
        score.decision = decision_combine(score.decision, hits)
        score.rule_hits = hits
    if errors:
        rule_errors_record(errors, last_error)


def _one_per_type(entries: list[ListEntry]) -> list[ListEntry]:
    """The narrowest entry per (list, entity type): an IP inside two blocked
    ranges is named once."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for entry in entries:
        if (entry.kind, entry.entity_type) not in seen:
            seen.add((entry.kind, entry.entity_type))
            kept.append(entry)
    return kept


def rule_errors_record(errors: Counter[int], last_error: dict[int, str]) -> None:
    """Count run-time failures on their rules (and log them); intake goes on."""
    for rule_id, count in errors.items():
        log.warning(
            "rule %s failed on %d order(s), skipped: %s",
            rule_id,
            count,
            last_error[rule_id],
        )
        Rule.objects.filter(pk=rule_id).update(
            run_errors=F("run_errors") + count, last_error=last_error[rule_id][:1000]
        )
