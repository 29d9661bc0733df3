"""The chat page of text models: threads of the workspace, follow-ups with the conversation in
view, streamed answers, the charge of each turn, and failures that say why and cost nothing."""
import pytest

from apps.generations.models import Generation
from apps.providers.adapters.sandbox import SandboxAdapter
from apps.providers.base import ContentFiltered, RateLimited
from apps.studio.models import ChatThread, ThreadTurn
from apps.wallet.audit import wallet_audit
from apps.wallet.models import LedgerEntry
from apps.wallet.services import wallet_adjust
from tests.conftest import personal_wallet

SLUG = "sandbox-text"


def start(client, prompt="Tell me about lighthouses", **extra):
    response = client.post(f"/models/{SLUG}/chat", {"prompt": prompt, **extra})
    assert response.status_code == 302, response.content[:500]
    return ChatThread.objects.get(), response


def sent_messages(turn: ThreadTurn) -> list:
    return turn.generation.params["messages"]


def stream_body(response) -> str:
    return b"".join(response.streaming_content).decode()


def leave(response):
    """The browser goes away mid-answer: the server closes the response. Through the test
    client's wrapper of the content, which calls response.close() without letting
    request_finished close the test database's connection."""
    response._iterator.close()


def test_a_text_models_page_is_the_chat(logged_in):
    page = logged_in.get(f"/models/{SLUG}/").content.decode()
    assert 'id="chat-form"' in page and f'action="/models/{SLUG}/chat"' in page
    assert f'data-stream-url="/models/{SLUG}/chat/stream"' in page
    assert '<label for="chat-prompt">Your message</label>' in page and 'aria-live="polite"' in page
    assert "js/chat.js" in page and 'id="reference"' in page  # the model's API reference stays below
    assert "Runs on this server's built-in sandbox engine" in page  # where the answers come from
    assert "updates by itself" not in page


def test_logged_out_visitors_see_the_chat_and_a_sign_up_link(client, catalog):
    page = client.get(f"/models/{SLUG}/").content.decode()
    assert "Sign up to chat" in page and 'id="chat-form"' not in page


def test_start_a_thread_answers_and_shows_the_charge(logged_in, owner):
    thread, response = start(logged_in, system="Answer briefly.")
    turn = thread.turns.get()
    assert response["Location"] == f"/chat/{thread.pk}/#turn-{turn.pk}"
    generation = turn.generation
    assert generation.status == "succeeded" and generation.source == "web" and generation.result_text
    assert generation.workspace_id == owner.current_workspace.pk and generation.user_id == owner.pk
    assert sent_messages(turn) == [{"role": "system", "content": "Answer briefly."},
                                   {"role": "user", "content": "Tell me about lighthouses"}]
    assert thread.title == "Tell me about lighthouses" and thread.user_id == owner.pk
    page = logged_in.get(f"/chat/{thread.pk}/").content.decode()
    assert 'data-testid="routing-note"' in page and 'id="reference"' not in page
    charged = f"{generation.charged / 1000:g}"
    assert generation.charged > 0 and f"Charged <strong>{charged}</strong> credits" in page
    assert generation.result_text.split()[0] in page
    capture = LedgerEntry.objects.get(hold__generation=generation, kind="capture")
    assert -capture.amount == generation.charged
    assert wallet_audit() == []


def test_a_follow_up_sends_the_earlier_turns(logged_in):
    thread, _ = start(logged_in)
    first = thread.turns.get()
    response = logged_in.post(f"/chat/{thread.pk}/send", {"prompt": "And who keeps them?"})
    assert response.status_code == 302
    second = thread.turns.exclude(pk=first.pk).get()
    assert sent_messages(second) == [
        {"role": "user", "content": "Tell me about lighthouses"},
        {"role": "assistant", "content": first.generation.result_text},
        {"role": "user", "content": "And who keeps them?"},
    ]
    page = logged_in.get(f"/chat/{thread.pk}/").content.decode()
    assert page.count(' id="turn-') == 2 and page.count("Charged <strong>") == 2
    listing = logged_in.get("/chat/").content.decode()
    assert "Tell me about lighthouses" in listing and "Sandbox Text" in listing
    assert Generation.objects.filter(source="web", model__slug=SLUG).count() == 2
    assert wallet_audit() == []


def test_another_workspace_cannot_open_or_continue_the_thread(logged_in, client, outsider):
    thread, _ = start(logged_in)
    client.force_login(outsider)
    assert client.get(f"/chat/{thread.pk}/").status_code == 404
    assert client.post(f"/chat/{thread.pk}/send", {"prompt": "hi"}).status_code == 404
    assert client.post(f"/chat/{thread.pk}/stream", {"prompt": "hi"}).status_code == 404
    assert "Tell me about lighthouses" not in client.get("/chat/").content.decode()
    assert thread.turns.count() == 1


def test_a_turn_without_enough_credits_says_so_and_charges_nothing(logged_in, owner):
    wallet = personal_wallet(owner)
    wallet_adjust(wallet=wallet, amount=-wallet.balance, reason="drain for the test", actor=None)
    entries = LedgerEntry.objects.count()
    thread, response = start(logged_in)
    turn = thread.turns.get()
    assert turn.generation is None and "not enough credits" in turn.error
    page = logged_in.get(response["Location"]).content.decode()
    assert "There are not enough credits for this turn" in page and "Nothing was charged" in page
    assert "insufficient_credits" not in page and "Nothing charged" in page
    assert "Tell me about lighthouses</textarea>" in page  # offered again, to retry after a top-up
    assert LedgerEntry.objects.count() == entries and not Generation.objects.exists()
    assert wallet_audit() == []


def test_a_refused_answer_says_why_and_is_not_sent_again(logged_in, owner, monkeypatch):
    def refuse(self, job):
        raise ContentFiltered("flagged: violence")

    thread, _ = start(logged_in)
    monkeypatch.setattr(SandboxAdapter, "submit", refuse)
    logged_in.post(f"/chat/{thread.pk}/send", {"prompt": "something bad"})
    failed = thread.turns.order_by("-created_at", "-id").first()
    assert failed.generation.status == "failed" and failed.generation.charged is None
    assert failed.error == "This message was refused by the content policy. Nothing was charged."
    page = logged_in.get(f"/chat/{thread.pk}/").content.decode()
    assert failed.error in page and "content_filtered" not in page and "flagged" not in page
    monkeypatch.undo()
    logged_in.post(f"/chat/{thread.pk}/send", {"prompt": "something else"})
    last = thread.turns.order_by("-created_at", "-id").first()
    assert [m["content"] for m in sent_messages(last) if m["role"] == "user"] == [
        "Tell me about lighthouses", "something else"]
    assert wallet_audit() == []


def test_a_rate_limited_stream_is_a_sentence_with_its_status(logged_in, monkeypatch):
    def busy(self, job):
        raise RateLimited("slow down", retry_after=20)
        yield  # a generator, like the real one

    monkeypatch.setattr(SandboxAdapter, "stream_chat", busy)
    response = logged_in.post(f"/models/{SLUG}/chat/stream", {"prompt": "hello"})
    body = response.content.decode()
    assert response.status_code == 502 and response["Content-Type"].startswith("text/event-stream")
    assert body.startswith("event: error\n") and "too many requests right now" in body and "20 seconds" in body
    assert "upstream" not in body.split("html")[0]
    assert Generation.objects.get().status == "failed"
    assert wallet_audit() == []


def test_the_stream_answers_event_stream_and_the_thread_keeps_the_answer(logged_in):
    response = logged_in.post(f"/models/{SLUG}/chat/stream", {"prompt": "Tell me about lighthouses"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/event-stream")
    body = stream_body(response)
    thread = ChatThread.objects.get()
    turn = thread.turns.get()
    events = [block.split("\n", 1)[0] for block in body.strip().split("\n\n")]
    assert events[0] == "event: turn" and events[-1] == "event: done" and events.count("event: delta") > 3
    assert f'"thread":"/chat/{thread.pk}/"' in body
    turn.generation.refresh_from_db()
    assert turn.generation.status == "succeeded" and turn.generation.charged > 0
    streamed = "".join(__import__("json").loads(block.split("data: ", 1)[1])["text"]
                       for block in body.strip().split("\n\n") if block.startswith("event: delta"))
    assert streamed == turn.generation.result_text
    page = logged_in.get(f"/chat/{thread.pk}/").content.decode()
    assert turn.generation.result_text.split()[0] in page and "Charged <strong>" in page

    # A follow-up over the stream sees the streamed answer.
    follow = logged_in.post(f"/chat/{thread.pk}/stream", {"prompt": "More, please"})
    stream_body(follow)
    second = thread.turns.order_by("-created_at", "-id").first()
    assert sent_messages(second)[1] == {"role": "assistant", "content": turn.generation.result_text}
    assert wallet_audit() == []


def test_a_browser_that_leaves_mid_stream_pays_for_what_came(logged_in):
    response = logged_in.post(f"/models/{SLUG}/chat/stream", {"prompt": "Tell me a long story about the sea"})
    chunks = iter(response.streaming_content)
    next(chunks), next(chunks)  # the turn event and the first piece
    leave(response)
    generation = ThreadTurn.objects.get().generation
    generation.refresh_from_db()
    assert generation.status == "succeeded" and generation.usage["finish_reason"] == "client_disconnected"
    assert generation.charged <= generation.price
    assert wallet_audit() == []


def test_an_empty_message_is_refused_by_the_form(logged_in):
    response = logged_in.post(f"/models/{SLUG}/chat", {"prompt": "  "})
    assert response.status_code == 400 and "Write a message first." in response.content.decode()
    assert not ChatThread.objects.exists()


@pytest.mark.parametrize("slug", ["sandbox-image"])
def test_only_text_models_chat(logged_in, slug):
    assert logged_in.post(f"/models/{slug}/chat", {"prompt": "hi"}).status_code == 404
