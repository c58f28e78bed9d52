"""List membership: which of an order's card, e-mail, device, IP, customer
and seller are on its tenant's block or allow lists.

One indexed query per order or batch, whatever the lists' size: the order's
values (and, for its IP, every network that contains it, 33 prefixes for
IPv4, 129 for IPv6) are looked up in the `list_entry_once` unique index
(tenant, value, …). A CIDR range is then as cheap as a single address, and
the same SQL runs on PostgreSQL and SQLite.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from rules.models import ListEntry

# Entity type → the order field that holds it.
ENTITY_FIELDS = {
    "card": "card_fingerprint",
    "email": "email",
    "device": "device_id",
    "ip": "ip_address",
    "customer": "customer_id",
    "seller": "seller_id",
}


def list_value(entity_type: str, value: str) -> str:
    """The stored form of a value (ValidationError if it is not one): e-mails
    in lower case, IPs and CIDR ranges as a network ("203.0.113.0/24")."""
    text = str(value).strip()
    if entity_type not in ENTITY_FIELDS:
        raise ValidationError({"entity_type": [f"Unknown entity type {entity_type}."]})
    if not text or "\x00" in text or len(text) > 255:
        raise ValidationError({"value": ["A value of 1 to 255 characters."]})
    if entity_type == "email":
        return text.lower()
    if entity_type == "ip":
        try:
            return ipaddress.ip_network(text, strict=False).with_prefixlen
        except ValueError:
            raise ValidationError(
                {"value": [f"Not an IP address or CIDR range: {text}"]}
            ) from None
    return text


def _ip_networks(address: str) -> list[str]:
    """Every network that contains `address`, narrowest first; [] if it is
    not an address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return []
    if ip.version == 4:  # integer masks: ipaddress objects cost 20 µs each
        n = int(ip)
        out = []
        for bits in range(32, -1, -1):
            net = n & (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
            out.append(
                f"{net >> 24}.{(net >> 16) & 255}.{(net >> 8) & 255}.{net & 255}/{bits}"
            )
        return out
    return [
        ipaddress.ip_network(f"{ip}/{bits}", strict=False).with_prefixlen
        for bits in range(ip.max_prefixlen, -1, -1)
    ]


def _candidates(order: Any) -> dict[str, list[str]]:
    """entity type → the stored values that would list this order."""
    found: dict[str, list[str]] = {}
    for entity_type, field in ENTITY_FIELDS.items():
        raw = getattr(order, field, None)
        if not raw:
            continue
        if entity_type == "ip":
            found[entity_type] = _ip_networks(str(raw))
        elif entity_type == "email":
            found[entity_type] = [str(raw).strip().lower()]
        else:
            found[entity_type] = [str(raw)]
    return found


def orders_listed(orders: Sequence[Any], now: Any = None) -> list[list[ListEntry]]:
    """For each order, the live list entries of its tenant that it is on
    (narrowest IP network first). One query for the whole batch."""
    now = now or timezone.now()
    candidates = [_candidates(o) for o in orders]
    values = {v for c in candidates for vs in c.values() for v in vs}
    tenants = {o.tenant_id for o in orders}
    if not values:
        return [[] for _ in orders]
    entries: dict[tuple[int, str, str], list[ListEntry]] = {}
    for entry in ListEntry.objects.live(now).filter(
        tenant_id__in=tenants, value__in=values
    ):
        entries.setdefault(
            (entry.tenant_id, entry.entity_type, entry.value), []
        ).append(entry)
    return [
        [
            entry
            for entity_type, vs in found.items()
            for v in vs
            for entry in entries.get((order.tenant_id, entity_type, v), [])
        ]
        for order, found in zip(orders, candidates, strict=True)
    ]


def listed_pairs(entries: Iterable[ListEntry]) -> list[tuple[str, str]]:
    """(kind, entity type) pairs, as rules read them (block.card, …)."""
    return [(e.kind, e.entity_type) for e in entries]


def lists_snapshot(tenant_id: int, now: Any = None) -> dict[tuple[str, str], set[str]]:
    """The tenant's live lists in memory, (kind, entity type) → values: the
    backtest's membership test for many orders (one query, then set lookups;
    an IP is checked with its prefixes, as at intake)."""
    now = now or timezone.now()
    found: dict[tuple[str, str], set[str]] = {}
    rows = ListEntry.objects.live(now).filter(tenant_id=tenant_id)
    for kind, entity_type, value in rows.values_list("kind", "entity_type", "value"):
        found.setdefault((kind, entity_type), set()).add(value)
    return found


def order_pairs(
    order: Any, snapshot: dict[tuple[str, str], set[str]]
) -> list[tuple[str, str]]:
    """The (kind, entity type) pairs `order` is on, from a `lists_snapshot`:
    the same answer `orders_listed` gives (`listed_pairs`)."""
    if not snapshot:
        return []
    pairs = []
    for entity_type, field in ENTITY_FIELDS.items():
        raw = getattr(order, field, None)
        if not raw:
            continue
        for kind in ("block", "allow"):
            listed = snapshot.get((kind, entity_type))
            if listed and _on(entity_type, str(raw), listed):
                pairs.append((kind, entity_type))
    return pairs


def _on(entity_type: str, raw: str, listed: set[str]) -> bool:
    if entity_type == "email":
        return raw.strip().lower() in listed
    if entity_type != "ip":
        return raw in listed
    return any(n in listed for n in _networks_listed(raw, frozenset(_lengths(listed))))


def _lengths(listed: set[str]) -> set[int]:
    """The prefix lengths a set of networks uses (kept per set object)."""
    key = id(listed)
    cached = _LENGTHS.get(key)
    if cached is None or cached[0] is not listed:
        cached = (listed, {int(v.rsplit("/", 1)[1]) for v in listed})
        _LENGTHS[key] = cached
    return cached[1]


_LENGTHS: dict[int, tuple[set[str], set[int]]] = {}


@lru_cache(maxsize=65536)
def _networks_listed(address: str, lengths: frozenset[int]) -> tuple[str, ...]:
    """The networks of `address` with the given prefix lengths only."""
    return tuple(
        n for n in _ip_networks(address) if int(n.rsplit("/", 1)[1]) in lengths
    )
