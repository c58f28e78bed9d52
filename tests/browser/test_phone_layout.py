"""The queue and the case page at a phone's width (390 px): nothing wider than
the screen, filters folded away, and a case decided with the on-screen buttons."""

import re

import pytest
from playwright.sync_api import Page, expect

from cases.models import Case, Label
from cases.services.clients import api_client_create
from cases.services.intake import orders_ingest
from cases.services.users import user_create
from tests.browser.test_workbench import (
    CASE_URL,
    ORDERS,
    PASSWORD,
    _payload,
    _sign_in,
)
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


def _page_width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_reviewer_decides_a_case_on_a_phone(phone: Page, cases, screenshots):
    user_create("phone-reviewer", PASSWORD, "reviewer", tenant=TenantFactory())
    _sign_in(phone, "phone-reviewer")

    expect(phone.locator("table.queue tbody tr")).to_have_count(len(cases))
    assert _page_width(phone) <= 390
    expect(phone.locator('input[name="q"]')).to_be_hidden()  # filters folded
    phone.screenshot(path=screenshots / "queue-phone.png", full_page=True)

    phone.get_by_role("button", name=re.compile("Next case")).tap()
    expect(phone).to_have_url(CASE_URL)
    case_id = int(CASE_URL.search(phone.url).group(1))
    expect(phone.locator("p.score")).to_be_in_viewport()
    assert _page_width(phone) <= 390
    phone.screenshot(path=screenshots / "case-phone.png", full_page=True)

    phone.locator('input[name="reasons"]').first.tap()
    phone.locator('button[data-decision="fraud"]').tap()
    phone.wait_for_url(lambda url: f"/cases/{case_id}/" not in url)

    assert Label.objects.get(case_id=case_id).value == "fraud"


def test_filters_in_use_stay_open_on_a_phone(phone: Page, cases):
    user_create("phone-reviewer", PASSWORD, "reviewer", tenant=TenantFactory())
    _sign_in(phone, "phone-reviewer")

    phone.goto("/queue/?seller=seller-1")

    expect(phone.locator('input[name="seller"]')).to_be_visible()
    assert _page_width(phone) <= 390


def test_the_models_page_fits_a_phone(phone: Page, active_version, screenshots):
    user_create("phone-lead", PASSWORD, "lead", tenant=TenantFactory())
    _sign_in(phone, "phone-lead")

    phone.goto("/models/")

    expect(phone.locator("table.grid tbody tr")).to_have_count(1)
    assert _page_width(phone) <= 390  # the table scrolls inside its box
    phone.screenshot(path=screenshots / "models-phone.png", full_page=True)
