"""Every document of JSONTestSuite's test_parsing, sent to the order endpoints.

As a whole body, none is a valid order (the valid ones are bare values,
arrays or objects with other keys): each is refused with a 4xx, a malformed
one (n_*) with exactly 400, and nothing is stored. Spliced into an order's
attributes, a valid document is stored exactly as written or refused with a
400; a malformed one is always refused. Never a 5xx.
"""

import json
from decimal import Decimal

import pytest
from django.db import connection

from cases.models import Order
from tests.corpora import corpus_names
from tests.factories import order_payload

pytestmark = pytest.mark.slow

SUITE = "json-test-suite/test_parsing"
FILES = corpus_names(SUITE, "*.json")
ENDPOINTS = ["/api/v1/orders/", "/api/v1/orders/batch/"]


def test_json_test_suite_is_present(corpus):
    assert len(list(corpus(SUITE).glob("*.json"))) == 318


@pytest.mark.parametrize("name", FILES)
def test_json_document_is_refused_without_storing(
    name, post_bytes, assert_nothing_stored, corpus
):
    body = (corpus(SUITE) / name).read_bytes()

    responses = {path: post_bytes(path, body) for path in ENDPOINTS}

    for path, response in responses.items():
        if name.startswith("n_"):
            assert response.status_code == 400, path
        else:
            assert 400 <= response.status_code < 500, path
        assert set(response.json()) == {"message", "extra"}, path
    assert_nothing_stored()


@pytest.mark.parametrize("name", FILES)
def test_json_document_inside_attributes_is_stored_verbatim_or_refused(
    name, post_bytes, corpus
):
    document = (corpus(SUITE) / name).read_bytes()
    order = json.dumps(order_payload(attributes={"doc": None})).encode()
    body = order.replace(b'{"doc": null}', b'{"doc": ' + document + b"}")

    response = post_bytes("/api/v1/orders/", body)

    if name.startswith("n_"):
        assert response.status_code == 400
    else:
        assert response.status_code in {201, 400}
    if response.status_code == 201:
        assert _stored_attributes() == {"doc": _exact(document)}
    else:
        assert not Order.objects.exists()


def _exact(document: bytes) -> object:
    """Numbers as the exact decimals written (jsonb keeps them as numeric)."""
    return json.loads(document, parse_float=Decimal)


def _stored_attributes() -> object:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT attributes::text FROM {Order._meta.db_table}")
        (text,) = cursor.fetchone()
    return _exact(text.encode())
