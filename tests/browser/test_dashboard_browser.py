"""The leads' dashboard in headless Chromium: sign in, charts, date filter, CSV."""

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from playwright.sync_api import Browser, Page, expect, sync_playwright

from cases.models import Case, Label
from cases.services.users import user_create
from models_ml.models import Score
from models_ml.scoring import decision_for
from tests.factories import OrderFactory, TenantFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct-horse-battery-9"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
]
FIRST_DAY = date(2026, 3, 2)
DAYS = 5


@pytest.fixture(scope="module")
def dashboard_browser(django_db_setup: None, django_db_blocker) -> Iterator[Browser]:
    """Chromium through Playwright's sync API.

    That API runs an asyncio loop in this thread: Django then refuses ORM
    calls unless allowed, and hands out a new connection per async context,
    which must carry the serialized database for serialized_rollback.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    serialized = getattr(connection, "_test_serialized_contents", None)
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        if serialized is not None:
            connections[DEFAULT_DB_ALIAS]._test_serialized_contents = serialized
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
        with django_db_blocker.unblock():
            connections.close_all()


@pytest.fixture
def dashboard_page(dashboard_browser: Browser, live_server) -> Iterator[Page]:
    context = dashboard_browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1440, "height": 900},
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _orders() -> None:
    """Five days of eight orders: the middle band reviewed (two decided
    fraud), the riskiest declined and confirmed fraud on odd days, a
    chargeback on an approved order on even days. On even days the two
    riskiest orders share a card."""
    for offset in range(DAYS):
        day = datetime.combine(FIRST_DAY + timedelta(days=offset), datetime.min.time())
        for i, p in enumerate([0.97, 0.85, 0.6, 0.4, 0.2, 0.1, 0.05, 0.02]):
            shared = offset % 2 == 0 and i < 2
            order = OrderFactory(
                created_at=day.replace(hour=9 + i, tzinfo=UTC),
                amount=Decimal(40 + 25 * i),
                card_fingerprint=f"card-{offset}" if shared else f"card-{offset}-{i}",
            )
            Score.objects.create(order=order, probability=p, decision=decision_for(p))
            known = order.created_at + timedelta(hours=2)
            if 0.3 <= p < 0.9:
                case = Case.objects.create(
                    order=order,
                    tenant_id=order.tenant_id,
                    probability=p,
                    priority=p * float(order.amount),
                    queue_reason="high_risk",
                    status="decided",
                    decided_at=known,
                )
                value = "fraud" if p > 0.5 else "legitimate"
                Label.objects.create(
                    order=order,
                    case=case,
                    value=value,
                    source="reviewer",
                    known_at=known,
                )
            if p == 0.97 and offset % 2 == 1:
                Label.objects.create(
                    order=order,
                    value="fraud",
                    source="merchant",
                    known_at=order.created_at + timedelta(days=3),
                )
            if p == 0.1 and offset % 2 == 0:
                Label.objects.create(
                    order=order,
                    value="fraud",
                    source="chargeback",
                    known_at=order.created_at + timedelta(days=12),
                )


def _sign_in(page: Page, next_url: str) -> None:
    user_create("lead-browser", PASSWORD, "lead", tenant=TenantFactory())
    page.goto(f"/login/?next={next_url}")
    page.fill("input[name=username]", "lead-browser")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_lead_filters_the_dashboard_and_downloads_a_csv(
    dashboard_page: Page, screenshots: Path
):
    page = dashboard_page
    _orders()
    _sign_in(page, "/dashboard/")
    expect(page.locator("h1")).to_have_text("Queue and outcomes")
    expect(page.locator("svg.chart, div.chart-empty")).to_have_count(6)

    last = FIRST_DAY + timedelta(days=DAYS - 1)
    page.fill("#id_date_from", FIRST_DAY.isoformat())
    page.fill("#id_date_to", last.isoformat())
    page.fill("#id_k", "3")
    page.click("#dashboard-filter button[type=submit]")

    expect(page).to_have_url(re.compile(r"/dashboard/\?date_from=2026-03-02&.*k=3$"))
    expect(page.locator("#dashboard-scope")).to_contain_text("2026-03-02 to 2026-03-06")
    caught = page.locator("#chart-caught_missed rect.bar")
    expect(caught.first).to_be_visible()
    assert page.locator("#chart-queue_precision polyline.series").count() == 3
    page.screenshot(path=screenshots / "dashboard.png", full_page=True)

    with page.expect_download() as download:
        page.click("a[data-csv=outcomes]")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert download.value.suggested_filename == "outcomes_2026-03-02_2026-03-06.csv"
    assert rows[0][:5] == ["day", "labelled", "frauds", "caught", "missed"]
    assert [r[0] for r in rows[1:]] == [
        (FIRST_DAY + timedelta(days=i)).isoformat() for i in range(DAYS)
    ]
    # Caught: .85 and .6 decided fraud, and on odd days the declined .97.
    assert [r[3] for r in rows[1:]] == ["2", "3", "2", "3", "2"]


PAGES = {"overview": "/dashboard/", "reviewers": "/dashboard/reviewers/"}
PAGES["models"] = "/dashboard/models/"
RANGE = f"date_from={FIRST_DAY}&date_to={FIRST_DAY + timedelta(days=DAYS - 1)}"


@pytest.mark.parametrize("width", [1440, 390])
def test_every_page_fits_the_screen_with_charts_filling_their_card(
    dashboard_page: Page, width: int, screenshots: Path
):
    page = dashboard_page
    page.set_viewport_size({"width": width, "height": 900})
    _orders()
    _sign_in(page, "/dashboard/")

    for name, url in PAGES.items():
        page.goto(f"{url}?{RANGE}")
        expect(page.locator("#dashboard-scope")).to_be_visible()
        page.screenshot(
            path=screenshots / f"dashboard-{name}-{width}.png", full_page=True
        )
        # The page's own content (the shared top bar is not the dashboard's).
        overflow = page.evaluate(
            "Math.max(...[...document.querySelectorAll('main > *')].map("
            "e => e.getBoundingClientRect().right)) - window.innerWidth"
        )
        assert overflow <= 0, f"{name} is wider than the screen by {overflow}px"
        if width == 1440:
            # Charts share their card's width (a lone chart beside an empty
            # one keeps half of it).
            for box in page.locator(".charts:not(:has(.chart-empty))").all():
                inner = box.bounding_box()["width"]
                used = sum(
                    svg.bounding_box()["width"]
                    for svg in box.locator("svg.chart").all()
                )
                assert used > 0.9 * inner, f"{name}: charts use {used} of {inner}px"


def test_a_far_date_shows_the_fields_message(dashboard_page: Page):
    page = dashboard_page
    _sign_in(page, "/dashboard/?date_to=9999-12-31")

    expect(page.locator("#id_date_to-error")).to_contain_text("Pick a date from")
