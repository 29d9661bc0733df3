"""A person in a real browser: sign up, generate an image, see it appear without a reload."""
from decimal import Decimal

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def credits(text: str) -> Decimal:
    return Decimal(text.replace(",", "").strip())


def test_sign_up_generate_and_watch_history_update(live_server, catalog, worker, page):
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
    page.wait_for_selector("#history-list article[data-status=succeeded] img", timeout=60_000)
    assert page.evaluate("() => window.__noReload") is marker  # same document: no reload happened
    page.wait_for_function(f"document.querySelector('[data-testid=available]').textContent.trim() === '{before - price}'")
    assert page.locator("#history-list article").count() == 1  # the new card replaced itself in place, once

    page.reload()
    assert credits(page.inner_text("[data-testid=available]")) == before - price
