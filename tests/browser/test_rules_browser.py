"""Rules, lists and group decisions in a real browser: a lead writes a rule
with an error, backtests it and enables it; a reviewer blocks a card with
Shift+B; a group of cases sharing a card is decided at once on a phone."""

import re

import pytest
from playwright.sync_api import Page, expect

from cases.models import Case, Label
from cases.services.clients import api_client_create
from cases.services.intake import orders_ingest
from cases.services.users import user_create
from rules.models import ListEntry, Rule
from tests.browser.test_workbench import ORDERS, PASSWORD, _payload
from tests.browser.test_workbench import _sign_in as sign_in
from tests.factories import TenantFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def cases(active_version, settings) -> list[Case]:
    settings.RISK_REVIEW_THRESHOLD = 0.0
    settings.RISK_DECLINE_THRESHOLD = 1.0
    settings.QA_SHARE = 0
    client, _token = api_client_create("shop", tenant=TenantFactory())
    payloads = [_payload(i, spec) for i, spec in enumerate(ORDERS)]
    return [r.case for r in orders_ingest(client, payloads, explain_all=False)]


def _sign_in(page: Page, role: str) -> None:
    user_create(f"{role}-b", PASSWORD, role, tenant=TenantFactory())
    sign_in(page, f"{role}-b")


def _width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("device", ["page", "phone"])
def test_lead_writes_a_rule_with_an_error_backtests_and_enables_it(
    device, cases, request, screenshots
):
    page: Page = request.getfixturevalue(device)
    _sign_in(page, "lead")
    page.goto("/rules/new/")
    page.fill("#id_name", "Big and shipped abroad")
    page.fill("#id_expression", "amount > 500.0 && shipping_country != ")
    page.click("#save-button")

    expect(page.locator("#errors-expression")).to_contain_text(
        re.compile(r"Line 1, column \d+: Syntax error")
    )
    assert not Rule.objects.exists()

    page.fill("#id_expression", "amount > 500.0 && shipping_country != billing_country")
    page.click("#backtest-button")
    expect(page.locator("#backtest-hits")).to_have_text("4")
    if device == "phone":
        assert _width(page) <= 390
    page.screenshot(path=screenshots / f"rule-backtest-{device}.png", full_page=True)

    page.click("#save-button")
    expect(page.locator(".messages")).to_contain_text("saved (v1)")
    page.select_option("#id_state", "active")
    page.click("#save-button")
    expect(page.locator(".messages")).to_contain_text("saved (v2)")

    rule = Rule.objects.get()
    assert (rule.state, rule.version) == ("active", 2)


def test_reviewer_blocks_the_cards_of_a_case_with_shift_b(page: Page, cases):
    _sign_in(page, "reviewer")
    case = next(c for c in cases if c.order.card_fingerprint == "fp-777")
    page.goto(f"/cases/{case.pk}/")

    page.keyboard.press("Shift+B")

    expect(page.locator(".messages")).to_contain_text("fp-777 is on the block list")
    entry = ListEntry.objects.get()
    assert (entry.kind, entry.entity_type, entry.value) == ("block", "card", "fp-777")


@pytest.mark.parametrize("device", ["page", "phone"])
def test_reviewer_decides_the_cases_sharing_a_card_together(
    device, cases, request, screenshots
):
    page: Page = request.getfixturevalue(device)
    _sign_in(page, "reviewer")
    # Sharing the card fp-123 or the device dev-abc with the first order.
    burst = [
        c
        for c in cases
        if c.order.card_fingerprint == "fp-123" or c.order.device_id == "dev-abc"
    ]
    page.goto(f"/cases/{burst[0].pk}/")

    expect(page.locator("#group tbody tr")).to_have_count(len(burst))
    if device == "phone":
        assert _width(page) <= 390
    page.screenshot(path=screenshots / f"group-{device}.png", full_page=True)
    page.locator('#group-form input[name="reasons"]').first.check()
    page.fill("#group-note", "card testing burst")
    page.click("#group-decide")

    expect(page.locator(".messages")).to_contain_text(f"{len(burst)} case(s) decided")
    labels = Label.objects.filter(case__in=burst, note="card testing burst")
    assert labels.count() == len(burst)
