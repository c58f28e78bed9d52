"""The API docs page in a real browser: it renders, and it asks nothing of the
internet (the product must work offline)."""

from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

from cases.services.users import user_create
from tests.factories import TenantFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct-horse-battery-9"


def test_docs_page_renders_from_local_files_only(page: Page, live_server, screenshots):
    user_create("docs-reader", PASSWORD, "reviewer", tenant=TenantFactory())
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    blocked: list[str] = []
    page.on(
        "requestfailed",
        lambda r: blocked.append(r.url) if r.failure == "csp" else None,
    )
    page.goto("/login/")
    page.fill('input[name="username"]', "docs-reader")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')

    page.goto("/api/v1/docs/")

    expect(
        page.get_by_text("Order intake, risk scores with reasons").first
    ).to_be_visible()
    page.wait_for_load_state("networkidle")
    own = urlparse(live_server.url).netloc
    foreign = [u for u in requested if urlparse(u).netloc not in (own, "")]
    # Redoc hard-codes one remote asset (its logo): the page's CSP refuses it
    # before it leaves the browser. Anything else remote would fail this.
    assert foreign == blocked
    assert {urlparse(u).netloc for u in blocked} <= {"cdn.redoc.ly"}
    page.screenshot(path=screenshots / "api-docs.png")


def test_favicon_is_served(page: Page):
    response = page.goto("/favicon.ico")

    assert response is not None and response.ok
    assert "svg" in response.headers["content-type"]
