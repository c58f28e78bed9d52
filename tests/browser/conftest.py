"""Headless Chromium against pytest-django's live server.

One browser per module; each test gets a fresh context (cookies, storage).
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from playwright.sync_api import Browser, Page, sync_playwright

# Git-ignored: a test run never rewrites the committed docs/screenshots/
# (`make screenshots` copies these there on purpose).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture(scope="module")
def browser(django_db_setup: None, django_db_blocker) -> Iterator[Browser]:
    """Chromium, driven through Playwright's sync API.

    That API keeps an asyncio loop running in this thread, which changes two
    things for Django until the browser closes: it refuses ORM calls (they are
    still synchronous here, so we allow them), and it keeps database
    connections per async context, so the tests get a new connection that
    must also carry the serialized database for serialized_rollback.
    """
    serialized = getattr(
        connections[DEFAULT_DB_ALIAS], "_test_serialized_contents", None
    )
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


def _context_page(browser: Browser, url: str, **options: object) -> Iterator[Page]:
    context = browser.new_context(base_url=url, **options)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    yield from _context_page(
        browser, live_server.url, viewport={"width": 1440, "height": 900}
    )


@pytest.fixture
def phone(browser: Browser, live_server) -> Iterator[Page]:
    """A phone's screen: 390 px wide, touch."""
    yield from _context_page(
        browser,
        live_server.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
