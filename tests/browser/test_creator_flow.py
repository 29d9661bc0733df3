"""A person in a real browser: sign up, generate an image, see it appear without a reload."""
import os
import shutil
from decimal import Decimal

import pytest

from tests.support.servers import missing

pytestmark = [pytest.mark.browser, pytest.mark.worker]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-sync", "--disable-quic"]


@pytest.fixture
def browser_page():
    if not os.path.exists(CHROMIUM):
        missing("Chromium is not installed (Debian package chromium)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        page = browser.new_page()
        page.set_default_timeout(30_000)
        yield page
        browser.close()


def credits(text: str) -> Decimal:
    return Decimal(text.replace(",", "").strip())


def test_sign_up_generate_and_watch_history_update(live_server, catalog, worker, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("input[name=email]", "painter@example.com")
    page.fill("input[name=password1]", "brush-and-Canvas-42")
    page.fill("input[name=password2]", "brush-and-Canvas-42")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    before = credits(page.inner_text("[data-testid=available]"))
    assert before == Decimal(100)

    page.click("text=Sandbox Image")
    page.fill("textarea[name=prompt]", "a green forest with mountains under a night sky")
    page.select_option("select[name=size]", "512x512")
    page.fill("input[name=n]", "2")
    page.wait_for_function("document.querySelector('[data-testid=price]')?.textContent.trim() === '1'")
    price = credits(page.inner_text("[data-testid=price]"))

    marker = page.evaluate("() => { window.__noReload = true; return true; }")
    page.click("button:has-text('Generate')")
    page.wait_for_selector("#history article[data-status=succeeded] img", timeout=60_000)
    assert page.evaluate("() => window.__noReload") is marker  # same document: no reload happened
    after = credits(page.inner_text("[data-testid=available]"))
    # The balance badge was updated when the job was queued (price held); the charge equals the price.
    assert before - after == price

    page.reload()
    assert credits(page.inner_text("[data-testid=available]")) == before - price
