"""Chat with a text model in Debian's Chromium: type a question, watch the streamed answer
arrive, ask a follow-up, see both turns with their prices; the page reloads to the same
thread; no serious accessibility problem and no sideways scroll on a phone."""
import pytest

from apps.studio.models import ChatThread

from .conftest import PHONE, horizontal_overflow, log_in, screenshot, serious_accessibility_violations

pytestmark = pytest.mark.browser


def test_chat_streams_answers_and_shows_the_price_of_each_turn(live_server, catalog, browser_context, page, owner):
    log_in(browser_context, live_server, owner)
    page.goto(f"{live_server.url}/models/sandbox-text/")
    streamed = []
    page.on("request", lambda request: streamed.append(request.url) if request.url.endswith("/stream") else None)
    page.fill("#chat-prompt", "Tell me about lighthouses on rocky coasts")
    page.click("button:has-text('Send')")
    turns = page.locator("#chat-turns [data-testid=chat-turn]")
    first = turns.nth(0)
    first.locator("[data-testid=turn-price]").wait_for(timeout=20_000)  # drawn once the answer is done
    assert first.locator("[data-testid=answer]").inner_text().strip()
    assert "Charged" in first.locator("[data-testid=turn-price]").inner_text()
    thread = ChatThread.objects.get()
    assert page.url.endswith(f"/chat/{thread.pk}/")  # the new chat has its address
    assert streamed and streamed[0].endswith("/models/sandbox-text/chat/stream")
    assert page.input_value("#chat-prompt") == ""

    page.fill("#chat-prompt", "Who keeps them lit?")
    page.press("#chat-prompt", "Enter")  # Enter sends
    page.wait_for_function("document.querySelectorAll('#chat-turns [data-testid=turn-price]').length === 2",
                           timeout=20_000)
    assert turns.count() == 2 and streamed[-1].endswith(f"/chat/{thread.pk}/stream")
    prices = [text.strip() for text in page.locator("#chat-turns [data-testid=turn-price]").all_inner_texts()]
    assert all(price.startswith("Charged") for price in prices), prices
    assert page.locator("#chat-turns [data-testid=answer]").count() == 2
    assert page.get_attribute("#chat-turns", "aria-live") == "polite"
    screenshot(page, "chat")
    problems = serious_accessibility_violations(page)
    assert problems == [], problems

    # The thread is stored: a reload shows both turns; it is listed beside the conversation.
    page.reload()
    assert page.locator("#chat-turns [data-testid=chat-turn]").count() == 2
    assert page.locator("[data-testid=thread-list] a[aria-current=page]").inner_text().startswith("Tell me about")
    turn_models = [turn.generation for turn in thread.turns.select_related("generation")]
    assert all(g.status == "succeeded" and g.charged for g in turn_models)
    assert [p.split()[1] for p in prices] == [f"{g.charged / 1000:g}" for g in turn_models]

    page.set_viewport_size(PHONE)
    page.reload()
    assert horizontal_overflow(page) == 0
    screenshot(page, "chat", phone=True)
