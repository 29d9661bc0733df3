"""Playwright on Debian's Chromium: one browser per module, a fresh context per test, login by
session cookie, screenshots at desktop and phone widths, and an axe-core check (bundled with
axe-playwright-python, no CDN).

Screenshots land in test-artifacts/screenshots/ at the repository root (ATELIER_SCREENSHOTS_DIR
overrides it): <page>-desktop.png (1280x800) and <page>-phone.png (390x844)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support.servers import missing

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-sync", "--disable-quic"]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("ATELIER_SCREENSHOTS_DIR") or ROOT / "test-artifacts" / "screenshots")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def chromium():
    if not os.path.exists(CHROMIUM):
        missing("Chromium is not installed (Debian package chromium)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(chromium, live_server, settings):
    settings.SITE_URL = live_server.url  # Atelier URLs handed out point at this server
    context = chromium.new_context(viewport=DESKTOP, accept_downloads=True)
    context.set_default_timeout(30_000)
    yield context
    context.close()


@pytest.fixture
def page(browser_context):
    return browser_context.new_page()


def log_in(context, live_server, user):
    """Share a session with the browser instead of typing a password on every test."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


def screenshot(page, name: str, *, phone: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{'phone' if phone else 'desktop'}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def serious_accessibility_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page, as readable lines."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 = no sideways scrolling)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


from tests.studio.conftest import no_enqueue  # noqa: E402,F401  (jobs made in-process for page content)
