"""The Big List of Naughty Strings on the workbench pages: shown as text, never
as markup. Each string sits in one order's fields, attributes, label note,
audit note and (as if a model had written it) in the reasons of its score."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils.html import escape as html_escape

from cases.models import AuditEvent, Case, Label, Order
from models_ml.models import Score
from tests.factories import BASE_TIME, ApiClientFactory

pytestmark = pytest.mark.django_db


def _storable(text: str) -> bool:
    """PostgreSQL stores no NUL and no unpaired surrogate (the API refuses them)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


@pytest.fixture(scope="module")
def strings(naughty_strings: list[str]) -> list[str]:
    return [s for s in naughty_strings if s and _storable(s)]


@pytest.fixture(scope="module")
def markup(strings: list[str]) -> list[str]:
    """Strings a browser would parse as a tag, comment or processing instruction."""
    return [s for s in strings if re.search(r"<[A-Za-z/!?]", s)]


FIELD_LENGTHS = {"customer_id": 128, "email": 254, "device_id": 128, "seller_id": 128}
# The queue's text inputs; they show back whatever was typed.
FILTER_INPUTS = ("q", "seller", "assignee", "country", "date_from", "after")


def _groups(strings: list[str], size: int) -> list[list[str]]:
    return [strings[i : i + size] for i in range(0, len(strings), size)]


@pytest.fixture
def naughty_cases(db: None, strings: list[str]) -> dict[int, list[str]]:
    """One pending case per four strings; its id → its strings.

    Each string fills one of the order's text fields (in turn) and sits in
    the attributes (as key and value), the label note, an audit note and a
    reason of the score.
    """
    client = ApiClientFactory()
    groups = _groups(strings, len(FIELD_LENGTHS))
    orders = Order.objects.bulk_create(
        Order(
            client=client,
            tenant_id=client.tenant_id,
            order_id=f"blns-{i}",
            created_at=BASE_TIME + timedelta(minutes=i),
            amount=Decimal("10.00"),
            attributes={f"a{j}": s for j, s in enumerate(group)}
            | {s[:100]: "key" for s in group},
            **{
                field: s[:n]
                for (field, n), s in zip(FIELD_LENGTHS.items(), group, strict=False)
            },
        )
        for i, group in enumerate(groups)
    )
    cases = Case.objects.bulk_create(
        Case(
            order=o,
            tenant_id=o.tenant_id,
            probability=0.5,
            priority=1.0,
            top_reason=group[0][:200],
            queue_reason=Case.QueueReason.HIGH_RISK,
        )
        for o, group in zip(orders, groups, strict=True)
    )
    Score.objects.bulk_create(
        Score(
            order=o,
            probability=0.5,
            decision=Score.Decision.REVIEW,
            base_value=-1.0,
            contributions=[
                {"feature": f"f{j}", "value": None, "contribution": 0.1, "text": s}
                for j, s in enumerate(group)
            ],
        )
        for o, group in zip(orders, groups, strict=True)
    )
    Label.objects.bulk_create(
        Label(
            order=c.order,
            case=c,
            value=Label.Value.FRAUD,
            source=Label.Source.REVIEWER,
            reasons=["other"],
            note="\n".join(group),
            known_at=BASE_TIME,
        )
        for c, group in zip(cases, groups, strict=True)
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor="user:reviewer-one",
            action="case.escalated",
            object_type="case",
            object_id=str(c.pk),
            after={"status": "escalated", "note": s},
        )
        for c, group in zip(cases, groups, strict=True)
        for s in group
    )
    return {c.pk: group for c, group in zip(cases, groups, strict=True)}


def _unescaped(html: str, strings: list[str]) -> list[str]:
    """What in `html` is markup that came from the strings, not the template."""
    found = []
    if html.lower().count("<script") != html.count('<script src="/static/'):
        found.append("<script")
    for s in strings:
        markup = [s[:n] for n in (len(s), *FIELD_LENGTHS.values(), 200, 100)]
        if any(re.search(r"<[A-Za-z/!?]", m) and m in html for m in set(markup)):
            found.append(s)
    return found


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.slow
def test_case_page_shows_naughty_strings_as_text(naughty_cases, lead):
    client, failures = _signed_in(lead), {}
    for pk, group in naughty_cases.items():
        response = client.get(f"/cases/{pk}/")
        found = _unescaped(response.content.decode(), group)
        if response.status_code != 200 or found:
            failures[pk] = (response.status_code, found)

    assert failures == {}


@pytest.mark.slow
def test_queue_page_shows_naughty_strings_as_text(
    naughty_cases, reviewer, settings, strings, markup
):
    settings.QUEUE_PAGE_SIZE = len(naughty_cases)

    response = _signed_in(reviewer).get("/queue/")

    html = response.content.decode()
    assert response.status_code == 200
    # Each row links its case twice: the case number and the order id.
    assert html.count('href="/cases/') == 2 * len(naughty_cases)
    assert all(f">{html_escape(s[:128])}</td>" in html for s in strings[3::4])
    assert _unescaped(html, markup) == []


@pytest.mark.slow
def test_queue_filter_form_shows_naughty_input_as_text(reviewer, markup):
    client, failures = _signed_in(reviewer), []
    for group in _groups(markup, len(FILTER_INPUTS)):
        response = client.get("/queue/", dict(zip(FILTER_INPUTS, group)))
        found = _unescaped(response.content.decode(), group)
        if response.status_code != 200 or found:
            failures.append(found)

    assert failures == []


def test_case_page_shows_attributes_named_like_dict_methods(make_case, reviewer):
    attributes = {"items": "attr-1", "keys": "attr-2", "values": "attr-3"}
    case = make_case(attributes=attributes)

    response = _signed_in(reviewer).get(f"/cases/{case.pk}/")

    assert response.status_code == 200
    for key, value in attributes.items():
        assert f"<dt>{key}</dt><dd>{value}</dd>" in response.content.decode()
