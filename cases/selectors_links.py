"""Linked orders on the case page, grouped by what they share with the case's
order, strongest links first; weak, crowded links (a big seller) fold into one
line."""

from __future__ import annotations

from dataclasses import dataclass, field

from cases.models import Label, Order
from cases.selectors_entities import (
    ENTITY_KINDS,
    entity_orders,
    orders_cases,
    orders_labels,
)
from models_ml.models import Score

# How much sharing each entity says about two orders being the same person.
LINK_WEIGHTS = {
    "customer": 5,
    "card": 5,
    "email": 4,
    "device": 4,
    "ip": 2,
    "seller": 1,
}
# A group this weak or weaker is noise: shown as a count with a link.
NOISE_WEIGHT = 1
SCAN_PER_ENTITY = 25


@dataclass
class LinkedRow:
    order: Order
    case_id: int | None
    case_status: str
    probability: float | None
    label: str


@dataclass
class LinkGroup:
    kinds: tuple[str, ...]
    nouns: list[str]
    strength: int
    rows: list[LinkedRow] = field(default_factory=list)

    @property
    def noise(self) -> bool:
        return self.strength <= NOISE_WEIGHT

    @property
    def fraud(self) -> int:
        return sum(r.label == Label.Value.FRAUD for r in self.rows)


def linked_order_groups(order: Order) -> list[LinkGroup]:
    """Orders of the same tenant sharing an entity with `order`: the latest
    SCAN_PER_ENTITY per entity (one index range each), grouped by the exact
    set of entities they share and sorted by the summed LINK_WEIGHTS."""
    shared: dict[int, list[str]] = {}
    found: dict[int, Order] = {}
    for kind, (field_name, _noun) in ENTITY_KINDS.items():
        value = getattr(order, field_name)
        if not value:
            continue
        others = (
            entity_orders(order.tenant_id, kind, value)
            .exclude(pk=order.pk)
            .order_by("-created_at")[:SCAN_PER_ENTITY]
        )
        for other in others:
            found[other.pk] = other
            shared.setdefault(other.pk, []).append(kind)
    labels, _chargebacks = orders_labels(list(found))
    cases = orders_cases(list(found))
    groups: dict[tuple[str, ...], LinkGroup] = {}
    for pk, kinds in shared.items():
        key = tuple(kinds)
        if key not in groups:
            nouns = [ENTITY_KINDS[k][1] for k in key]
            strength = sum(LINK_WEIGHTS[k] for k in key)
            groups[key] = LinkGroup(key, nouns, strength)
        case_id, status, probability = cases.get(pk, (None, "", None))
        groups[key].rows.append(
            LinkedRow(found[pk], case_id, status, probability, labels.get(pk, ""))
        )
    for group in groups.values():
        group.rows.sort(key=lambda r: r.order.created_at, reverse=True)
    return sorted(groups.values(), key=lambda g: (-g.strength, -len(g.rows)))


def score_risk_cause(score: Score | None) -> str:
    """ "Risk raised by the fraud decision on order X" for a score a linked
    fraud label caused and that scored higher than the one before; else ""."""
    if score is None or score.cause_label_id is None:
        return ""
    previous = (
        Score.objects.filter(order_id=score.order_id, id__lt=score.pk)
        .order_by("-id")
        .values_list("probability", flat=True)
        .first()
    )
    if (score.probability or 0) <= (previous or 0):
        return ""
    label = Label.objects.select_related("order").get(pk=score.cause_label_id)
    what = (
        "fraud decision"
        if label.source == Label.Source.REVIEWER
        else f"{label.get_source_display().lower()}"
    )
    was = "no score" if previous is None else f"{previous:.0%}"
    return (
        f"Risk raised by the {what} on order {label.order.order_id} "
        f"({was} → {score.probability or 0:.0%})"
    )
