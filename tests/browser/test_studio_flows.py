"""What issue 17 must show, in Debian's Chromium: upload an image and animate it into a video
(progress, then it plays); a job started through the API appears in an open History page
without a reload; a four-image job shows four images, opens in the viewer and downloads as a
zip; the over-balance warning; a logged-out invitee signs up and joins; the phone layout of
the main pages has no sideways scroll; screenshots and axe-core checks of the main pages."""
import io
import json
import zipfile

import httpx
import pytest
from PIL import Image

from apps.accounts.services import team_invite
from apps.wallet.services import wallet_adjust
from tests.conftest import personal_wallet
from tests.studio.conftest import make_job

from .conftest import PHONE, horizontal_overflow, log_in, screenshot, serious_accessibility_violations

pytestmark = pytest.mark.browser


def png_file(tmp_path, size=(160, 96)):
    path = tmp_path / "start-frame.png"
    Image.new("RGB", size, (30, 140, 90)).save(path)
    return path


@pytest.mark.worker
def test_upload_an_image_animate_it_watch_progress_and_play(live_server, catalog, worker, browser_context, page,
                                                            owner, tmp_path):
    log_in(browser_context, live_server, owner)
    page.goto(f"{live_server.url}/models/sandbox-video/")
    page.set_input_files("input[name=image_url__file]", str(png_file(tmp_path)))
    page.wait_for_function("document.querySelector('#id_image_url').value.includes('/files/uploads/')")
    assert page.locator(".dropzone-preview img").count() == 1  # the upload's thumbnail
    page.fill("textarea[name=prompt]", "grass moving in the wind")
    page.fill("input[name=duration]", "2")
    page.select_option("select[name=resolution]", "480p")
    page.wait_for_function("document.querySelector('[data-testid=price]')?.textContent.trim() === '0.5'")
    page.click("button:has-text('Generate')")
    # The job appears at once, with its progress, and is replaced by its result in place.
    card = page.locator("#history-list article").first
    card.locator("progress").wait_for(timeout=15_000)
    assert card.get_attribute("data-status") in ("queued", "running")
    page.wait_for_selector("#history-list article[data-status=succeeded] video", timeout=90_000)
    assert page.locator("#history-list article").count() == 1
    played = page.evaluate("""async () => {
        const video = document.querySelector('#history-list video');
        video.muted = true;
        await video.play();
        await new Promise(resolve => setTimeout(resolve, 600));
        return {time: video.currentTime, width: video.videoWidth, error: video.error && video.error.code};
    }""")
    assert played["error"] is None and played["time"] > 0 and played["width"] > 0
    screenshot(page, "studio-video")


@pytest.mark.worker
def test_api_job_appears_in_open_history_four_images_viewer_and_zip(live_server, catalog, worker, browser_context,
                                                                     page, owner):
    from apps.api.services import api_key_create

    log_in(browser_context, live_server, owner)
    page.goto(f"{live_server.url}/history/")
    page.wait_for_selector("#history-empty")
    page.evaluate("() => { window.__noReload = true; }")
    key = api_key_create(user=owner, workspace=owner.current_workspace, name="browser test")
    response = httpx.post(f"{live_server.url}/v1/generations", headers={"Authorization": f"Bearer {key.secret}"},
                          json={"model": "sandbox-image", "params": {"prompt": "four ducks in a row", "n": 4,
                                                                       "size": "512x512"}}, timeout=30)
    assert response.status_code == 202, response.text
    # Nothing pending on the page: the idle watch (every 6 s) finds the new job, then follows it.
    page.wait_for_selector("#history-list article[data-status=succeeded] .gen-thumb img", timeout=60_000)
    assert page.evaluate("() => window.__noReload") is True
    card = page.locator("#history-list article").first
    assert card.locator(".gen-thumb img").count() == 4
    screenshot(page, "history")

    card.locator(".gen-thumb").first.click()  # the full-size viewer, with keyboard navigation
    viewer = page.locator("#viewer")
    assert viewer.evaluate("el => el.open") and page.inner_text(".viewer-count") == "1 of 4"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.inner_text(".viewer-count") == "3 of 4"
    page.keyboard.press("ArrowLeft")
    assert page.inner_text(".viewer-count") == "2 of 4"
    page.keyboard.press("Escape")
    assert not viewer.evaluate("el => el.open")

    with page.expect_download() as info:
        card.locator("[data-testid=download-all]").click()
    download = info.value
    assert download.suggested_filename == "four-ducks-in-a-row.zip"
    with zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read())) as archive:
        names = archive.namelist()
        assert names == [f"four-ducks-in-a-row-{i}.png" for i in range(1, 5)]
        assert all(archive.read(name)[:8] == b"\x89PNG\r\n\x1a\n" for name in names)


def test_the_generate_button_warns_before_a_submit_over_the_balance(live_server, catalog, browser_context, page, owner):
    wallet_adjust(wallet=personal_wallet(owner), amount=-98_500, reason="spent elsewhere", actor=None)
    log_in(browser_context, live_server, owner)
    page.goto(f"{live_server.url}/models/sandbox-image/")
    button = page.locator("#submit-row button[type=submit]")
    assert button.inner_text() == "Generate" and button.is_enabled()
    page.fill("input[name=n]", "3")  # 3 credits > 1.5 available
    page.wait_for_selector("[data-testid=over-balance]")
    assert "more than the 1.5 credits available" in page.inner_text("[data-testid=over-balance]")
    assert button.inner_text() == "Not enough credits" and button.is_disabled()
    assert page.locator("[data-testid=over-balance] a[href='/wallet/']").count() == 1
    screenshot(page, "studio-over-balance")
    page.fill("input[name=n]", "1")
    page.wait_for_selector("[data-testid=over-balance]", state="detached")
    assert page.locator("#submit-row button[type=submit]").is_enabled()


def test_a_logged_out_invitee_signs_up_and_joins_the_team(live_server, catalog, page, team, owner):
    _, token = team_invite(workspace=team, actor=owner, email="newcomer@example.com")
    page.goto(f"{live_server.url}/invitations/{token}/")
    page.click("[data-testid=invite-signup]")
    assert page.input_value("input[name=email]") == "newcomer@example.com"
    page.fill("input[name=password1]", "brush-and-Canvas-42")
    page.fill("input[name=password2]", "brush-and-Canvas-42")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/invitations/{token}/")
    assert "Join Studio Team" in page.inner_text("h1")
    page.click("button:has-text('Accept and join')")
    page.wait_for_url(f"{live_server.url}/teams/{team.pk}/")
    assert page.locator("#members [data-member='newcomer@example.com']").count() == 1


MAIN_PAGES = [("gallery", "/"), ("studio", "/models/sandbox-image/"), ("team", "/teams/{team}/"),
              ("history", "/history/"), ("usage", "/usage/"), ("wallet", "/wallet/"), ("pricing", "/pricing/"),
              ("generation", "/generations/{job}/"), ("chats", "/chat/"), ("chat-new", "/models/sandbox-text/")]


def test_main_pages_on_desktop_and_phone_no_sideways_scroll_and_accessible(live_server, catalog, chromium, team, owner,
                                                                           teammate, settings, no_enqueue):
    settings.SITE_URL = live_server.url
    job = make_job(owner, n=2, prompt="a lighthouse on a cliff at dusk, golden light over a long, long sea")
    make_job(owner, slug="sandbox-speech", input="Welcome to Atelier.")
    failures = {}
    for viewport, phone in ((None, False), (PHONE, True)):
        context = chromium.new_context(viewport=viewport or {"width": 1280, "height": 800},
                                       is_mobile=phone, has_touch=phone)
        log_in(context, live_server, owner)
        page = context.new_page()
        for name, path in MAIN_PAGES:
            page.goto(live_server.url + path.format(team=team.pk, job=job.pk))
            page.wait_for_load_state("networkidle")
            screenshot(page, name, phone=phone)
            if phone and horizontal_overflow(page) > 0:
                failures[f"{name} (phone)"] = f"{horizontal_overflow(page)} px wider than the screen"
            problems = serious_accessibility_violations(page)
            if problems:
                failures[f"{name} ({'phone' if phone else 'desktop'})"] = problems
        if phone:
            page.goto(f"{live_server.url}/")
            assert page.locator(".site-menu nav").is_hidden()  # one header row; the menu opens on demand
            page.click(".menu-toggle")
            assert page.locator(".site-menu nav a:has-text('History')").is_visible()
        context.close()
    assert not failures, json.dumps(failures, indent=2)
