"""The leads' rules pages and the case page's block buttons."""

import pytest
from django.test import Client

from cases.models import AuditEvent
from rules.models import ListEntry, Rule
from tests.factories import OrderFactory
from tests.rules.test_language import nested_comprehensions

pytestmark = pytest.mark.django_db

RULE = {
    "name": "Card abroad",
    "description": "",
    "expression": "card_country != billing_country",
    "action": "review",
    "boost": "",
    "state": "draft",
    "days": "30",
}


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_rule_with_an_error_is_not_saved_and_the_page_says_where(lead):
    response = _signed_in(lead).post(
        "/rules/new/", {**RULE, "expression": "card_country != "}
    )

    assert response.status_code == 400
    assert "Line 1, column 17: Syntax error" in response.content.decode()
    assert not Rule.objects.exists()


def test_a_nested_comprehension_is_not_saved_and_the_page_says_where(lead):
    response = _signed_in(lead).post(
        "/rules/new/", {**RULE, "expression": nested_comprehensions(6)}
    )

    assert response.status_code == 400
    assert "inside another comprehension" in response.content.decode()
    assert not Rule.objects.exists()


def test_a_backtest_shows_hits_without_saving(lead):
    OrderFactory(card_country="BR", billing_country="DE")
    OrderFactory(card_country="DE", billing_country="DE")

    response = _signed_in(lead).post("/rules/new/", {**RULE, "backtest": "1"})

    assert response.status_code == 200
    assert response.context["backtest"].hits == 1
    assert not Rule.objects.exists()


def test_saving_then_enabling_makes_two_versions(lead):
    client = _signed_in(lead)
    client.post("/rules/new/", RULE)
    rule = Rule.objects.get()

    response = client.post(f"/rules/{rule.pk}/", {**RULE, "state": "active"})

    rule.refresh_from_db()
    assert response.status_code == 302
    assert (rule.state, rule.version, rule.owner) == ("active", 2, lead)


def test_reviewers_cannot_write_rules(reviewer):
    assert _signed_in(reviewer).post("/rules/new/", RULE).status_code == 403


def test_block_card_from_the_case_page(reviewer, make_case):
    case = make_case(card_fingerprint="fp-burst")
    client = _signed_in(reviewer)

    first = client.post(f"/cases/{case.pk}/block/", {"entity_type": "card"})
    again = client.post(f"/cases/{case.pk}/block/", {"entity_type": "card"})

    assert first.status_code == again.status_code == 302
    entry = ListEntry.objects.get()
    assert (entry.kind, entry.entity_type, entry.value) == ("block", "card", "fp-burst")
    assert entry.added_by == "user:reviewer-one"
    assert AuditEvent.objects.filter(action="list.added").count() == 1


def test_the_case_page_names_the_rules_that_matched(reviewer, make_case):
    from models_ml.models import Score

    case = make_case()
    Score.objects.create(
        order=case.order,
        probability=0.2,
        decision="review",
        model_decision="approve",
        rule_hits=[
            {
                "kind": "rule",
                "action": "review",
                "id": 1,
                "name": "Card abroad",
                "text": "Rule 'Card abroad' matched",
                "decided": True,
            }
        ],
    )

    page = _signed_in(reviewer).get(f"/cases/{case.pk}/").content.decode()

    assert "Rule &#x27;Card abroad&#x27; matched → review (decided)" in page
    assert 'data-shortcut="B"' in page


def test_a_group_decision_from_the_case_page(reviewer, make_case, settings):
    settings.QA_SHARE = 0
    case = make_case(card_fingerprint="fp-burst")
    other = make_case(card_fingerprint="fp-burst")
    client = _signed_in(reviewer)

    page = client.get(f"/cases/{case.pk}/").content.decode()
    response = client.post(
        f"/cases/{case.pk}/group/",
        {"cases": [case.pk, other.pk], "value": "fraud", "reasons": ["other"]},
    )

    assert 'id="group-form"' in page
    assert response.status_code == 302
    assert {
        c.status for c in type(case).objects.filter(pk__in=[case.pk, other.pk])
    } == {"decided"}


@pytest.mark.parametrize("entity_type", ["seller", "customer"])
def test_a_reviewer_cannot_block_a_whole_seller_or_customer(
    reviewer, make_case, entity_type
):
    case = make_case(seller_id="seller-big", customer_id="cust-1")

    response = _signed_in(reviewer).post(
        f"/cases/{case.pk}/block/", {"entity_type": entity_type}
    )

    assert response.status_code == 403
    assert f"Only a lead may put a whole {entity_type}" in response.content.decode()
    assert not ListEntry.objects.exists()


def test_a_lead_may_block_the_seller_from_the_case_page(lead, make_case):
    case = make_case(seller_id="seller-big")

    response = _signed_in(lead).post(
        f"/cases/{case.pk}/block/", {"entity_type": "seller"}
    )

    assert response.status_code == 302
    entry = ListEntry.objects.get()
    assert (entry.entity_type, entry.value) == ("seller", "seller-big")


@pytest.mark.parametrize("entity_type", ["", "colour", "\x00", "card\n", "²"])
def test_an_unknown_entity_type_is_a_400_with_a_message(
    reviewer, make_case, entity_type
):
    case = make_case()

    response = _signed_in(reviewer).post(
        f"/cases/{case.pk}/block/", {"entity_type": entity_type}
    )

    assert response.status_code == 400
    assert "One of card, email, device, ip." in response.content.decode()
    assert not ListEntry.objects.exists()


def test_a_reviewer_cannot_decide_a_linked_qa_case_from_the_group_form(
    reviewer, make_case, settings
):
    settings.QA_SHARE = 0
    case = make_case(card_fingerprint="fp-burst")
    qa = make_case(card_fingerprint="fp-burst", status="qa")
    client = _signed_in(reviewer)

    page = client.get(f"/cases/{case.pk}/").content.decode()
    client.post(
        f"/cases/{case.pk}/group/",
        {"cases": [qa.pk], "value": "legitimate", "reasons": ["other"]},
    )

    qa.refresh_from_db()
    assert f'aria-label="case {qa.pk}"' not in page
    assert (qa.status, qa.labels.count()) == ("qa", 0)


@pytest.mark.parametrize(
    "url", ["/rules/{n}/", "/cases/{n}/block/", "/cases/{n}/group/"]
)
def test_an_id_beyond_any_column_is_a_404(lead, url):
    client = _signed_in(lead)
    path = url.format(n="9" * 30)

    response = client.get(path) if url == "/rules/{n}/" else client.post(path)

    assert response.status_code == 404
