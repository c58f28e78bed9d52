"""The workbench in a real browser: sign in, keyboard review, lead override.

Orders go through intake with a real (small) model, so every case has a
score, SHAP reasons and linked orders, as in production.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from cases.models import AuditEvent, Case, Label
from cases.schemas import OrderIn
from cases.services.clients import api_client_create
from cases.services.intake import orders_ingest
from cases.services.review import case_claim_next, case_decide
from cases.services.users import user_create
from tests.factories import CaseFactory, TenantFactory, order_payload

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct-horse-battery-9"
CASE_URL = re.compile(r"/cases/(\d+)/$")
# customer, amount, card, device, seller, billing/shipping country, account age
ORDERS = [
    ("cust-17", "129.90", "fp-123", "dev-abc", "seller-1", "DE", "DE", 400),
    ("cust-17", "89.00", "fp-123", "dev-abc", "seller-1", "DE", "DE", 400),
    ("cust-52", "2450.00", "fp-123", "dev-abc", "seller-1", "DE", "NG", 0),
    ("cust-53", "1899.99", "fp-777", "dev-abc", "seller-2", "FR", "RO", 1),
    ("cust-54", "12.50", "fp-778", "dev-x1", "seller-2", "FR", "FR", 30),
    ("cust-55", "640.00", "fp-779", "dev-x2", "seller-1", "GB", "US", 2),
    ("cust-56", "74.20", "fp-780", "dev-x3", "seller-2", "NL", "NL", 900),
    ("cust-57", "999.00", "fp-777", "dev-x4", "seller-2", "ES", "PT", 0),
]


def _payload(i: int, spec: tuple) -> OrderIn:
    customer, amount, card, device, seller, billing, shipping, age = spec
    created = datetime(2026, 3, 2, 9, 0, tzinfo=UTC) + timedelta(minutes=37 * i)
    return OrderIn.model_validate(
        order_payload(
            order_id=f"web-{1001 + i}",
            created_at=created.isoformat(),
            account_created_at=(created - timedelta(days=age)).isoformat(),
            amount=amount,
            customer_id=customer,
            email=f"{customer}@example.com",
            card_fingerprint=card,
            device_id=device,
            seller_id=seller,
            billing_country=billing,
            shipping_country=shipping,
            ip_address=f"198.51.100.{10 + i}",
        )
    )


@pytest.fixture
def cases(active_version, settings) -> list[Case]:
    """Every order becomes a scored, explained case; QA sampling is off."""
    settings.RISK_REVIEW_THRESHOLD = 0.0
    settings.RISK_DECLINE_THRESHOLD = 1.0
    settings.QA_SHARE = 0
    client, _token = api_client_create("shop", tenant=TenantFactory())
    payloads = [_payload(i, spec) for i, spec in enumerate(ORDERS)]
    results = orders_ingest(client, payloads, explain_all=False)
    assert all(r.case is not None and r.score.contributions for r in results)
    return [r.case for r in results]


@pytest.fixture
def reviewer():
    return user_create("reviewer-one", PASSWORD, "reviewer", tenant=TenantFactory())


@pytest.fixture
def lead():
    return user_create("lead-one", PASSWORD, "lead", tenant=TenantFactory())


def _sign_in(page: Page, username: str) -> None:
    page.goto("/login/")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    expect(page).to_have_url(re.compile(r"/queue/$"))


def _case_id(page: Page) -> int:
    return int(CASE_URL.search(page.url).group(1))


def test_reviewer_decides_by_keyboard_and_the_next_case_opens(
    page: Page, cases, reviewer, screenshots
):
    _sign_in(page, "reviewer-one")
    expect(page.locator("table.queue tbody tr")).to_have_count(len(cases))
    page.screenshot(path=screenshots / "queue.png", full_page=True)

    page.keyboard.press("n")
    expect(page).to_have_url(CASE_URL)
    first = _case_id(page)
    reasons = page.locator("#explanation ol.why-list li")
    expect(reasons.first).to_be_visible()
    expect(reasons.first.locator(".why-points")).to_have_text(
        re.compile(r"^[+-]\d+\.\d$")
    )
    linked = page.locator("#linked table.link-group").first
    expect(linked).to_be_visible()
    expect(linked.locator("tbody tr").first).to_contain_text("web-")
    page.screenshot(path=screenshots / "case.png", full_page=True)
    reason = page.locator('input[name="reasons"][data-key="1"]').get_attribute("value")

    page.keyboard.press("1")
    page.keyboard.press("f")
    page.keyboard.press("f")  # a double tap must not send a second decision
    page.wait_for_url(lambda url: CASE_URL.search(url) and f"/{first}/" not in url)

    label = Label.objects.get(case_id=first)
    assert (label.value, label.source, label.reasons, label.created_by) == (
        "fraud",
        "reviewer",
        [reason],
        reviewer,
    )
    assert AuditEvent.objects.filter(
        action="case.decided", object_id=str(first)
    ).exists()
    assert _case_id(page) != first


def test_lead_overrides_a_decided_case_and_the_first_label_stays(
    page: Page, cases, reviewer, lead, screenshots
):
    claim = case_claim_next(reviewer)
    first = case_decide(
        claim.pk, reviewer, value="fraud", reasons=["stolen_card"], note=""
    )
    _sign_in(page, "lead-one")

    page.goto(f"/cases/{claim.case_id}/")
    form = page.locator("#override-form")
    form.locator('select[name="value"]').select_option("legitimate")
    # Only the reasons of the decision chosen are offered; several may be.
    expect(form.locator('input[value="stolen_card"]')).to_be_hidden()
    form.locator('input[value="verified_customer"]').check()
    form.locator('input[value="good_history"]').check()
    form.locator('input[name="note"]').fill("Customer confirmed by phone")
    form.locator("#override-button").click()
    expect(page.locator(".messages")).to_contain_text("overridden: legitimate")
    expect(page.locator("ul.labels")).to_contain_text(
        "legitimate · override by lead lead-one"
    )
    expect(page.locator("ul.labels")).to_contain_text(
        "Customer verified, Good order history"
    )
    page.screenshot(path=screenshots / "case-lead-override.png", full_page=True)

    labels = list(Label.objects.filter(case_id=claim.case_id).order_by("id"))
    assert [(x.pk, x.value) for x in labels] == [
        (first.pk, "fraud"),
        (labels[-1].pk, "legitimate"),
    ]
    assert labels[-1].created_by == lead
    assert AuditEvent.objects.filter(
        action="case.overridden", object_id=str(claim.case_id)
    ).exists()


@pytest.mark.parametrize("path", ["/queue/", "/cases/{case}/"])
def test_anonymous_visitor_is_sent_to_sign_in(page: Page, path):
    wanted = path.format(case=CaseFactory().pk)

    page.goto(wanted)

    expect(page).to_have_url(re.compile(rf"/login/\?next={re.escape(wanted)}$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
