"""The queue says how many cases match, how old orders and cases are, and what
priority means; order ids lead to their cases."""

import re

import pytest
from django.test import Client

import cases.selectors_queue as selectors_queue
from cases.selectors_queue import queue_count
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def _queue(user, **params) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/queue/", params).content.decode()


def test_count_is_exact_below_the_threshold(make_case, reviewer):
    for _ in range(3):
        make_case()
    make_case(status="decided")

    assert queue_count({}, TenantFactory()) == selectors_queue.QueueCount(3, exact=True)
    assert "3 cases" in _queue(reviewer)


def test_count_beyond_the_threshold_is_an_estimate_and_says_so(
    make_case, reviewer, monkeypatch
):
    monkeypatch.setattr(selectors_queue, "EXACT_UP_TO", 2)
    for _ in range(4):
        make_case()

    count = queue_count({}, TenantFactory())

    assert not count.exact and count.value >= 3
    html = _queue(reviewer)
    assert "(estimated)" in html and "More than 2 cases match" in html


def test_count_follows_the_filters(make_case):
    make_case(seller_id="seller-x")
    make_case(seller_id="seller-y")
    assert queue_count({"seller": "seller-x"}, TenantFactory()).value == 1


def test_order_id_links_to_its_case(make_case, reviewer):
    case = make_case(order_id="web-77")
    html = _queue(reviewer)
    assert re.search(rf'<a href="/cases/{case.pk}/">web-77</a>', html)


def test_order_age_and_case_age_are_separate_columns(make_case, reviewer):
    make_case()
    html = _queue(reviewer)
    assert ">Order age</th>" in html and ">In queue</th>" in html


def test_priority_is_explained_with_its_currency(make_case, reviewer):
    make_case(currency="USD", priority=12.5)
    html = _queue(reviewer)
    assert "probability × order amount" in html
    assert "12.50 USD" in html
