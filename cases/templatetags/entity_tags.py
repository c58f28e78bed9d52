"""Links to entity pages, so every id on a page leads somewhere."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from cases.models import Order
from cases.selectors_entities import ENTITY_KINDS, KIND_OF_FIELD

register = template.Library()


@register.simple_tag
def entity_url(client_id: int, kind: str, value: str) -> str:
    path = reverse("cases:entity", args=[client_id, kind])
    return f"{path}?{urlencode({'value': value})}"


@register.simple_tag
def entity_link(order: Order, field_name: str) -> SafeString | str:
    """The order's value for `field_name` as a link to its entity page."""
    value = getattr(order, field_name)
    if not value:
        return ""
    url = entity_url(order.client_id, KIND_OF_FIELD[field_name], value)
    return format_html('<a href="{}" class="entity">{}</a>', url, value)


@register.filter
def field_of(order: Order, kind: str) -> str:
    """The order's value for an entity kind ("card" → its card fingerprint)."""
    return str(getattr(order, ENTITY_KINDS[kind][0]))
