"""Entity pages: one per customer, card, device, IP, email and seller."""

import pytest
from django.test import Client
from django.utils.http import urlencode

from cases.selectors_entities import ENTITY_KINDS
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

KINDS = {kind: field for kind, (field, _noun) in ENTITY_KINDS.items()}


def _get(user, client_id: int, kind: str, value: str):
    client = Client()
    client.force_login(user)
    return client.get(f"/entities/{client_id}/{kind}/?{urlencode({'value': value})}")


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_page(kind, reviewer):
    order = OrderFactory()
    response = _get(reviewer, order.client_id, kind, getattr(order, KINDS[kind]))
    assert response.status_code == 200
    assert order.order_id in response.content.decode()


def test_unknown_kind_is_404(reviewer):
    order = OrderFactory()
    assert _get(reviewer, order.client_id, "phone", "x").status_code == 404


def test_entity_of_another_client_is_404(reviewer):
    order = OrderFactory()
    other = OrderFactory()
    response = _get(reviewer, other.client_id, "customer", order.customer_id + "-x")
    assert response.status_code == 404


def test_a_bad_cursor_shows_the_first_page(reviewer):
    order = OrderFactory()
    client = Client()
    client.force_login(reviewer)
    url = f"/entities/{order.client_id}/customer/"
    response = client.get(url, {"value": order.customer_id, "before": "x_1"})
    assert response.status_code == 200


@pytest.mark.slow
def test_entity_page_shows_naughty_values_as_text(reviewer, naughty_strings):
    client = OrderFactory().client
    failures = []
    for i, s in enumerate(naughty_strings[:300]):
        value = s[:128]
        if not value:
            continue
        OrderFactory(client=client, order_id=f"n-{i}", customer_id=value)
        response = _get(reviewer, client.pk, "customer", value)
        html = response.content.decode()
        if response.status_code != 200 or ("<" in value and value in html):
            failures.append((response.status_code, value))
    assert failures == []
