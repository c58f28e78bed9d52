"""The Big List of Naughty Strings in every text field a client can send.

Each string is either refused with a 400 that names the field, or stored
exactly as sent: never a 5xx, never a silently changed value. Orders go
through the batch endpoint, many to a request: one request shows which
strings a field refuses (the 400 names every `orders.<i>.<field>`), the
next stores all the others.
"""

import json

import pytest

from cases.models import Label, Order
from tests.factories import order_payload

pytestmark = pytest.mark.slow

BATCH = "/api/v1/orders/batch/"

TEXT_FIELDS = [
    "order_id",
    "customer_id",
    "email",
    "device_id",
    "card_fingerprint",
    "seller_id",
    "billing_postcode",
    "shipping_postcode",
    "currency",
    "card_country",
    "billing_country",
    "shipping_country",
    "card_bin",
    "channel",
]
# How each field carries the string into an order, and how to read it back.
PLACEMENTS = {
    **{field: (field, lambda s: s) for field in TEXT_FIELDS},
    "attribute value": ("attributes", lambda s: {"note": s}),
    "attribute key": ("attributes", lambda s: {s: "note"}),
}


def _json(data: object) -> bytes:
    # ASCII escapes: the body carries every string, whatever it holds.
    return json.dumps(data).encode()


def _orders(field: str, wrap, strings: dict[int, str]) -> list[dict]:
    if field == "order_id":
        return [order_payload(order_id=s) for s in strings.values()]
    return [
        order_payload(order_id=f"blns-{i}", **{field: wrap(s)})
        for i, s in strings.items()
    ]


def _refused_indexes(response, field: str) -> set[int]:
    assert response.status_code == 400, response.content
    named = response.json()["extra"]["fields"]
    indexes = set()
    for path in named:
        prefix, index, name, *_rest = path.split(".")
        assert (prefix, name) == ("orders", field), path
        indexes.add(int(index))
    return indexes


def test_naughty_strings_are_present(naughty_strings):
    assert len(naughty_strings) > 500


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_naughty_string_is_stored_verbatim_or_refused(
    placement, post_bytes, naughty_strings
):
    field, wrap = PLACEMENTS[placement]
    strings = dict(enumerate(naughty_strings))

    first = post_bytes(BATCH, _json({"orders": _orders(field, wrap, strings)}))
    refused = set() if first.status_code == 200 else _refused_indexes(first, field)
    accepted = {i: s for i, s in strings.items() if i not in refused}
    if refused:
        assert not Order.objects.exists()
    if accepted:
        orders = _orders(field, wrap, accepted)
        second = post_bytes(BATCH, _json({"orders": orders}))
        assert second.status_code == 200, second.content
        stored = dict(Order.objects.values_list("order_id", field))
        assert stored == {o["order_id"]: o[field] for o in orders}


def test_naughty_string_in_outcome_note_is_stored_verbatim_or_refused(
    api, client_and_token, naughty_strings
):
    client, _token = client_and_token
    orders = Order.objects.bulk_create(
        Order(
            client=client,
            tenant_id=client.tenant_id,
            order_id=f"blns-{i}",
            created_at="2026-03-02T12:00:00Z",
            amount="10.00",
            customer_id="c",
        )
        for i in range(len(naughty_strings))
    )

    for order, note in zip(orders, naughty_strings, strict=True):
        response = api.generic(
            "POST",
            f"/api/v1/orders/{order.order_id}/outcomes/",
            _json({"outcome": "chargeback", "note": note}),
            content_type="application/json",
        )

        if response.status_code == 201:
            assert Label.objects.get(order=order).note == note
        else:
            assert response.status_code == 400, (note, response.content)
            assert list(response.json()["extra"]["fields"]) == ["note"]
            assert not Label.objects.filter(order=order).exists()
