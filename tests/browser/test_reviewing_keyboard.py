"""A shift from the keyboard: every reason has a key, reasons follow the
decision, skip, snooze and undo, `/` for search; the grouped linked orders and
an entity page. At 1440 px, and the case page again at 390 px."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

import tests.browser.test_workbench as workbench
from cases.models import AuditEvent, Case, CaseDeferral, Label, ReasonCode
from cases.selectors_review import REASON_KEYS
from tests.browser.test_workbench import CASE_URL, _case_id, _sign_in

# The workbench tests' fixtures: scored cases and a reviewer.
cases, reviewer = workbench.cases, workbench.reviewer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _next_case(page: Page) -> int:
    page.keyboard.press("n")
    expect(page).to_have_url(CASE_URL)
    expect(page.locator("#decision-form")).to_be_visible()
    return _case_id(page)


def _left(page: Page, case_id: int) -> None:
    page.wait_for_url(lambda url: f"/cases/{case_id}/" not in url)


def test_every_reason_has_a_key_shown_on_its_label(page: Page, cases, reviewer):
    _sign_in(page, "reviewer-one")
    _next_case(page)

    reasons = page.locator("#decision-reasons label")
    expect(reasons).to_have_count(ReasonCode.objects.filter(active=True).count())
    keys = [k.strip() for k in reasons.locator("kbd").all_inner_texts()]
    assert keys == list(REASON_KEYS[: reasons.count()])


def test_legitimate_shows_its_reasons_and_letters_reach_the_last_ones(
    page: Page, cases, reviewer, screenshots
):
    _sign_in(page, "reviewer-one")
    first = _next_case(page)
    page.keyboard.press("l")

    form = page.locator("#decision-reasons")
    expect(form.locator('[data-applies="fraud"]').first).to_be_hidden()
    expect(form.locator('[data-applies="legitimate"]').first).to_be_visible()
    page.screenshot(path=screenshots / "case-legitimate-reasons.png", full_page=True)
    lettered = form.locator("label:visible", has=page.locator("kbd")).filter(
        has_text=re.compile(r"^\s*[a-z]\s")
    )
    letters = [t.strip()[0] for t in lettered.all_inner_texts()]
    assert letters, "some legitimate reason is reached by a letter"
    for letter in letters:
        page.keyboard.press(letter)
    page.keyboard.press("Enter")
    _left(page, first)

    label = Label.objects.get(case_id=first)
    assert label.value == "legitimate"
    assert len(label.reasons) == len(letters)
    assert all(
        ReasonCode.objects.get(code=c).applies_to in ("legitimate", "any")
        for c in label.reasons
    )


def test_a_fraud_reason_with_legitimate_is_refused_in_the_page(
    page: Page, cases, reviewer
):
    _sign_in(page, "reviewer-one")
    first = _next_case(page)
    fraud_key = page.locator(
        '#decision-reasons [data-applies="fraud"] input'
    ).first.get_attribute("data-key")

    page.keyboard.press(fraud_key)
    expect(
        page.locator('#decision-reasons [data-applies="legitimate"]').first
    ).to_be_hidden()
    page.locator("button.legit").click()

    expect(page.locator("#decision-hint")).to_contain_text("does not fit legitimate")
    assert not Label.objects.filter(case_id=first).exists()


def test_slash_focuses_search_on_the_case_page(page: Page, cases, reviewer):
    _sign_in(page, "reviewer-one")
    _next_case(page)
    page.keyboard.press("/")
    expect(page.locator('input[name="q"]')).to_be_focused()


def test_claim_end_is_shown(page: Page, cases, reviewer):
    _sign_in(page, "reviewer-one")
    _next_case(page)
    expect(page.locator("#lease")).to_contain_text(re.compile(r"ends at \d\d:\d\d"))


def test_skip_gives_the_next_case_and_next_does_not_bring_it_back(
    page: Page, cases, reviewer
):
    _sign_in(page, "reviewer-one")
    skipped = _next_case(page)

    page.keyboard.press("s")
    _left(page, skipped)
    expect(page.locator(".messages")).to_contain_text(f"Case {skipped} skipped")
    following = _case_id(page)
    page.keyboard.press("1")
    page.keyboard.press("f")
    _left(page, following)

    assert _case_id(page) not in (skipped, following)
    assert CaseDeferral.objects.get(case_id=skipped).reviewer == reviewer


def test_snooze_until_a_time_from_the_keyboard(page: Page, cases, reviewer):
    _sign_in(page, "reviewer-one")
    snoozed = _next_case(page)

    page.keyboard.press("z")
    until = page.locator("#snooze-until")
    expect(until).to_be_focused()
    wanted = (timezone.localtime() + timedelta(days=2)).replace(second=0, microsecond=0)
    until.fill(wanted.strftime("%Y-%m-%dT%H:%M"))
    page.keyboard.press("Enter")
    _left(page, snoozed)

    deferral = CaseDeferral.objects.get(case_id=snoozed)
    assert (deferral.kind, deferral.reviewer, deferral.until) == (
        "snooze",
        None,
        wanted,
    )


def test_undo_takes_the_decision_back_and_reopens_the_case(
    page: Page, cases, reviewer, screenshots
):
    _sign_in(page, "reviewer-one")
    first = _next_case(page)
    page.keyboard.press("1")
    page.keyboard.press("f")
    _left(page, first)
    expect(page.locator("#undo-bar")).to_contain_text(f"Case #{first} decided")
    page.screenshot(path=screenshots / "undo-offer.png")

    page.keyboard.press("u")
    expect(page).to_have_url(re.compile(rf"/cases/{first}/$"))
    expect(page.locator(".messages")).to_contain_text("undone")
    expect(page.locator("#decision-form")).to_be_visible()
    assert not Label.objects.filter(case_id=first).exists()
    assert AuditEvent.objects.filter(
        action="case.decision_undone", object_id=str(first)
    ).exists()


def _case_of(order_id: str) -> Case:
    return Case.objects.get(order__order_id=order_id)


def test_linked_orders_strongest_first_and_a_lone_seller_folded(
    page: Page, cases, reviewer, screenshots
):
    # web-1003 shares card, device and seller with web-1001/1002, only the
    # device with web-1004 and only the seller with web-1006.
    case = _case_of("web-1003")
    _sign_in(page, "reviewer-one")
    page.goto(f"/cases/{case.pk}/")

    groups = page.locator("#linked table.link-group")
    expect(groups.first.locator("caption")).to_contain_text("card + device + seller")
    strengths = [
        int(s) for s in groups.evaluate_all("ts => ts.map(t => t.dataset.strength)")
    ]
    assert strengths == sorted(strengths, reverse=True)
    expect(page.locator("#linked .link-noise")).to_contain_text("only the seller")
    expect(page.locator("#linked table", has_text="web-1006")).to_have_count(0)
    page.locator("#linked").screenshot(path=screenshots / "linked-groups.png")

    row = groups.first.locator("tbody tr").first
    row.locator("a").first.click()
    expect(page).to_have_url(CASE_URL)
    assert _case_id(page) != case.pk


def test_entity_page_shows_what_the_device_was_used_with(
    page: Page, cases, reviewer, screenshots
):
    case = _case_of("web-1003")
    _sign_in(page, "reviewer-one")
    page.goto(f"/cases/{case.pk}/")

    page.locator("#linked .entity-summaries a", has_text="dev-abc").click()

    expect(page.locator("h1")).to_contain_text("Device dev-abc")
    expect(page.locator(".used-with-sentence")).to_contain_text(
        "This device was used with 3 customers, 2 cards, 4 IP addresses, 3 emails"
        " and 2 sellers."
    )
    expect(page.locator("#entity-orders tbody tr")).to_have_count(4)
    page.screenshot(path=screenshots / "entity-device.png", full_page=True)
    page.locator("#used-with").get_by_role("link", name="cust-17", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Customer cust-17")


def test_grouped_links_and_entity_page_fit_a_phone(
    phone: Page, cases, reviewer, screenshots
):
    case = _case_of("web-1003")
    _sign_in(phone, "reviewer-one")
    phone.goto(f"/cases/{case.pk}/")
    phone.locator("#linked").scroll_into_view_if_needed()
    phone.screenshot(path=screenshots / "phone-linked-groups.png", full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.locator("#linked .entity-summaries a", has_text="dev-abc").click()
    expect(phone.locator(".used-with-sentence")).to_be_visible()
    phone.screenshot(path=screenshots / "phone-entity-device.png", full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_skip_snooze_and_undo_by_tapping_on_a_phone(
    phone: Page, cases, reviewer, screenshots
):
    _sign_in(phone, "reviewer-one")
    phone.get_by_role("button", name="Next case").tap()
    expect(phone).to_have_url(CASE_URL)
    skipped = _case_id(phone)
    phone.get_by_role("button", name="Skip").tap()
    _left(phone, skipped)

    snoozed = _case_id(phone)
    phone.locator("#snooze summary").tap()
    phone.screenshot(path=screenshots / "phone-snooze.png")
    phone.get_by_role("button", name="1 hour").tap()
    _left(phone, snoozed)

    decided = _case_id(phone)
    phone.locator("#decision-reasons label").first.tap()
    phone.locator("button.fraud").tap()
    _left(phone, decided)
    phone.get_by_role("button", name="Undo").tap()
    expect(phone).to_have_url(re.compile(rf"/cases/{decided}/$"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    kinds = dict(CaseDeferral.objects.values_list("case_id", "kind"))
    assert kinds == {skipped: "skip", snoozed: "snooze"}
    assert not Label.objects.filter(case_id=decided).exists()
